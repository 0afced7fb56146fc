// RUN: compiler-opt %s -p fold-constants | filecheck %s
// RUN: compiler-opt %s -p 'fold-constants{size-limit=4}' | filecheck %s --check-prefix=LIMIT

builtin.module {
  // A weight transform (Gemm's transB) and arithmetic on constants fold; ops
  // that read a function argument do not.
  // CHECK-LABEL: func.func @weights
  // CHECK-NEXT:    %[[WT:.*]] = graph.constant dense<[[1.000000e+00, 4.000000e+00], [2.000000e+00, 5.000000e+00], [3.000000e+00, 6.000000e+00]]> : tensor<3x2xf32>
  // CHECK-NEXT:    %[[Y:.*]] = graph.matmul %x, %[[WT]] : (tensor<4x3xf32>, tensor<3x2xf32>) -> tensor<4x2xf32>
  // CHECK-NEXT:    %[[C:.*]] = graph.constant dense<[3.000000e+00, 3.000000e+00, 5.000000e+00, 5.000000e+00]> : tensor<4xf32>
  // CHECK-NEXT:    %[[R:.*]] = graph.relu %x : (tensor<4x3xf32>) -> tensor<4x3xf32>
  // CHECK-NEXT:    func.return %[[Y]], %[[C]], %[[R]]
  // LIMIT-LABEL: func.func @weights
  // LIMIT:         graph.transpose
  // LIMIT-NOT:     graph.add
  // LIMIT:         graph.matmul
  func.func @weights(%x: tensor<4x3xf32>) -> (tensor<4x2xf32>, tensor<4xf32>, tensor<4x3xf32>) {
    %w = graph.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
    %wt = graph.transpose %w {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
    %y = graph.matmul %x, %wt : (tensor<4x3xf32>, tensor<3x2xf32>) -> tensor<4x2xf32>
    %a = graph.constant dense<[1.0, 1.0, 2.0, 2.0]> : tensor<4xf32>
    %b = graph.constant dense<[2.0, 2.0, 3.0, 3.0]> : tensor<4xf32>
    %c = graph.add %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    %r = graph.relu %x : (tensor<4x3xf32>) -> tensor<4x3xf32>
    func.return %y, %c, %r : tensor<4x2xf32>, tensor<4xf32>, tensor<4x3xf32>
  }

  // A shape subgraph: gather dims out of a shape, concat them, multiply, and
  // use the result as data; the whole chain folds to one i64 constant.
  // CHECK-LABEL: func.func @shapes
  // CHECK-NEXT:    %{{.*}} = graph.constant dense<[2, 12]> : tensor<2xi64>
  // CHECK-NEXT:    func.return
  func.func @shapes() -> tensor<2xi64> {
    %shape = graph.constant dense<[2, 3, 4]> : tensor<3xi64>
    %i0 = graph.constant dense<[0]> : tensor<1xi64>
    %i12 = graph.constant dense<[1, 2]> : tensor<2xi64>
    %d0 = graph.gather %shape, %i0 {axis = 0 : i64} : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
    %d12 = graph.gather %shape, %i12 {axis = 0 : i64} : (tensor<3xi64>, tensor<2xi64>) -> tensor<2xi64>
    %p = graph.reduce_prod %d12 {axes = array<i64: 0>, keepdims = 1 : i64} : (tensor<2xi64>) -> tensor<1xi64>
    %s = graph.concat %d0, %p {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
    func.return %s : tensor<2xi64>
  }

  // A splat result stays a splat; casts fold too.
  // CHECK-LABEL: func.func @splat
  // CHECK-NEXT:    %{{.*}} = graph.constant dense<5.000000e-01> : tensor<8x16xf32>
  // CHECK-NEXT:    %{{.*}} = graph.constant dense<[1, 0, 3]> : tensor<3xi32>
  // CHECK-NEXT:    func.return
  // LIMIT-LABEL: func.func @splat
  // LIMIT:         graph.broadcast_to
  func.func @splat() -> (tensor<8x16xf32>, tensor<3xi32>) {
    %h = graph.constant dense<0.5> : tensor<1xf32>
    %b = graph.broadcast_to %h : (tensor<1xf32>) -> tensor<8x16xf32>
    %f = graph.constant dense<[1.5, 0.25, 3.0]> : tensor<3xf32>
    %i = graph.cast %f : (tensor<3xf32>) -> tensor<3xi32>
    func.return %b, %i : tensor<8x16xf32>, tensor<3xi32>
  }

  // Not folded: an out-of-range gather is left for run time to report.
  // CHECK-LABEL: func.func @bad_gather
  // CHECK:         graph.gather
  func.func @bad_gather() -> tensor<1xf32> {
    %d = graph.constant dense<[1.0, 2.0]> : tensor<2xf32>
    %i = graph.constant dense<[5]> : tensor<1xi64>
    %g = graph.gather %d, %i {axis = 0 : i64} : (tensor<2xf32>, tensor<1xi64>) -> tensor<1xf32>
    func.return %g : tensor<1xf32>
  }
}
