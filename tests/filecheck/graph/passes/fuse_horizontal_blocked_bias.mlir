// RUN: compiler-opt %s -p fuse-horizontal | filecheck %s

// Blocked siblings, one without a bias: the missing bias counts as O = 2 x 16
// zeros (the packed weight's dim 0 counts blocks, not channels).
// CHECK:      %[[B:.*]] = graph.constant dense<{{.*}}> : tensor<48xf32>
// CHECK:      graph.conv %x, %{{.*}}, %[[B]] {{.*}} -> tensor<1x3x8x8x16xf32>
// CHECK-COUNT-2: graph.slice
func.func @main(%x: tensor<1x1x8x8x16xf32>) -> (tensor<1x1x8x8x16xf32>, tensor<1x2x8x8x16xf32>) {
  %w1 = graph.constant dense<1.0> : tensor<1x1x1x1x16x16xf32>
  %b1 = graph.constant dense<0.5> : tensor<16xf32>
  %w2 = graph.constant dense<2.0> : tensor<2x1x1x1x16x16xf32>
  %0 = graph.conv %x, %w1, %b1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, data_layout = "NCHW16c", kernel_layout = "OIHW16i16o", out_layout = "NCHW16c"} : (tensor<1x1x8x8x16xf32>, tensor<1x1x1x1x16x16xf32>, tensor<16xf32>) -> tensor<1x1x8x8x16xf32>
  %1 = graph.conv %x, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, data_layout = "NCHW16c", kernel_layout = "OIHW16i16o", out_layout = "NCHW16c"} : (tensor<1x1x8x8x16xf32>, tensor<2x1x1x1x16x16xf32>) -> tensor<1x2x8x8x16xf32>
  func.return %0, %1 : tensor<1x1x8x8x16xf32>, tensor<1x2x8x8x16xf32>
}
