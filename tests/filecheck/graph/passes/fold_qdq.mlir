// RUN: compiler-opt %s -p fold-qdq,dce | filecheck %s

builtin.module {
  // DQ -> conv -> Q: an int32 conv of the integer operands with the int32 bias
  // (its scale is sx * sw), then one float32 multiplier sx * sw / sy per channel.
  // CHECK-LABEL: func.func @qdq_conv
  // CHECK-NEXT:    %xi = graph.cast %xq : (tensor<1x2x3x3xi8>) -> tensor<1x2x3x3xi32>
  // CHECK:         %[[ACC:.*]] = graph.conv %xi, %wi, %bq {{.*}} : (tensor<1x2x3x3xi32>, tensor<2x2x1x1xi32>, tensor<2xi32>) -> tensor<1x2x3x3xi32>
  // CHECK-NEXT:    %[[F:.*]] = graph.cast %[[ACC]] : (tensor<1x2x3x3xi32>) -> tensor<1x2x3x3xf32>
  // CHECK-NEXT:    %[[M:.*]] = graph.constant dense<{{\[\[\[\[}}5.000000e-01]], {{\[\[}}2.500000e-01]]]]> : tensor<1x2x1x1xf32>
  // CHECK-NEXT:    %[[S:.*]] = graph.mul %[[F]], %[[M]]
  // CHECK-NEXT:    %r = graph.round %[[S]]
  // CHECK-NOT:     graph.div
  func.func @qdq_conv(%xq: tensor<1x2x3x3xi8>) -> tensor<1x2x3x3xi8> {
    %xi = graph.cast %xq : (tensor<1x2x3x3xi8>) -> tensor<1x2x3x3xi32>
    %xf = graph.cast %xi : (tensor<1x2x3x3xi32>) -> tensor<1x2x3x3xf32>
    %sx = graph.constant dense<0.5> : tensor<f32>
    %x = graph.mul %xf, %sx : (tensor<1x2x3x3xf32>, tensor<f32>) -> tensor<1x2x3x3xf32>
    %wq = graph.constant dense<[[[[1]], [[-2]]], [[[3]], [[4]]]]> : tensor<2x2x1x1xi8>
    %wi = graph.cast %wq : (tensor<2x2x1x1xi8>) -> tensor<2x2x1x1xi32>
    %wf = graph.cast %wi : (tensor<2x2x1x1xi32>) -> tensor<2x2x1x1xf32>
    %sw = graph.constant dense<[[[[0.25]]], [[[0.125]]]]> : tensor<2x1x1x1xf32>
    %w = graph.mul %wf, %sw : (tensor<2x2x1x1xf32>, tensor<2x1x1x1xf32>) -> tensor<2x2x1x1xf32>
    %bq = graph.constant dense<[8, -16]> : tensor<2xi32>
    %bf = graph.cast %bq : (tensor<2xi32>) -> tensor<2xf32>
    %sb = graph.constant dense<[0.125, 0.0625]> : tensor<2xf32>
    %b = graph.mul %bf, %sb : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    %c = graph.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x3x3xf32>, tensor<2x2x1x1xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32>
    %sy = graph.constant dense<0.25> : tensor<f32>
    %d = graph.div %c, %sy : (tensor<1x2x3x3xf32>, tensor<f32>) -> tensor<1x2x3x3xf32>
    %r = graph.round %d : (tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
    %k = graph.clip %r {min = -128.0 : f64, max = 127.0 : f64} : (tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
    %y = graph.cast %k : (tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xi8>
    func.return %y : tensor<1x2x3x3xi8>
  }

  // A bias whose scale is not sx * sw stays float, added after the scaling.
  // CHECK-LABEL: func.func @float_bias
  // CHECK:         %[[ACC:.*]] = graph.conv %xi, %wi {{.*}} -> tensor<1x2x3x3xi32>
  // CHECK-NEXT:    %[[B:.*]] = graph.reshape %b : (tensor<2xf32>) -> tensor<1x2x1x1xf32>
  // CHECK-NEXT:    %[[F:.*]] = graph.cast %[[ACC]]
  // CHECK-NEXT:    %[[M:.*]] = graph.constant dense<{{\[\[\[\[}}1.250000e-01]], {{\[\[}}6.250000e-02]]]]>
  // CHECK-NEXT:    %[[S:.*]] = graph.mul %[[F]], %[[M]]
  // CHECK-NEXT:    %[[Y:.*]] = graph.add %[[S]], %[[B]]
  // CHECK-NEXT:    func.return %[[Y]]
  func.func @float_bias(%xq: tensor<1x2x3x3xi8>) -> tensor<1x2x3x3xf32> {
    %xi = graph.cast %xq : (tensor<1x2x3x3xi8>) -> tensor<1x2x3x3xi32>
    %xf = graph.cast %xi : (tensor<1x2x3x3xi32>) -> tensor<1x2x3x3xf32>
    %sx = graph.constant dense<0.5> : tensor<f32>
    %x = graph.mul %xf, %sx : (tensor<1x2x3x3xf32>, tensor<f32>) -> tensor<1x2x3x3xf32>
    %wq = graph.constant dense<[[[[1]], [[-2]]], [[[3]], [[4]]]]> : tensor<2x2x1x1xi8>
    %wi = graph.cast %wq : (tensor<2x2x1x1xi8>) -> tensor<2x2x1x1xi32>
    %wf = graph.cast %wi : (tensor<2x2x1x1xi32>) -> tensor<2x2x1x1xf32>
    %sw = graph.constant dense<[[[[0.25]]], [[[0.125]]]]> : tensor<2x1x1x1xf32>
    %w = graph.mul %wf, %sw : (tensor<2x2x1x1xf32>, tensor<2x1x1x1xf32>) -> tensor<2x2x1x1xf32>
    %b = graph.constant dense<[1.5, -0.75]> : tensor<2xf32>
    %c = graph.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x3x3xf32>, tensor<2x2x1x1xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32>
    func.return %c : tensor<1x2x3x3xf32>
  }

  // DQ -> matmul with per-column weight scales: int32 matmul, multiplier sa * sb[n].
  // CHECK-LABEL: func.func @qdq_matmul
  // CHECK:         %[[ACC:.*]] = graph.matmul %ai, %bi : (tensor<2x3xi32>, tensor<3x2xi32>) -> tensor<2x2xi32>
  // CHECK-NEXT:    %[[F:.*]] = graph.cast %[[ACC]] : (tensor<2x2xi32>) -> tensor<2x2xf32>
  // CHECK-NEXT:    %[[M:.*]] = graph.constant dense<[5.000000e-01, 1.000000e+00]> : tensor<2xf32>
  // CHECK-NEXT:    %[[S:.*]] = graph.mul %[[F]], %[[M]]
  // CHECK-NEXT:    func.return %[[S]]
  func.func @qdq_matmul(%aq: tensor<2x3xui8>, %bi: tensor<3x2xi32>) -> tensor<2x2xf32> {
    %aq32 = graph.cast %aq : (tensor<2x3xui8>) -> tensor<2x3xi32>
    %za = graph.constant dense<128> : tensor<i32>
    %ai = graph.sub %aq32, %za : (tensor<2x3xi32>, tensor<i32>) -> tensor<2x3xi32>
    %af = graph.cast %ai : (tensor<2x3xi32>) -> tensor<2x3xf32>
    %sa = graph.constant dense<2.0> : tensor<f32>
    %a = graph.mul %af, %sa : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
    %bf = graph.cast %bi : (tensor<3x2xi32>) -> tensor<3x2xf32>
    %sb = graph.constant dense<[0.25, 0.5]> : tensor<2xf32>
    %b = graph.mul %bf, %sb : (tensor<3x2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
    %y = graph.matmul %a, %b : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
    func.return %y : tensor<2x2xf32>
  }

  // A float activation (no dequantization) is left alone.
  // CHECK-LABEL: func.func @float_matmul
  // CHECK:         graph.matmul %a, %b : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
  func.func @float_matmul(%a: tensor<2x3xf32>, %bi: tensor<3x2xi32>) -> tensor<2x2xf32> {
    %bf = graph.cast %bi : (tensor<3x2xi32>) -> tensor<3x2xf32>
    %sb = graph.constant dense<0.25> : tensor<f32>
    %b = graph.mul %bf, %sb : (tensor<3x2xf32>, tensor<f32>) -> tensor<3x2xf32>
    %y = graph.matmul %a, %b : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
    func.return %y : tensor<2x2xf32>
  }

  // A Gemm with transB=1 reads its [N, K] weight (per-row scales) through a transpose:
  // the int32 weight is transposed, the per-row scales become per-column multipliers.
  // CHECK-LABEL: func.func @qdq_matmul_transposed_weight
  // CHECK:         %[[T:.*]] = graph.transpose %bi {perm = array<i64: 1, 0>} : (tensor<2x3xi32>) -> tensor<3x2xi32>
  // CHECK-NEXT:    %[[ACC:.*]] = graph.matmul %ai, %[[T]] : (tensor<2x3xi32>, tensor<3x2xi32>) -> tensor<2x2xi32>
  // CHECK-NEXT:    %[[F:.*]] = graph.cast %[[ACC]] : (tensor<2x2xi32>) -> tensor<2x2xf32>
  // CHECK-NEXT:    %[[M:.*]] = graph.constant dense<[5.000000e-01, 1.000000e+00]> : tensor<2xf32>
  // CHECK-NEXT:    %[[S:.*]] = graph.mul %[[F]], %[[M]]
  // CHECK-NEXT:    func.return %[[S]]
  func.func @qdq_matmul_transposed_weight(%ai: tensor<2x3xi32>, %bi: tensor<2x3xi32>) -> tensor<2x2xf32> {
    %af = graph.cast %ai : (tensor<2x3xi32>) -> tensor<2x3xf32>
    %sa = graph.constant dense<2.0> : tensor<f32>
    %a = graph.mul %af, %sa : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
    %bf = graph.cast %bi : (tensor<2x3xi32>) -> tensor<2x3xf32>
    %sb = graph.constant dense<[[0.25], [0.5]]> : tensor<2x1xf32>
    %b = graph.mul %bf, %sb : (tensor<2x3xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
    %bt = graph.transpose %b {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
    %y = graph.matmul %a, %bt : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
    func.return %y : tensor<2x2xf32>
  }

  // Two uint16 activations (a 16-bit QDQ attention's Q K^T): 2 * 65535 * 65535 overflows
  // int32, so the matmul stays a float product of the dequantized values.
  // CHECK-LABEL: func.func @u16_matmul_overflows
  // CHECK:         %y = graph.matmul %a, %b : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  // CHECK-NEXT:    func.return %y
  func.func @u16_matmul_overflows(%aq: tensor<2x2xui16>, %bq: tensor<2x2xui16>) -> tensor<2x2xf32> {
    %ai = graph.cast %aq : (tensor<2x2xui16>) -> tensor<2x2xi32>
    %af = graph.cast %ai : (tensor<2x2xi32>) -> tensor<2x2xf32>
    %sa = graph.constant dense<2.0> : tensor<f32>
    %a = graph.mul %af, %sa : (tensor<2x2xf32>, tensor<f32>) -> tensor<2x2xf32>
    %bi = graph.cast %bq : (tensor<2x2xui16>) -> tensor<2x2xi32>
    %bf = graph.cast %bi : (tensor<2x2xi32>) -> tensor<2x2xf32>
    %sb = graph.constant dense<0.5> : tensor<f32>
    %b = graph.mul %bf, %sb : (tensor<2x2xf32>, tensor<f32>) -> tensor<2x2xf32>
    %y = graph.matmul %a, %b : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
    func.return %y : tensor<2x2xf32>
  }
}
