// RUN: compiler-opt --split-input-file %s -p fuse-horizontal | filecheck %s
// RUN: compiler-opt --split-input-file %s -p 'fuse-horizontal{require-same-epilogue=false}' | filecheck %s --check-prefix=ANY

// Three 1x1 convs of one batch-1 input (Inception): one conv with the weights
// and biases concatenated along the output channels (a missing bias is
// zeros), its shared ReLU applied once, then channel slices.
// CHECK-LABEL: func.func @main(%x: tensor<1x2x3x3xf32>)
// CHECK-NEXT:    %[[W:.*]] = graph.constant dense<[{{\[\[\[}}1.000000e+00]], {{\[\[}}2.000000e+00]]], {{\[\[\[}}3.000000e+00]], {{\[\[}}4.000000e+00]]], {{\[\[\[}}5.000000e+00]], {{\[\[}}6.000000e+00]]], {{\[\[\[}}7.000000e+00]], {{\[\[}}8.000000e+00]]]]> : tensor<4x2x1x1xf32>
// CHECK-NEXT:    %[[B:.*]] = graph.constant dense<[5.000000e-01, 1.500000e+00, 2.500000e+00, 0.000000e+00]> : tensor<4xf32>
// CHECK-NEXT:    %[[C:.*]] = graph.conv %x, %[[W]], %[[B]] {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x3x3xf32>, tensor<4x2x1x1xf32>, tensor<4xf32>) -> tensor<1x4x3x3xf32>
// CHECK-NEXT:    %[[R:.*]] = graph.relu %[[C]] : (tensor<1x4x3x3xf32>) -> tensor<1x4x3x3xf32>
// CHECK-NEXT:    %r1 = graph.slice %[[R]] {offsets = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1, 1, 1>} : (tensor<1x4x3x3xf32>) -> tensor<1x1x3x3xf32>
// CHECK-NEXT:    %r2 = graph.slice %[[R]] {offsets = array<i64: 0, 1, 0, 0>, strides = array<i64: 1, 1, 1, 1>} : (tensor<1x4x3x3xf32>) -> tensor<1x2x3x3xf32>
// CHECK-NEXT:    %r3 = graph.slice %[[R]] {offsets = array<i64: 0, 3, 0, 0>, strides = array<i64: 1, 1, 1, 1>} : (tensor<1x4x3x3xf32>) -> tensor<1x1x3x3xf32>
// CHECK-NEXT:    func.return %r1, %r2, %r3
func.func @main(%x: tensor<1x2x3x3xf32>) -> (tensor<1x1x3x3xf32>, tensor<1x2x3x3xf32>, tensor<1x1x3x3xf32>) {
  %w1 = graph.constant dense<[[[[1.0]], [[2.0]]]]> : tensor<1x2x1x1xf32>
  %b1 = graph.constant dense<[0.5]> : tensor<1xf32>
  %w2 = graph.constant dense<[[[[3.0]], [[4.0]]], [[[5.0]], [[6.0]]]]> : tensor<2x2x1x1xf32>
  %b2 = graph.constant dense<[1.5, 2.5]> : tensor<2xf32>
  %w3 = graph.constant dense<[[[[7.0]], [[8.0]]]]> : tensor<1x2x1x1xf32>
  %c1 = graph.conv %x, %w1, %b1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x3x3xf32>, tensor<1x2x1x1xf32>, tensor<1xf32>) -> tensor<1x1x3x3xf32>
  %r1 = graph.relu %c1 : (tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32>
  %c2 = graph.conv %x, %w2, %b2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x3x3xf32>, tensor<2x2x1x1xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32>
  %r2 = graph.relu %c2 : (tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
  %c3 = graph.conv %x, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x3x3xf32>, tensor<1x2x1x1xf32>) -> tensor<1x1x3x3xf32>
  %r3 = graph.relu %c3 : (tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32>
  func.return %r1, %r2, %r3 : tensor<1x1x3x3xf32>, tensor<1x2x3x3xf32>, tensor<1x1x3x3xf32>
}

// -----

// Different epilogues (relu / sigmoid) after a shared bias add: merging would
// take the relu and the sigmoid out of their convs' groups, so by default the
// convs stay apart. With require-same-epilogue=false they are merged: the
// per-channel bias add is concatenated and applied once, the slices are
// taken after it and feed the relu and the sigmoid.
// CHECK-LABEL: func.func @main(%x: tensor<1x2x3x3xf32>) -> (tensor<1x1x3x3xf32>, tensor<1x1x3x3xf32>)
// CHECK-NEXT:    graph.constant
// CHECK-NEXT:    graph.constant
// CHECK-NEXT:    graph.constant
// CHECK-NEXT:    graph.constant
// CHECK-NEXT:    %c1 = graph.conv %x, %w1
// CHECK-NEXT:    %d1 = graph.add %c1, %a1
// CHECK-NEXT:    %r1 = graph.relu %d1
// CHECK-NEXT:    %c2 = graph.conv %x, %w2
// ANY-LABEL: func.func @main(%x: tensor<1x2x3x3xf32>) -> (tensor<1x1x3x3xf32>, tensor<1x1x3x3xf32>)
// ANY-NEXT:    %[[W:.*]] = graph.constant {{.*}} : tensor<2x2x1x1xf32>
// ANY-NEXT:    %[[C:.*]] = graph.conv %x, %[[W]] {{.*}} -> tensor<1x2x3x3xf32>
// ANY-NEXT:    %[[A:.*]] = graph.constant dense<{{\[\[\[}}2.500000e-01]], {{\[\[}}7.500000e-01]]]> : tensor<2x1x1xf32>
// ANY-NEXT:    %[[D:.*]] = graph.add %[[C]], %[[A]] : (tensor<1x2x3x3xf32>, tensor<2x1x1xf32>) -> tensor<1x2x3x3xf32>
// ANY-NEXT:    %d1 = graph.slice %[[D]] {offsets = array<i64: 0, 0, 0, 0>
// ANY-NEXT:    %d2 = graph.slice %[[D]] {offsets = array<i64: 0, 1, 0, 0>
// ANY-NEXT:    %r1 = graph.relu %d1
// ANY-NEXT:    %r2 = graph.sigmoid %d2
// ANY-NEXT:    func.return %r1, %r2
func.func @main(%x: tensor<1x2x3x3xf32>) -> (tensor<1x1x3x3xf32>, tensor<1x1x3x3xf32>) {
  %w1 = graph.constant dense<1.0> : tensor<1x2x1x1xf32>
  %w2 = graph.constant dense<2.0> : tensor<1x2x1x1xf32>
  %a1 = graph.constant dense<[[[0.25]]]> : tensor<1x1x1xf32>
  %a2 = graph.constant dense<[[[0.75]]]> : tensor<1x1x1xf32>
  %c1 = graph.conv %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x3x3xf32>, tensor<1x2x1x1xf32>) -> tensor<1x1x3x3xf32>
  %d1 = graph.add %c1, %a1 : (tensor<1x1x3x3xf32>, tensor<1x1x1xf32>) -> tensor<1x1x3x3xf32>
  %r1 = graph.relu %d1 : (tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32>
  %c2 = graph.conv %x, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x3x3xf32>, tensor<1x2x1x1xf32>) -> tensor<1x1x3x3xf32>
  %d2 = graph.add %c2, %a2 : (tensor<1x1x3x3xf32>, tensor<1x1x1xf32>) -> tensor<1x1x3x3xf32>
  %r2 = graph.sigmoid %d2 : (tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32>
  func.return %r1, %r2 : tensor<1x1x3x3xf32>, tensor<1x1x3x3xf32>
}

// -----

// Not merged: different strides, different inputs, group != 1, a weight that
// is not a constant, and different kernel sizes.
// CHECK-LABEL: func.func @main(%x: tensor<1x2x4x4xf32>, %z: tensor<1x2x4x4xf32>, %wv: tensor<1x2x1x1xf32>)
// CHECK-NEXT:    %w = graph.constant
// CHECK-NEXT:    %wg = graph.constant
// CHECK-NEXT:    %w3 = graph.constant
// CHECK-NEXT:    %a = graph.conv %x, %w
// CHECK-NEXT:    %b = graph.conv %x, %w
// CHECK-NEXT:    %c = graph.conv %z, %w
// CHECK-NEXT:    %d = graph.conv %x, %wg
// CHECK-NEXT:    %e = graph.conv %x, %wv
// CHECK-NEXT:    %f = graph.conv %x, %w3
// CHECK-NEXT:    func.return
func.func @main(%x: tensor<1x2x4x4xf32>, %z: tensor<1x2x4x4xf32>, %wv: tensor<1x2x1x1xf32>) -> (tensor<1x1x4x4xf32>, tensor<1x1x2x2xf32>, tensor<1x1x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x2x2xf32>) {
  %w = graph.constant dense<1.0> : tensor<1x2x1x1xf32>
  %wg = graph.constant dense<1.0> : tensor<2x1x1x1xf32>
  %w3 = graph.constant dense<1.0> : tensor<1x2x3x3xf32>
  %a = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x1x1xf32>) -> tensor<1x1x4x4xf32>
  %b = graph.conv %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x1x1xf32>) -> tensor<1x1x2x2xf32>
  %c = graph.conv %z, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x1x1xf32>) -> tensor<1x1x4x4xf32>
  %d = graph.conv %x, %wg {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x2x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %e = graph.conv %x, %wv {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x1x1xf32>) -> tensor<1x1x4x4xf32>
  %f = graph.conv %x, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x3x3xf32>) -> tensor<1x1x2x2xf32>
  func.return %a, %b, %c, %d, %e, %f : tensor<1x1x4x4xf32>, tensor<1x1x2x2xf32>, tensor<1x1x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x2x2xf32>
}

