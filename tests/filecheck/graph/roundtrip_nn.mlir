// RUN: compiler-opt %s | compiler-opt | filecheck %s
// RUN: compiler-opt %s --print-op-generic | compiler-opt | filecheck %s
// RUN: compiler-opt %s -o %t.1.mlir && compiler-opt %t.1.mlir -o %t.2.mlir && diff %t.1.mlir %t.2.mlir
// Round trip of conv (bias, groups, dilations), batch_norm, max_pool,
// avg_pool, lrn, matmul (batched, broadcast) and layer_norm (with and without bias).

func.func @nn(%x: tensor<1x4x8x8xf32>, %w: tensor<6x2x3x3xf32>, %b: tensor<6xf32>, %s: tensor<6xf32>, %a: tensor<2x3x4xf32>, %m: tensor<4x5xf32>, %ln: tensor<4xf32>) -> (tensor<1x6x4x4xf32>, tensor<1x6x4x4xf32>, tensor<1x6x2x2xf32>, tensor<2x3x5xf32>, tensor<2x3x4xf32>, tensor<1x6x4x4xf32>) {
  %0 = graph.conv %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<1x6x4x4xf32>
  %1 = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 2, 2>, group = 2 : i64} : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x4x4xf32>
  %2 = graph.batch_norm %0, %s, %b, %s, %s {epsilon = 1.0e-05 : f64} : (tensor<1x6x4x4xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<1x6x4x4xf32>
  %3 = graph.max_pool %2 {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x6x4x4xf32>) -> tensor<1x6x2x2xf32>
  %4 = graph.avg_pool %1 {kernel_shape = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 1, 1>, count_include_pad = false} : (tensor<1x6x4x4xf32>) -> tensor<1x6x4x4xf32>
  %5 = graph.lrn %4 {size = 3 : i64, alpha = 1.0e-04 : f64, beta = 0.75 : f64, bias = 1.0 : f64} : (tensor<1x6x4x4xf32>) -> tensor<1x6x4x4xf32>
  %6 = graph.matmul %a, %m : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<2x3x5xf32>
  %7 = graph.layer_norm %a, %ln, %ln {axis = 2 : i64, epsilon = 1.0e-05 : f64} : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  %8 = graph.layer_norm %7, %ln {axis = 1 : i64, epsilon = 1.0e-03 : f64} : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  func.return %0, %2, %3, %6, %8, %5 : tensor<1x6x4x4xf32>, tensor<1x6x4x4xf32>, tensor<1x6x2x2xf32>, tensor<2x3x5xf32>, tensor<2x3x4xf32>, tensor<1x6x4x4xf32>
}

// CHECK-LABEL: func.func @nn(%x: tensor<1x4x8x8xf32>, %w: tensor<6x2x3x3xf32>, %b: tensor<6xf32>, %s: tensor<6xf32>, %a: tensor<2x3x4xf32>, %m: tensor<4x5xf32>, %ln: tensor<4xf32>) -> (tensor<1x6x4x4xf32>, tensor<1x6x4x4xf32>, tensor<1x6x2x2xf32>, tensor<2x3x5xf32>, tensor<2x3x4xf32>, tensor<1x6x4x4xf32>) {
// CHECK-NEXT:  %0 = graph.conv %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<1x6x4x4xf32>
// CHECK-NEXT:  %1 = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 2, 2>, group = 2 : i64} : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x4x4xf32>
// CHECK-NEXT:  %2 = graph.batch_norm %0, %s, %b, %s, %s {epsilon = 1.000000e-05 : f64} : (tensor<1x6x4x4xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<1x6x4x4xf32>
// CHECK-NEXT:  %3 = graph.max_pool %2 {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x6x4x4xf32>) -> tensor<1x6x2x2xf32>
// CHECK-NEXT:  %4 = graph.avg_pool %1 {kernel_shape = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 1, 1>, count_include_pad = false} : (tensor<1x6x4x4xf32>) -> tensor<1x6x4x4xf32>
// CHECK-NEXT:  %5 = graph.lrn %4 {size = 3 : i64, alpha = 1.000000e-04 : f64, beta = 7.500000e-01 : f64, bias = 1.000000e+00 : f64} : (tensor<1x6x4x4xf32>) -> tensor<1x6x4x4xf32>
// CHECK-NEXT:  %6 = graph.matmul %a, %m : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<2x3x5xf32>
// CHECK-NEXT:  %7 = graph.layer_norm %a, %ln, %ln {axis = 2 : i64, epsilon = 1.000000e-05 : f64} : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
// CHECK-NEXT:  %8 = graph.layer_norm %7, %ln {axis = 1 : i64, epsilon = 1.000000e-03 : f64} : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
// CHECK-NEXT:  func.return %0, %2, %3, %6, %8, %5 : tensor<1x6x4x4xf32>, tensor<1x6x4x4xf32>, tensor<1x6x2x2xf32>, tensor<2x3x5xf32>, tensor<2x3x4xf32>, tensor<1x6x4x4xf32>
// CHECK-NEXT:  }
