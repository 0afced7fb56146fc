// RUN: compiler-opt %s -p flatten-pointwise-conv --split-input-file | filecheck %s

// A grouped 1x1 NCHW conv runs on [N, C, 1, H*W]; the residual add and the
// relu after it move inside the reshape (their full-shape operand reshaped
// too, a broadcast [C, 1, 1] operand kept), so fuse-ops still fuses them.
// CHECK-LABEL: func.func @grouped_residual
// CHECK:      %[[X:.*]] = graph.reshape %x : (tensor<1x8x7x7xf32>) -> tensor<1x8x1x49xf32>
// CHECK-NEXT: %[[C:.*]] = graph.conv %[[X]], %w {{.*}}group = 2 : i64} : (tensor<1x8x1x49xf32>, tensor<8x4x1x1xf32>) -> tensor<1x8x1x49xf32>
// CHECK-NEXT: %[[Y:.*]] = graph.reshape %y : (tensor<1x8x7x7xf32>) -> tensor<1x8x1x49xf32>
// CHECK-NEXT: %[[A:.*]] = graph.add %[[C]], %[[Y]] : (tensor<1x8x1x49xf32>, tensor<1x8x1x49xf32>) -> tensor<1x8x1x49xf32>
// CHECK-NEXT: %[[M:.*]] = graph.mul %[[A]], %s : (tensor<1x8x1x49xf32>, tensor<8x1x1xf32>) -> tensor<1x8x1x49xf32>
// CHECK-NEXT: %[[R:.*]] = graph.relu %[[M]] : (tensor<1x8x1x49xf32>) -> tensor<1x8x1x49xf32>
// CHECK-NEXT: %[[B:.*]] = graph.reshape %[[R]] : (tensor<1x8x1x49xf32>) -> tensor<1x8x7x7xf32>
// CHECK-NEXT: func.return %[[B]]
func.func @grouped_residual(%x: tensor<1x8x7x7xf32>, %w: tensor<8x4x1x1xf32>, %y: tensor<1x8x7x7xf32>, %s: tensor<8x1x1xf32>) -> tensor<1x8x7x7xf32> {
  %0 = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x8x7x7xf32>, tensor<8x4x1x1xf32>) -> tensor<1x8x7x7xf32>
  %1 = graph.add %0, %y : (tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>) -> tensor<1x8x7x7xf32>
  %2 = graph.mul %1, %s : (tensor<1x8x7x7xf32>, tensor<8x1x1xf32>) -> tensor<1x8x7x7xf32>
  %3 = graph.relu %2 : (tensor<1x8x7x7xf32>) -> tensor<1x8x7x7xf32>
  func.return %3 : tensor<1x8x7x7xf32>
}

// -----

// A user with a second use of the conv's value stops the sinking: the
// reshape back comes right after the conv.
// CHECK-LABEL: func.func @two_uses
// CHECK:      graph.conv {{.*}} -> tensor<1x4x1x9xf32>
// CHECK-NEXT: %[[B:.*]] = graph.reshape {{.*}} -> tensor<1x4x3x3xf32>
// CHECK-NEXT: graph.relu %[[B]] : (tensor<1x4x3x3xf32>)
// CHECK-NEXT: graph.add %[[B]]
func.func @two_uses(%x: tensor<1x4x3x3xf32>, %w: tensor<4x4x1x1xf32>) -> tensor<1x4x3x3xf32> {
  %0 = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x3x3xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x3x3xf32>
  %1 = graph.relu %0 : (tensor<1x4x3x3xf32>) -> tensor<1x4x3x3xf32>
  %2 = graph.add %0, %1 : (tensor<1x4x3x3xf32>, tensor<1x4x3x3xf32>) -> tensor<1x4x3x3xf32>
  func.return %2 : tensor<1x4x3x3xf32>
}

// -----

// Not pointwise (3x3, stride 2, padded), blocked, or already one row: left alone.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT:  graph.reshape
func.func @left_alone(%x: tensor<1x4x8x8xf32>, %w3: tensor<4x4x3x3xf32>, %w1: tensor<4x4x1x1xf32>, %xb: tensor<1x1x8x8x16xf32>, %wb: tensor<1x1x1x1x16x16xf32>, %row: tensor<1x4x1x8xf32>) -> (tensor<1x4x8x8xf32>, tensor<1x4x4x4xf32>, tensor<1x4x10x10xf32>, tensor<1x1x8x8x16xf32>, tensor<1x4x1x8xf32>) {
  %0 = graph.conv %x, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32>
  %1 = graph.conv %x, %w1 {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x4x4xf32>
  %2 = graph.conv %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x10x10xf32>
  %3 = graph.conv %xb, %wb {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, data_layout = "NCHW16c", kernel_layout = "OIHW16i16o", out_layout = "NCHW16c"} : (tensor<1x1x8x8x16xf32>, tensor<1x1x1x1x16x16xf32>) -> tensor<1x1x8x8x16xf32>
  %4 = graph.conv %row, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x1x8xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x1x8xf32>
  func.return %0, %1, %2, %3, %4 : tensor<1x4x8x8xf32>, tensor<1x4x4x4xf32>, tensor<1x4x10x10xf32>, tensor<1x1x8x8x16xf32>, tensor<1x4x1x8xf32>
}