// -----

// Batch 2: the channel slices would be copies, so the convs stay apart.
// CHECK-LABEL: func.func @main(%x: tensor<2x2x3x3xf32>)
// CHECK-NEXT:    %w1 = graph.constant
// CHECK-NEXT:    %w2 = graph.constant
// CHECK-NEXT:    %c1 = graph.conv %x, %w1
// CHECK-NEXT:    %c2 = graph.conv %x, %w2
// CHECK-NEXT:    func.return %c1, %c2
func.func @main(%x: tensor<2x2x3x3xf32>) -> (tensor<2x1x3x3xf32>, tensor<2x1x3x3xf32>) {
  %w1 = graph.constant dense<1.0> : tensor<1x2x1x1xf32>
  %w2 = graph.constant dense<2.0> : tensor<1x2x1x1xf32>
  %c1 = graph.conv %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<2x2x3x3xf32>, tensor<1x2x1x1xf32>) -> tensor<2x1x3x3xf32>
  %c2 = graph.conv %x, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<2x2x3x3xf32>, tensor<1x2x1x1xf32>) -> tensor<2x1x3x3xf32>
  func.return %c1, %c2 : tensor<2x1x3x3xf32>, tensor<2x1x3x3xf32>
}

// -----

// Q/K/V projections: matmuls sharing their left operand with constant right
// operands become one [4, 6] matmul; the per-projection bias adds are
// concatenated too; slices along the last dim. The matmul by a non-constant
// (%v) stays.
// CHECK-LABEL: func.func @main(%x: tensor<1x3x4xf32>, %v: tensor<4x2xf32>)
// CHECK-NEXT:    %[[W:.*]] = graph.constant dense<{{\[\[}}1.000000e+00, 1.000000e+00, 2.000000e+00, 2.000000e+00, 3.000000e+00, 3.000000e+00], {{.*}}]> : tensor<4x6xf32>
// CHECK-NEXT:    %[[M:.*]] = graph.matmul %x, %[[W]] : (tensor<1x3x4xf32>, tensor<4x6xf32>) -> tensor<1x3x6xf32>
// CHECK-NEXT:    %[[B:.*]] = graph.constant dense<[1.000000e-01, 2.000000e-01, 3.000000e-01, 4.000000e-01, 5.000000e-01, 6.000000e-01]> : tensor<6xf32>
// CHECK-NEXT:    %[[A:.*]] = graph.add %[[M]], %[[B]] : (tensor<1x3x6xf32>, tensor<6xf32>) -> tensor<1x3x6xf32>
// CHECK-NEXT:    %qb = graph.slice %[[A]] {offsets = array<i64: 0, 0, 0>, strides = array<i64: 1, 1, 1>} : (tensor<1x3x6xf32>) -> tensor<1x3x2xf32>
// CHECK-NEXT:    %kb = graph.slice %[[A]] {offsets = array<i64: 0, 0, 2>, strides = array<i64: 1, 1, 1>} : (tensor<1x3x6xf32>) -> tensor<1x3x2xf32>
// CHECK-NEXT:    %ub = graph.slice %[[A]] {offsets = array<i64: 0, 0, 4>, strides = array<i64: 1, 1, 1>} : (tensor<1x3x6xf32>) -> tensor<1x3x2xf32>
// CHECK-NEXT:    %o = graph.matmul %x, %v
// CHECK-NEXT:    func.return %qb, %kb, %ub, %o
func.func @main(%x: tensor<1x3x4xf32>, %v: tensor<4x2xf32>) -> (tensor<1x3x2xf32>, tensor<1x3x2xf32>, tensor<1x3x2xf32>, tensor<1x3x2xf32>) {
  %wq = graph.constant dense<1.0> : tensor<4x2xf32>
  %wk = graph.constant dense<2.0> : tensor<4x2xf32>
  %wv = graph.constant dense<3.0> : tensor<4x2xf32>
  %bq = graph.constant dense<[0.1, 0.2]> : tensor<2xf32>
  %bk = graph.constant dense<[0.3, 0.4]> : tensor<2xf32>
  %bv = graph.constant dense<[0.5, 0.6]> : tensor<2xf32>
  %q = graph.matmul %x, %wq : (tensor<1x3x4xf32>, tensor<4x2xf32>) -> tensor<1x3x2xf32>
  %qb = graph.add %q, %bq : (tensor<1x3x2xf32>, tensor<2xf32>) -> tensor<1x3x2xf32>
  %k = graph.matmul %x, %wk : (tensor<1x3x4xf32>, tensor<4x2xf32>) -> tensor<1x3x2xf32>
  %kb = graph.add %k, %bk : (tensor<1x3x2xf32>, tensor<2xf32>) -> tensor<1x3x2xf32>
  %u = graph.matmul %x, %wv : (tensor<1x3x4xf32>, tensor<4x2xf32>) -> tensor<1x3x2xf32>
  %ub = graph.add %u, %bv : (tensor<1x3x2xf32>, tensor<2xf32>) -> tensor<1x3x2xf32>
  %o = graph.matmul %x, %v : (tensor<1x3x4xf32>, tensor<4x2xf32>) -> tensor<1x3x2xf32>
  func.return %qb, %kb, %ub, %o : tensor<1x3x2xf32>, tensor<1x3x2xf32>, tensor<1x3x2xf32>, tensor<1x3x2xf32>
}

