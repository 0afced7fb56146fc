// RUN: not compiler-opt %s -p extract-params 2>&1 | filecheck %s
// RUN: not compiler-opt %s -p plan-memory,convert-graph-to-loop,extract-params,extract-params 2>&1 | filecheck %s --check-prefix=TWICE

// extract-params works on the loop-level @main only, and once.
// CHECK: compiler-opt: error: extract-params needs the loop-level @main over memrefs; run it after convert-graph-to-loop
// TWICE: compiler-opt: error: extract-params already ran on this module
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = graph.relu %x : (tensor<4xf32>) -> tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
