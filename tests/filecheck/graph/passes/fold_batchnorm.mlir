// RUN: compiler-opt %s -p fold-batchnorm | filecheck %s
// RUN: compiler-opt %s -p 'fold-batchnorm{chains=false}' | filecheck %s --check-prefix=NOCHAIN

builtin.module {
  // conv + batch_norm -> one conv: w' = w * s, b' = (b - mean) * s + beta
  // with s = scale / sqrt(var + eps) = [0.5, 2].
  // CHECK-LABEL: func.func @conv_bn
  // CHECK-NEXT:    %[[W:.*]] = graph.constant dense<[[[[1.000000e+00]]], [[[6.000000e+00]]]]> : tensor<2x1x1x1xf32>
  // CHECK-NEXT:    %[[B:.*]] = graph.constant dense<[0.000000e+00, 1.000000e+00]> : tensor<2xf32>
  // CHECK-NEXT:    %[[Y:.*]] = graph.conv %x, %[[W]], %[[B]] {{.*}} -> tensor<1x2x2x2xf32>
  // CHECK-NEXT:    func.return %[[Y]]
  func.func @conv_bn(%x: tensor<1x1x2x2xf32>) -> tensor<1x2x2x2xf32> {
    %w = graph.constant dense<[[[[2.0]]], [[[3.0]]]]> : tensor<2x1x1x1xf32>
    %scale = graph.constant dense<[1.0, 2.0]> : tensor<2xf32>
    %beta = graph.constant dense<[0.5, 1.0]> : tensor<2xf32>
    %mean = graph.constant dense<[1.0, 0.0]> : tensor<2xf32>
    %var = graph.constant dense<[3.0, 0.0]> : tensor<2xf32>
    %c = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x2x2xf32>
    %y = graph.batch_norm %c, %scale, %beta, %mean, %var {epsilon = 1.0 : f64} : (tensor<1x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
    func.return %y : tensor<1x2x2x2xf32>
  }

  // An existing bias is rescaled too: b' = ([1, 1] - mean) * s + beta.
  // CHECK-LABEL: func.func @conv_bias_bn
  // CHECK-NEXT:    %[[W:.*]] = graph.constant dense<[[[[1.000000e+00]]], [[[6.000000e+00]]]]> : tensor<2x1x1x1xf32>
  // CHECK-NEXT:    %[[B:.*]] = graph.constant dense<[5.000000e-01, 3.000000e+00]> : tensor<2xf32>
  // CHECK-NEXT:    %[[Y:.*]] = graph.conv %x, %[[W]], %[[B]]
  // CHECK-NEXT:    func.return %[[Y]]
  func.func @conv_bias_bn(%x: tensor<1x1x2x2xf32>) -> tensor<1x2x2x2xf32> {
    %w = graph.constant dense<[[[[2.0]]], [[[3.0]]]]> : tensor<2x1x1x1xf32>
    %b = graph.constant dense<1.0> : tensor<2xf32>
    %scale = graph.constant dense<[1.0, 2.0]> : tensor<2xf32>
    %beta = graph.constant dense<[0.5, 1.0]> : tensor<2xf32>
    %mean = graph.constant dense<[1.0, 0.0]> : tensor<2xf32>
    %var = graph.constant dense<[3.0, 0.0]> : tensor<2xf32>
    %c = graph.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
    %y = graph.batch_norm %c, %scale, %beta, %mean, %var {epsilon = 1.0 : f64} : (tensor<1x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
    func.return %y : tensor<1x2x2x2xf32>
  }

  // batch_norm after a non-conv: x * s + (beta - mean * s), per channel.
  // CHECK-LABEL: func.func @relu_bn
  // CHECK-NEXT:    %[[R:.*]] = graph.relu %x
  // CHECK-NEXT:    %[[S:.*]] = graph.constant dense<[[[5.000000e-01]], [[2.000000e+00]]]> : tensor<2x1x1xf32>
  // CHECK-NEXT:    %[[T:.*]] = graph.constant dense<[[[0.000000e+00]], [[1.000000e+00]]]> : tensor<2x1x1xf32>
  // CHECK-NEXT:    %[[M:.*]] = graph.mul %[[R]], %[[S]] : (tensor<1x2x2x2xf32>, tensor<2x1x1xf32>) -> tensor<1x2x2x2xf32>
  // CHECK-NEXT:    %[[A:.*]] = graph.add %[[M]], %[[T]] : (tensor<1x2x2x2xf32>, tensor<2x1x1xf32>) -> tensor<1x2x2x2xf32>
  // CHECK-NEXT:    func.return %[[A]]
  func.func @relu_bn(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
    %scale = graph.constant dense<[1.0, 2.0]> : tensor<2xf32>
    %beta = graph.constant dense<[0.5, 1.0]> : tensor<2xf32>
    %mean = graph.constant dense<[1.0, 0.0]> : tensor<2xf32>
    %var = graph.constant dense<[3.0, 0.0]> : tensor<2xf32>
    %r = graph.relu %x : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
    %y = graph.batch_norm %r, %scale, %beta, %mean, %var {epsilon = 1.0 : f64} : (tensor<1x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
    func.return %y : tensor<1x2x2x2xf32>
  }

  // Not folded into a conv whose result has another user, nor into a conv
  // whose weight is not a constant: the batch norm becomes mul + add.
  // CHECK-LABEL: func.func @conv_not_foldable
  // CHECK-NEXT:    %[[W:.*]] = graph.constant dense<[[[[2.000000e+00]]], [[[3.000000e+00]]]]>
  // CHECK-NEXT:    %[[C:.*]] = graph.conv %x, %[[W]]
  // CHECK-NEXT:    %[[D:.*]] = graph.conv %x, %w2
  // CHECK:         %[[M:.*]] = graph.mul %[[C]], %{{.*}}
  // CHECK-NEXT:    graph.add %[[M]], %{{.*}}
  // CHECK:         %[[M2:.*]] = graph.mul %[[D]], %{{.*}}
  // CHECK-NEXT:    graph.add %[[M2]], %{{.*}}
  // CHECK-NOT:     graph.batch_norm
  // CHECK:         func.return
  func.func @conv_not_foldable(%x: tensor<1x1x2x2xf32>, %w2: tensor<2x1x1x1xf32>) -> (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) {
    %w = graph.constant dense<[[[[2.0]]], [[[3.0]]]]> : tensor<2x1x1x1xf32>
    %scale = graph.constant dense<[1.0, 2.0]> : tensor<2xf32>
    %beta = graph.constant dense<[0.5, 1.0]> : tensor<2xf32>
    %mean = graph.constant dense<[1.0, 0.0]> : tensor<2xf32>
    %var = graph.constant dense<[3.0, 0.0]> : tensor<2xf32>
    %c = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x2x2xf32>
    %d = graph.conv %x, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x2x2xf32>
    %y = graph.batch_norm %c, %scale, %beta, %mean, %var {epsilon = 1.0 : f64} : (tensor<1x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
    %z = graph.batch_norm %d, %scale, %beta, %mean, %var {epsilon = 1.0 : f64} : (tensor<1x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
    func.return %y, %c, %z : tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>
  }

  // Parameters that are not constants: the batch norm is spelled out in graph ops.
  // CHECK-LABEL: func.func @dynamic_params
  // CHECK:         %[[EPS:.*]] = graph.constant dense<1.000000e-05> : tensor<f32>
  // CHECK-NEXT:    %[[VE:.*]] = graph.add %var, %[[EPS]]
  // CHECK-NEXT:    %[[SD:.*]] = graph.sqrt %[[VE]]
  // CHECK-NEXT:    %[[INV:.*]] = graph.div %scale, %[[SD]]
  // CHECK-NEXT:    %[[MI:.*]] = graph.mul %mean, %[[INV]]
  // CHECK-NEXT:    %[[SH:.*]] = graph.sub %beta, %[[MI]]
  // CHECK-NEXT:    %[[INVR:.*]] = graph.reshape %[[INV]] : (tensor<2xf32>) -> tensor<2x1x1xf32>
  // CHECK-NEXT:    %[[SHR:.*]] = graph.reshape %[[SH]] : (tensor<2xf32>) -> tensor<2x1x1xf32>
  // CHECK-NEXT:    %[[M:.*]] = graph.mul %x, %[[INVR]]
  // CHECK-NEXT:    %[[A:.*]] = graph.add %[[M]], %[[SHR]]
  // CHECK-NEXT:    func.return %[[A]]
  func.func @dynamic_params(%x: tensor<1x2x2x2xf32>, %scale: tensor<2xf32>, %beta: tensor<2xf32>, %mean: tensor<2xf32>, %var: tensor<2xf32>) -> tensor<1x2x2x2xf32> {
    %y = graph.batch_norm %x, %scale, %beta, %mean, %var {epsilon = 1.0e-05 : f64} : (tensor<1x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
    func.return %y : tensor<1x2x2x2xf32>
  }

  // A 2-D matmul with a constant weight: the columns are scaled, the shift
  // becomes a bias add.
  // CHECK-LABEL: func.func @matmul_bn
  // CHECK-NEXT:    %[[W:.*]] = graph.constant dense<[[5.000000e-01, 2.000000e+00], [1.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>
  // CHECK-NEXT:    %[[B:.*]] = graph.constant dense<[0.000000e+00, 1.000000e+00]> : tensor<2xf32>
  // CHECK-NEXT:    %[[M:.*]] = graph.matmul %x, %[[W]]
  // CHECK-NEXT:    %[[A:.*]] = graph.add %[[M]], %[[B]] : (tensor<3x2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
  // CHECK-NEXT:    func.return %[[A]]
  func.func @matmul_bn(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
    %w = graph.constant dense<[[1.0, 1.0], [2.0, 2.0]]> : tensor<2x2xf32>
    %scale = graph.constant dense<[1.0, 2.0]> : tensor<2xf32>
    %beta = graph.constant dense<[0.5, 1.0]> : tensor<2xf32>
    %mean = graph.constant dense<[1.0, 0.0]> : tensor<2xf32>
    %var = graph.constant dense<[3.0, 0.0]> : tensor<2xf32>
    %m = graph.matmul %x, %w : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
    %y = graph.batch_norm %m, %scale, %beta, %mean, %var {epsilon = 1.0 : f64} : (tensor<3x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
    func.return %y : tensor<3x2xf32>
  }

  // A per-channel mul and add right after a conv (DenseNet's Unsqueeze + Mul
  // + Add) fold into its weight and bias; a spatially varying one does not.
  // CHECK-LABEL: func.func @conv_mul_add
  // CHECK-NEXT:    %[[P:.*]] = graph.constant dense<{{.*}}> : tensor<1x1x2x2xf32>
  // CHECK-NEXT:    %[[W:.*]] = graph.constant dense<[[[[4.000000e+00]]], [[[3.000000e+00]]]]> : tensor<2x1x1x1xf32>
  // CHECK-NEXT:    %[[B:.*]] = graph.constant dense<[1.000000e+00, -2.000000e+00]> : tensor<2xf32>
  // CHECK-NEXT:    %[[C:.*]] = graph.conv %x, %[[W]], %[[B]]
  // CHECK-NEXT:    %[[Y:.*]] = graph.mul %[[C]], %[[P]]
  // CHECK-NEXT:    func.return %[[Y]]
  func.func @conv_mul_add(%x: tensor<1x1x2x2xf32>) -> tensor<1x2x2x2xf32> {
    %w = graph.constant dense<[[[[2.0]]], [[[3.0]]]]> : tensor<2x1x1x1xf32>
    %s = graph.constant dense<[[[2.0]], [[1.0]]]> : tensor<2x1x1xf32>
    %t = graph.constant dense<[[[1.0]], [[-2.0]]]> : tensor<2x1x1xf32>
    %p = graph.constant dense<[[[[1.0, 2.0], [3.0, 4.0]]]]> : tensor<1x1x2x2xf32>
    %c = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x2x2xf32>
    %m = graph.mul %s, %c : (tensor<2x1x1xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
    %a = graph.add %m, %t : (tensor<1x2x2x2xf32>, tensor<2x1x1xf32>) -> tensor<1x2x2x2xf32>
    %y = graph.mul %a, %p : (tensor<1x2x2x2xf32>, tensor<1x1x2x2xf32>) -> tensor<1x2x2x2xf32>
    func.return %y : tensor<1x2x2x2xf32>
  }

  // A batch norm followed by a scale and a shift (DenseNet after a concat)
  // ends as one mul and one add: (x * s + t) * u + v = x * (s*u) + (t*u + v).
  // CHECK-LABEL: func.func @bn_mul_add
  // CHECK-NEXT:    %[[S:.*]] = graph.constant dense<[[[1.000000e+00]], [[6.000000e+00]]]> : tensor<2x1x1xf32>
  // CHECK-NEXT:    %[[M:.*]] = graph.mul %x, %[[S]]
  // CHECK-NEXT:    %[[T:.*]] = graph.constant dense<[[[1.000000e+00]], [[4.000000e+00]]]> : tensor<2x1x1xf32>
  // CHECK-NEXT:    %[[A:.*]] = graph.add %[[M]], %[[T]]
  // CHECK-NEXT:    func.return %[[A]]
  // chains=false (the precision pipeline): the batch norm still becomes a mul
  // and an add, but the constant scale and shift after it stay where they are.
  // NOCHAIN-LABEL: func.func @bn_mul_add
  // NOCHAIN-NOT:     graph.batch_norm
  // NOCHAIN:         %[[M:.*]] = graph.mul %x,
  // NOCHAIN:         %[[A:.*]] = graph.add %[[M]],
  // NOCHAIN:         %[[M2:.*]] = graph.mul %[[A]], %u
  // NOCHAIN-NEXT:    %[[A2:.*]] = graph.add %[[M2]], %v
  // NOCHAIN-NEXT:    func.return %[[A2]]
  func.func @bn_mul_add(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
    %scale = graph.constant dense<[1.0, 2.0]> : tensor<2xf32>
    %beta = graph.constant dense<[0.5, 1.0]> : tensor<2xf32>
    %mean = graph.constant dense<[1.0, 0.0]> : tensor<2xf32>
    %var = graph.constant dense<[3.0, 0.0]> : tensor<2xf32>
    %u = graph.constant dense<[[[2.0]], [[3.0]]]> : tensor<2x1x1xf32>
    %v = graph.constant dense<[[[1.0]], [[1.0]]]> : tensor<2x1x1xf32>
    %y = graph.batch_norm %x, %scale, %beta, %mean, %var {epsilon = 1.0 : f64} : (tensor<1x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
    %m = graph.mul %y, %u : (tensor<1x2x2x2xf32>, tensor<2x1x1xf32>) -> tensor<1x2x2x2xf32>
    %a = graph.add %m, %v : (tensor<1x2x2x2xf32>, tensor<2x1x1xf32>) -> tensor<1x2x2x2xf32>
    func.return %a : tensor<1x2x2x2xf32>
  }
}
