// RUN: compiler-opt %s -p fuse-ops | filecheck %s

// An anchor accumulates in its output buffer, so a cast after it starts its
// own group instead of joining the reduction's epilogue; the relu joins.
// CHECK:      %[[R:.*]] = graph.fused(%x) {kind = "reduction"} : (tensor<3x4xf32>) -> tensor<3x1xf32> {
// CHECK:        graph.reduce_sum
// CHECK-NEXT:   graph.relu
// CHECK-NEXT:   graph.yield
// CHECK:      graph.cast %[[R]] : (tensor<3x1xf32>) -> tensor<3x1xi64>
func.func @main(%x: tensor<3x4xf32>) -> tensor<3x1xi64> {
  %0 = graph.reduce_sum %x {axes = array<i64: 1>, keepdims = true} : (tensor<3x4xf32>) -> tensor<3x1xf32>
  %1 = graph.relu %0 : (tensor<3x1xf32>) -> tensor<3x1xf32>
  %2 = graph.cast %1 : (tensor<3x1xf32>) -> tensor<3x1xi64>
  func.return %2 : tensor<3x1xi64>
}
