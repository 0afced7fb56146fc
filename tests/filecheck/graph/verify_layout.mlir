// RUN: compiler-opt --split-input-file --verify-diagnostics %s | filecheck %s
// Blocked-layout verifiers: known layout names, channel counts that divide into
// blocks, and blocked shapes that match.

// an unknown data layout
func.func @f(%x: tensor<1x16x4x4xf32>) {
  %y = graph.layout_transform %x {src_layout = "NCHW", dst_layout = "NHWC"} : (tensor<1x16x4x4xf32>) -> tensor<1x4x4x16xf32>
  func.return
}
// CHECK: Operation does not verify: dst_layout: unknown data layout "NHWC" (expected "NCHW" or "NCHW<c>c")

// -----

// channels that do not divide into blocks
func.func @f(%x: tensor<1x12x4x4xf32>) {
  %y = graph.layout_transform %x {src_layout = "NCHW", dst_layout = "NCHW8c"} : (tensor<1x12x4x4xf32>) -> tensor<1x2x4x4x8xf32>
  func.return
}
// CHECK: Operation does not verify: graph.layout_transform: 12 channels do not divide into blocks of 8

// -----

// a blocked source of the wrong rank
func.func @f(%x: tensor<1x16x4x4xf32>) {
  %y = graph.layout_transform %x {src_layout = "NCHW8c", dst_layout = "NCHW"} : (tensor<1x16x4x4xf32>) -> tensor<1x16x4x4xf32>
  func.return
}
// CHECK: Operation does not verify: graph.layout_transform: layout NCHW8c needs a 5-D tensor, got rank 4

// -----

// an unknown kernel layout
func.func @f(%x: tensor<1x2x6x6x8xf32>, %w: tensor<2x2x3x3x8x16xf32>) {
  %y = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, data_layout = "NCHW8c", kernel_layout = "HWIO", out_layout = "NCHW16c"} : (tensor<1x2x6x6x8xf32>, tensor<2x2x3x3x8x16xf32>) -> tensor<1x2x4x4x16xf32>
  func.return
}
// CHECK: Operation does not verify: graph.conv: unknown kernel layout "HWIO" (expected "OIHW" or "OIHW<i>i<o>o")

// -----

// output channels that do not divide into out_layout blocks
func.func @f(%x: tensor<1x16x6x6xf32>, %w: tensor<24x16x3x3xf32>) {
  %y = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, out_layout = "NCHW16c"} : (tensor<1x16x6x6xf32>, tensor<24x16x3x3xf32>) -> tensor<1x2x4x4x16xf32>
  func.return
}
// CHECK: Operation does not verify: out_layout: 24 channels do not divide into blocks of 16

// -----

// a pool layout that does not match the input
func.func @f(%x: tensor<1x16x4x4xf32>) {
  %y = graph.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, layout = "NCHW16c"} : (tensor<1x16x4x4xf32>) -> tensor<1x16x3x3xf32>
  func.return
}
// CHECK: Operation does not verify: graph.max_pool: layout NCHW16c needs a 5-D tensor, got rank 4
