// RUN: compiler-opt %s -p 'graph-optimize{level=0}' | filecheck %s --check-prefix=LEVEL0
// RUN: compiler-opt %s -p 'graph-optimize{level=1}' | filecheck %s --check-prefix=LEVEL1
// RUN: compiler-opt --help | filecheck %s --check-prefix=HELP

// HELP:      optimization levels
// HELP-NEXT:   O0: (no graph passes)
// HELP-NEXT:   O1: fold-qdq, fold-constants, narrow-integer-conv, remove-identity, dce, cse, fold-batchnorm
// HELP-NEXT:   O2: O1 + {{.*}}fuse-ops{{.*}}plan-memory
// HELP-NEXT:   O3: O1 + {{.*}}convert-layout{layout=NCHW16c}{{.*}}plan-memory

builtin.module {
  // conv + batch_norm + relu, a Gemm-style transposed weight, an identity, a
  // duplicated constant and a dead op: level 1 leaves one conv with a bias,
  // one matmul with a folded weight and one bias add.
  // LEVEL0-LABEL: func.func @main
  // LEVEL0:         graph.batch_norm
  // LEVEL0:         graph.identity
  // LEVEL0:         graph.transpose
  // LEVEL1-LABEL: func.func @main
  // LEVEL1-NEXT:    %[[FB:.*]] = graph.constant dense<1.000000e+00> : tensor<3xf32>
  // LEVEL1-NEXT:    %[[W:.*]] = graph.constant dense<[[[[1.000000e+00]]], [[[6.000000e+00]]]]> : tensor<2x1x1x1xf32>
  // LEVEL1-NEXT:    %[[B:.*]] = graph.constant dense<[0.000000e+00, 1.000000e+00]> : tensor<2xf32>
  // LEVEL1-NEXT:    %[[C:.*]] = graph.conv %x, %[[W]], %[[B]]
  // LEVEL1-NEXT:    %[[R:.*]] = graph.relu %[[C]]
  // LEVEL1-NEXT:    %[[F:.*]] = graph.reshape %[[R]] : (tensor<1x2x2x2xf32>) -> tensor<1x8xf32>
  // LEVEL1-NEXT:    %[[FW:.*]] = graph.constant dense<2.500000e-01> : tensor<8x3xf32>
  // LEVEL1-NEXT:    %[[M:.*]] = graph.matmul %[[F]], %[[FW]]
  // LEVEL1-NEXT:    %[[Y:.*]] = graph.add %[[M]], %[[FB]]
  // LEVEL1-NEXT:    func.return %[[Y]]
  func.func @main(%x: tensor<1x1x2x2xf32>) -> tensor<1x3xf32> {
    %w = graph.constant dense<[[[[2.0]]], [[[3.0]]]]> : tensor<2x1x1x1xf32>
    %scale = graph.constant dense<[1.0, 2.0]> : tensor<2xf32>
    %beta = graph.constant dense<[0.5, 1.0]> : tensor<2xf32>
    %mean = graph.constant dense<[1.0, 0.0]> : tensor<2xf32>
    %var = graph.constant dense<[3.0, 0.0]> : tensor<2xf32>
    %fw = graph.constant dense<0.25> : tensor<3x8xf32>
    %fb = graph.constant dense<1.0> : tensor<3xf32>
    %fb2 = graph.constant dense<1.0> : tensor<3xf32>
    %c = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x2x2xf32>
    %n = graph.batch_norm %c, %scale, %beta, %mean, %var {epsilon = 1.0 : f64} : (tensor<1x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
    %r = graph.relu %n : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
    %i = graph.identity %r : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
    %f = graph.reshape %i : (tensor<1x2x2x2xf32>) -> tensor<1x8xf32>
    %fwt = graph.transpose %fw {perm = array<i64: 1, 0>} : (tensor<3x8xf32>) -> tensor<8x3xf32>
    %m = graph.matmul %f, %fwt : (tensor<1x8xf32>, tensor<8x3xf32>) -> tensor<1x3xf32>
    %dead = graph.add %m, %fb2 : (tensor<1x3xf32>, tensor<3xf32>) -> tensor<1x3xf32>
    %y = graph.add %m, %fb : (tensor<1x3xf32>, tensor<3xf32>) -> tensor<1x3xf32>
    func.return %y : tensor<1x3xf32>
  }
}
