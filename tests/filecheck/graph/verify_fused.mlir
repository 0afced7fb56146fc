// RUN: compiler-opt --split-input-file --verify-diagnostics %s | filecheck %s
// graph.fused: region arguments match the operands, graph.yield matches the
// results, and only graph ops live inside.

// region arguments differ from the operands
func.func @f(%x: tensor<2xf32>) {
  %y = graph.fused(%x) {kind = "injective"} : (tensor<2xf32>) -> tensor<2xf32> {
  ^bb0(%a: tensor<3xf32>):
    %n = graph.neg %a : (tensor<3xf32>) -> tensor<3xf32>
    graph.yield %n : tensor<3xf32>
  }
  func.return
}
// CHECK: Operation does not verify: region arguments must match the operand types

// -----

// graph.yield types differ from the results
func.func @f(%x: tensor<2xf32>) {
  %y = graph.fused(%x) {kind = "injective"} : (tensor<2xf32>) -> tensor<2xf32> {
  ^bb0(%a: tensor<2xf32>):
    %n = graph.less %a, %a : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xi1>
    graph.yield %n : tensor<2xi1>
  }
  func.return
}
// CHECK: Operation does not verify: graph.yield operand types must match the results

// -----

// a non-graph op inside
func.func @f(%x: tensor<2xf32>) {
  %y = graph.fused(%x) {kind = "injective"} : (tensor<2xf32>) -> tensor<2xf32> {
  ^bb0(%a: tensor<2xf32>):
    %c = arith.constant 1 : i32
    graph.yield %a : tensor<2xf32>
  }
  func.return
}
// CHECK: Operation does not verify: 'arith.constant' may not appear inside graph.fused

// -----

// graph.yield outside graph.fused
func.func @f(%x: tensor<2xf32>) -> tensor<2xf32> {
  graph.yield %x : tensor<2xf32>
}
// CHECK: Operation does not verify: 'graph.yield' expects parent op 'graph.fused'
