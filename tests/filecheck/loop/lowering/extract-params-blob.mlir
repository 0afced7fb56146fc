// RUN: compiler-opt %s -p 'plan-memory,convert-graph-to-loop,extract-params{out="%t.params"}' | filecheck %s
// RUN: %python -c "import sys, numpy as np; d = open(sys.argv[1], 'rb').read(); print('blob', len(d), np.frombuffer(d[:24], np.float32).tolist(), set(d[24:64]), np.frombuffer(d[64:88], np.int64).tolist(), list(d[128:]))" %t.params | filecheck %s --check-prefix=BLOB

// `extract-params{out=path}` writes the params blob: each weight's bytes in
// order of first use, little-endian, zero-padded to 64-byte boundaries; the
// i1 weight as one byte per element. The offsets match the views in @main.

// CHECK:       func.func @main(
// CHECK-SAME:      %params: memref<131xi8> {graph.name = "params"}
// CHECK:         memref.view %params[%{{.*}}][] : memref<131xi8> to memref<2x3xf32>
// CHECK:         memref.view %params[%{{.*}}][] : memref<131xi8> to memref<3xi64>
// CHECK:         memref.view %params[%{{.*}}][] : memref<131xi8> to memref<3xi8>

// BLOB: blob 131 [1.0, 2.0, 3.0, 4.0, 5.0, 6.0] {0} [7, 8, 9] [1, 0, 1]
func.func @main(%x: tensor<2x3xf32> {graph.name = "x"}, %c: tensor<3xf32> {graph.name = "c"}) -> (tensor<2x3xf32> {graph.name = "y"}) {
  %w = graph.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %v = graph.constant dense<[7, 8, 9]> : tensor<3xi64>
  %m = graph.constant dense<[true, false, true]> : tensor<3xi1>
  %a = graph.add %x, %w : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %f = graph.cast %v : (tensor<3xi64>) -> tensor<3xf32>
  %s = graph.where %m, %f, %c : (tensor<3xi1>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %y = graph.add %a, %s : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  func.return %y : tensor<2x3xf32>
}