// -----

// Convs followed by batch norms with constant parameters and equal epsilon:
// one conv, one batch norm with the parameters concatenated.
// CHECK-LABEL: func.func @main(%x: tensor<1x2x3x3xf32>) -> (tensor<1x1x3x3xf32>, tensor<1x1x3x3xf32>)
// CHECK-NEXT:    %[[W:.*]] = graph.constant {{.*}} : tensor<2x2x1x1xf32>
// CHECK-NEXT:    %[[C:.*]] = graph.conv %x, %[[W]] {{.*}} -> tensor<1x2x3x3xf32>
// CHECK-NEXT:    %[[S:.*]] = graph.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK-NEXT:    %[[B:.*]] = graph.constant dense<0.000000e+00> : tensor<2xf32>
// CHECK-NEXT:    %[[M:.*]] = graph.constant dense<0.000000e+00> : tensor<2xf32>
// CHECK-NEXT:    %[[V:.*]] = graph.constant dense<1.000000e+00> : tensor<2xf32>
// CHECK-NEXT:    %[[N:.*]] = graph.batch_norm %[[C]], %[[S]], %[[B]], %[[M]], %[[V]] {epsilon = 1.000000e-05 : f64}
// CHECK-NEXT:    %n1 = graph.slice %[[N]] {offsets = array<i64: 0, 0, 0, 0>
// CHECK-NEXT:    %n2 = graph.slice %[[N]] {offsets = array<i64: 0, 1, 0, 0>
// CHECK-NEXT:    func.return %n1, %n2
func.func @main(%x: tensor<1x2x3x3xf32>) -> (tensor<1x1x3x3xf32>, tensor<1x1x3x3xf32>) {
  %w1 = graph.constant dense<1.0> : tensor<1x2x1x1xf32>
  %w2 = graph.constant dense<2.0> : tensor<1x2x1x1xf32>
  %s1 = graph.constant dense<[1.0]> : tensor<1xf32>
  %s2 = graph.constant dense<[2.0]> : tensor<1xf32>
  %z = graph.constant dense<[0.0]> : tensor<1xf32>
  %o = graph.constant dense<[1.0]> : tensor<1xf32>
  %c1 = graph.conv %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x3x3xf32>, tensor<1x2x1x1xf32>) -> tensor<1x1x3x3xf32>
  %n1 = graph.batch_norm %c1, %s1, %z, %z, %o {epsilon = 1.0e-05 : f64} : (tensor<1x1x3x3xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x3x3xf32>
  %c2 = graph.conv %x, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x3x3xf32>, tensor<1x2x1x1xf32>) -> tensor<1x1x3x3xf32>
  %n2 = graph.batch_norm %c2, %s2, %z, %z, %o {epsilon = 1.0e-05 : f64} : (tensor<1x1x3x3xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x3x3xf32>
  func.return %n1, %n2 : tensor<1x1x3x3xf32>, tensor<1x1x3x3xf32>
}

