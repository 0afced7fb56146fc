// RUN: compiler-opt %s | compiler-opt | filecheck %s
// RUN: compiler-opt %s --print-op-generic | compiler-opt | filecheck %s
// RUN: compiler-opt %s -o %t.1.mlir && compiler-opt %t.1.mlir -o %t.2.mlir && diff %t.1.mlir %t.2.mlir
// Round trip of blocked layouts: graph.layout_transform, and conv/pool ops
// carrying data_layout/kernel_layout/out_layout/layout.

func.func @blocked(%x: tensor<1x16x6x6xf32>, %w: tensor<32x16x3x3xf32>, %b: tensor<32xf32>) -> tensor<1x32x3x3xf32> {
  %xb = graph.layout_transform %x {src_layout = "NCHW", dst_layout = "NCHW8c"} : (tensor<1x16x6x6xf32>) -> tensor<1x2x6x6x8xf32>
  %wb = graph.reshape %w : (tensor<32x16x3x3xf32>) -> tensor<2x2x3x3x8x16xf32>
  %y = graph.conv %xb, %wb, %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64, data_layout = "NCHW8c", kernel_layout = "OIHW8i16o", out_layout = "NCHW16c"} : (tensor<1x2x6x6x8xf32>, tensor<2x2x3x3x8x16xf32>, tensor<32xf32>) -> tensor<1x2x6x6x16xf32>
  %p = graph.max_pool %y {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, layout = "NCHW16c"} : (tensor<1x2x6x6x16xf32>) -> tensor<1x2x3x3x16xf32>
  %q = graph.avg_pool %p {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, count_include_pad = false, layout = "NCHW16c"} : (tensor<1x2x3x3x16xf32>) -> tensor<1x2x3x3x16xf32>
  %r = graph.layout_transform %q {src_layout = "NCHW16c", dst_layout = "NCHW"} : (tensor<1x2x3x3x16xf32>) -> tensor<1x32x3x3xf32>
  func.return %r : tensor<1x32x3x3xf32>
}

// CHECK-LABEL: func.func @blocked(%x: tensor<1x16x6x6xf32>, %w: tensor<32x16x3x3xf32>, %b: tensor<32xf32>) -> tensor<1x32x3x3xf32> {
// CHECK-NEXT:  %xb = graph.layout_transform %x {src_layout = "NCHW", dst_layout = "NCHW8c"} : (tensor<1x16x6x6xf32>) -> tensor<1x2x6x6x8xf32>
// CHECK-NEXT:  %wb = graph.reshape %w : (tensor<32x16x3x3xf32>) -> tensor<2x2x3x3x8x16xf32>
// CHECK-NEXT:  %y = graph.conv %xb, %wb, %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64, data_layout = "NCHW8c", kernel_layout = "OIHW8i16o", out_layout = "NCHW16c"} : (tensor<1x2x6x6x8xf32>, tensor<2x2x3x3x8x16xf32>, tensor<32xf32>) -> tensor<1x2x6x6x16xf32>
// CHECK-NEXT:  %p = graph.max_pool %y {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, layout = "NCHW16c"} : (tensor<1x2x6x6x16xf32>) -> tensor<1x2x3x3x16xf32>
// CHECK-NEXT:  %q = graph.avg_pool %p {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, count_include_pad = false, layout = "NCHW16c"} : (tensor<1x2x3x3x16xf32>) -> tensor<1x2x3x3x16xf32>
// CHECK-NEXT:  %r = graph.layout_transform %q {src_layout = "NCHW16c", dst_layout = "NCHW"} : (tensor<1x2x3x3x16xf32>) -> tensor<1x32x3x3xf32>
// CHECK-NEXT:  func.return %r : tensor<1x32x3x3xf32>
// CHECK-NEXT:  }
