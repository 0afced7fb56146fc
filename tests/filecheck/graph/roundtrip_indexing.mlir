// RUN: compiler-opt %s | compiler-opt | filecheck %s
// RUN: compiler-opt %s --print-op-generic | compiler-opt | filecheck %s
// Round trip of gather_elements, scatter_elements, topk_indices, cumsum, the
// inverse trigonometric/hyperbolic functions and the bitwise ops.

// CHECK-LABEL: func.func @indexing
// CHECK:         graph.gather_elements %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<3x4xf32>, tensor<3x2xi64>) -> tensor<3x2xf32>
// CHECK:         graph.scatter_elements %{{.*}}, %{{.*}}, %{{.*}} {axis = 1 : i64, reduction = "max"} : (tensor<3x4xf32>, tensor<3x2xi64>, tensor<3x2xf32>) -> tensor<3x4xf32>
// CHECK:         graph.topk_indices %{{.*}} {axis = 1 : i64, k = 2 : i64, largest = 0 : i64} : (tensor<3x4xf32>) -> tensor<3x2xi64>
// CHECK:         graph.cumsum %{{.*}} {axis = 0 : i64, exclusive = 1 : i64, reverse = 0 : i64} : (tensor<3x4xf32>) -> tensor<3x4xf32>
// CHECK:         graph.atanh %{{.*}} : (tensor<3x4xf32>) -> tensor<3x4xf32>
// CHECK:         graph.shift_right %{{.*}}, %{{.*}} : (tensor<3xui8>, tensor<3xui8>) -> tensor<3xui8>
// CHECK:         graph.bitwise_not %{{.*}} : (tensor<3xui8>) -> tensor<3xui8>
func.func @indexing(%x: tensor<3x4xf32>, %i: tensor<3x2xi64>, %u: tensor<3x2xf32>, %b: tensor<3xui8>) -> (tensor<3x2xf32>, tensor<3x4xf32>, tensor<3x2xi64>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3xui8>, tensor<3xui8>) {
  %0 = graph.gather_elements %x, %i {axis = 1 : i64} : (tensor<3x4xf32>, tensor<3x2xi64>) -> tensor<3x2xf32>
  %1 = graph.scatter_elements %x, %i, %u {axis = 1 : i64, reduction = "max"} : (tensor<3x4xf32>, tensor<3x2xi64>, tensor<3x2xf32>) -> tensor<3x4xf32>
  %2 = graph.topk_indices %x {axis = 1 : i64, k = 2 : i64, largest = 0 : i64} : (tensor<3x4xf32>) -> tensor<3x2xi64>
  %3 = graph.cumsum %x {axis = 0 : i64, exclusive = 1 : i64, reverse = 0 : i64} : (tensor<3x4xf32>) -> tensor<3x4xf32>
  %4 = graph.atanh %x : (tensor<3x4xf32>) -> tensor<3x4xf32>
  %5 = graph.shift_right %b, %b : (tensor<3xui8>, tensor<3xui8>) -> tensor<3xui8>
  %6 = graph.bitwise_not %b : (tensor<3xui8>) -> tensor<3xui8>
  func.return %0, %1, %2, %3, %4, %5, %6 : tensor<3x2xf32>, tensor<3x4xf32>, tensor<3x2xi64>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3xui8>, tensor<3xui8>
}