// -----

// Quantized convs (i8 weights, i32 bias, i32 result), as quantize_static's
// QDQ models leave them after fold-qdq: the wide bias keeps the biases' i32
// type, not the weights' i8, and a missing bias is i32 zeros.
// CHECK-LABEL: func.func @main(%x: tensor<1x2x3x3xi8>)
// CHECK-NEXT:    %[[W:.*]] = graph.constant dense<{{.*}}> : tensor<3x2x1x1xi8>
// CHECK-NEXT:    %[[B:.*]] = graph.constant dense<[1000, 0, 0]> : tensor<3xi32>
// CHECK-NEXT:    %[[C:.*]] = graph.conv %x, %[[W]], %[[B]] {{.*}} : (tensor<1x2x3x3xi8>, tensor<3x2x1x1xi8>, tensor<3xi32>) -> tensor<1x3x3x3xi32>
// CHECK-NEXT:    %c1 = graph.slice %[[C]] {{.*}} -> tensor<1x1x3x3xi32>
// CHECK-NEXT:    %c2 = graph.slice %[[C]] {{.*}} -> tensor<1x2x3x3xi32>
func.func @main(%x: tensor<1x2x3x3xi8>) -> (tensor<1x1x3x3xi32>, tensor<1x2x3x3xi32>) {
  %w1 = graph.constant dense<[[[[1]], [[2]]]]> : tensor<1x2x1x1xi8>
  %b1 = graph.constant dense<[1000]> : tensor<1xi32>
  %w2 = graph.constant dense<[[[[3]], [[4]]], [[[5]], [[6]]]]> : tensor<2x2x1x1xi8>
  %c1 = graph.conv %x, %w1, %b1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x3x3xi8>, tensor<1x2x1x1xi8>, tensor<1xi32>) -> tensor<1x1x3x3xi32>
  %c2 = graph.conv %x, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x3x3xi8>, tensor<2x2x1x1xi8>) -> tensor<1x2x3x3xi32>
  func.return %c1, %c2 : tensor<1x1x3x3xi32>, tensor<1x2x3x3xi32>
}
