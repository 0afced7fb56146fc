// An op with no standard ONNX spelling is one line naming it and what to do, exit 1.
// RUN: not compiler-opt %s -t onnx 2>&1 | filecheck %s
// CHECK: compiler-opt: error: 'graph.non_zero' cannot be exported to ONNX: its result is padded to a static shape with a data-dependent count of real rows, which ONNX (and TensorRT) express as a dynamic shape; compile it with target='cpu' or 'cuda'
// CHECK-NOT: Traceback
// A module past the graph level cannot be exported.
// RUN: not compiler-opt %s -p plan-memory,convert-graph-to-loop -t onnx 2>&1 | filecheck %s --check-prefix=LOOP
// LOOP: compiler-opt: error: {{.*}}: -t onnx needs a graph-level module, and this one is at loop level; export before convert-graph-to-loop
func.func @main(%x: tensor<6xf32>) -> tensor<1x6xi64> {
  %n = graph.non_zero %x : (tensor<6xf32>) -> tensor<1x6xi64>
  func.return %n : tensor<1x6xi64>
}
