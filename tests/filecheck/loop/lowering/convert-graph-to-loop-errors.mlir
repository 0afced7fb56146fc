// convert-graph-to-loop needs the memory plan: without plan-memory it stops
// with a one-line error that says what to run, instead of a traceback.
// Each RUN line puts its own function attributes in place of ATTRS.

// RUN: sed -e 's/ATTRS//' %s | not compiler-opt -p convert-graph-to-loop 2>&1 | filecheck %s --check-prefix=NOPLAN
// NOPLAN: compiler-opt: error: convert-graph-to-loop needs a memory plan; run plan-memory first
// NOPLAN-NOT: Traceback

// An arena size without offsets (a plan cut short, or a hand-edited one):
// the first op without an offset is named.
// RUN: sed -e 's/ATTRS/attributes {graph.arena_bytes = 128 : i64}/' %s | not compiler-opt -p convert-graph-to-loop 2>&1 | filecheck %s --check-prefix=NOOFFSET
// NOOFFSET: compiler-opt: error: graph.transpose has no arena offset; run plan-memory before convert-graph-to-loop

// No @main to lower.
// RUN: sed -e 's/ATTRS//' -e 's/@main/@model/' %s | not compiler-opt -p plan-memory,convert-graph-to-loop 2>&1 | filecheck %s --check-prefix=NOMAIN
// NOMAIN: compiler-opt: error: {{.*}}no func.func @main

// With the plan it lowers.
// RUN: sed -e 's/ATTRS//' %s | compiler-opt -p plan-memory,convert-graph-to-loop | filecheck %s --check-prefix=OK
// OK:      func.func @main(%x: memref<4x4xf32>, %out: memref<4x4xf32>, %arena: memref<64xi8> {graph.name = "arena"})
// OK:        func.call @transpose_0(%x,
// OK:        func.call @exp_0(
// OK-NOT:    func.call @reshape
// OK:        func.call @transpose_0({{.*}}, %out)
func.func @main(%x: tensor<4x4xf32>) -> tensor<4x4xf32> ATTRS {
  %a = graph.transpose %x {perm = array<i64: 1, 0>} : (tensor<4x4xf32>) -> tensor<4x4xf32>
  %b = graph.exp %a : (tensor<4x4xf32>) -> tensor<4x4xf32>
  %r = graph.reshape %b : (tensor<4x4xf32>) -> tensor<16xf32>
  %s = graph.reshape %r : (tensor<16xf32>) -> tensor<4x4xf32>
  %t = graph.transpose %s {perm = array<i64: 1, 0>} : (tensor<4x4xf32>) -> tensor<4x4xf32>
  func.return %t : tensor<4x4xf32>
}
