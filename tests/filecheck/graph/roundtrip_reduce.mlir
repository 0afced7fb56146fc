// RUN: compiler-opt %s | compiler-opt | filecheck %s
// RUN: compiler-opt %s --print-op-generic | compiler-opt | filecheck %s
// RUN: compiler-opt %s -o %t.1.mlir && compiler-opt %t.1.mlir -o %t.2.mlir && diff %t.1.mlir %t.2.mlir
// Round trip of the reductions: reduce_{sum,mean,max,min,prod} (keepdims both
// ways, all axes, no axes), argmax/argmin, softmax and log_softmax.

func.func @reductions(%x: tensor<2x3x4xf32>, %i: tensor<2x3xi64>) -> (tensor<2x1x4xf32>, tensor<3xf32>, tensor<f32>, tensor<2x3x4xf32>, tensor<1x3xi64>, tensor<2x1xi64>, tensor<3x4xi64>) {
  %0 = graph.reduce_sum %x {axes = array<i64: 1>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
  %1 = graph.reduce_mean %x {axes = array<i64: 0, 2>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<3xf32>
  %2 = graph.reduce_max %x {axes = array<i64: 0, 1, 2>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<f32>
  %3 = graph.reduce_min %x {axes = array<i64>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %4 = graph.reduce_prod %i {axes = array<i64: 0>, keepdims = true} : (tensor<2x3xi64>) -> tensor<1x3xi64>
  %5 = graph.argmax %x {axis = 0 : i64, keepdims = false, select_last_index = false} : (tensor<2x3x4xf32>) -> tensor<3x4xi64>
  %6 = graph.argmin %i {axis = 1 : i64, keepdims = true, select_last_index = true} : (tensor<2x3xi64>) -> tensor<2x1xi64>
  %7 = graph.softmax %x {axis = 2 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %8 = graph.log_softmax %7 {axis = 0 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  func.return %0, %1, %2, %8, %4, %6, %5 : tensor<2x1x4xf32>, tensor<3xf32>, tensor<f32>, tensor<2x3x4xf32>, tensor<1x3xi64>, tensor<2x1xi64>, tensor<3x4xi64>
}

// CHECK-LABEL: func.func @reductions(%x: tensor<2x3x4xf32>, %i: tensor<2x3xi64>) -> (tensor<2x1x4xf32>, tensor<3xf32>, tensor<f32>, tensor<2x3x4xf32>, tensor<1x3xi64>, tensor<2x1xi64>, tensor<3x4xi64>) {
// CHECK-NEXT:  %0 = graph.reduce_sum %x {axes = array<i64: 1>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
// CHECK-NEXT:  %1 = graph.reduce_mean %x {axes = array<i64: 0, 2>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<3xf32>
// CHECK-NEXT:  %2 = graph.reduce_max %x {axes = array<i64: 0, 1, 2>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<f32>
// CHECK-NEXT:  %3 = graph.reduce_min %x {axes = array<i64>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
// CHECK-NEXT:  %4 = graph.reduce_prod %i {axes = array<i64: 0>, keepdims = true} : (tensor<2x3xi64>) -> tensor<1x3xi64>
// CHECK-NEXT:  %5 = graph.argmax %x {axis = 0 : i64, keepdims = false, select_last_index = false} : (tensor<2x3x4xf32>) -> tensor<3x4xi64>
// CHECK-NEXT:  %6 = graph.argmin %i {axis = 1 : i64, keepdims = true, select_last_index = true} : (tensor<2x3xi64>) -> tensor<2x1xi64>
// CHECK-NEXT:  %7 = graph.softmax %x {axis = 2 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
// CHECK-NEXT:  %8 = graph.log_softmax %7 {axis = 0 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
// CHECK-NEXT:  func.return %0, %1, %2, %8, %4, %6, %5 : tensor<2x1x4xf32>, tensor<3xf32>, tensor<f32>, tensor<2x3x4xf32>, tensor<1x3xi64>, tensor<2x1xi64>, tensor<3x4xi64>
// CHECK-NEXT:  }
