// RUN: compiler-opt %s -p explicit-padding --split-input-file | filecheck %s

// A padded NCHW conv reads a graph.pad of its input and pads no more.
// CHECK-LABEL: func.func @nchw
// CHECK:      %[[P:.*]] = graph.pad %x {pads = array<i64: 0, 0, 1, 2, 0, 0, 3, 4>, mode = "constant", value = 0.000000e+00 : f64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x12x14xf32>
// CHECK-NEXT: graph.conv %[[P]], %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x12x14xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x10x12xf32>
func.func @nchw(%x: tensor<1x4x8x8xf32>, %w: tensor<4x4x3x3xf32>) -> tensor<1x4x10x12xf32> {
  %0 = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 2, 3, 4>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x10x12xf32>
  func.return %0 : tensor<1x4x10x12xf32>
}

// -----

// Blocked layouts pad dims 2 and 3 of the 5-D tensor; the bias stays.
// CHECK-LABEL: func.func @blocked
// CHECK:      %[[P:.*]] = graph.pad %x {pads = array<i64: 0, 0, 1, 1, 0, 0, 0, 1, 1, 0>
// CHECK-SAME: -> tensor<1x1x10x10x16xf32>
// CHECK-NEXT: graph.conv %[[P]], %w, %b {{.*}}pads = array<i64: 0, 0, 0, 0>{{.*}}data_layout = "NCHW16c"
func.func @blocked(%x: tensor<1x1x8x8x16xf32>, %w: tensor<1x1x3x3x16x16xf32>, %b: tensor<16xf32>) -> tensor<1x1x8x8x16xf32> {
  %0 = graph.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64, data_layout = "NCHW16c", kernel_layout = "OIHW16i16o", out_layout = "NCHW16c"} : (tensor<1x1x8x8x16xf32>, tensor<1x1x3x3x16x16xf32>, tensor<16xf32>) -> tensor<1x1x8x8x16xf32>
  func.return %0 : tensor<1x1x8x8x16xf32>
}

// -----

// Unpadded convs are left alone.
// CHECK-LABEL: func.func @unpadded
// CHECK-NOT:  graph.pad
func.func @unpadded(%x: tensor<1x4x8x8xf32>, %w: tensor<4x4x1x1xf32>) -> tensor<1x4x8x8xf32> {
  %0 = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x8x8xf32>
  func.return %0 : tensor<1x4x8x8xf32>
}

// -----

// A float max pool pads with -inf (padding never wins) in its own graph.pad;
// an integer one, a blocked one (it vectorizes over the channel lanes) and an
// average pool (its divisor counts the padding) keep theirs.
// CHECK-LABEL: func.func @pools
// CHECK:      %[[P:.*]] = graph.pad %x {pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>, mode = "constant", value = 0xfff0000000000000 : f64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x10x10xf32>
// CHECK-NEXT: graph.max_pool %[[P]] {{.*}}pads = array<i64: 0, 0, 0, 0>{{.*}} : (tensor<1x4x10x10xf32>) -> tensor<1x4x4x4xf32>
// CHECK-NEXT: graph.max_pool %xi {{.*}}pads = array<i64: 1, 1, 1, 1>
// CHECK-NEXT: graph.avg_pool %x {{.*}}pads = array<i64: 1, 1, 1, 1>
// CHECK-NEXT: graph.max_pool %xb {{.*}}pads = array<i64: 1, 1, 1, 1>
func.func @pools(%x: tensor<1x4x8x8xf32>, %xi: tensor<1x4x8x8xi8>, %xb: tensor<1x1x8x8x16xf32>) -> (tensor<1x4x4x4xf32>, tensor<1x4x4x4xi8>, tensor<1x4x4x4xf32>, tensor<1x1x4x4x16xf32>) {
  %0 = graph.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>
  %1 = graph.max_pool %xi {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x4x8x8xi8>) -> tensor<1x4x4x4xi8>
  %2 = graph.avg_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, count_include_pad = 0 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>
  %3 = graph.max_pool %xb {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, layout = "NCHW16c"} : (tensor<1x1x8x8x16xf32>) -> tensor<1x1x4x4x16xf32>
  func.return %0, %1, %2, %3 : tensor<1x4x4x4xf32>, tensor<1x4x4x4xi8>, tensor<1x4x4x4xf32>, tensor<1x1x4x4x16xf32>
}
