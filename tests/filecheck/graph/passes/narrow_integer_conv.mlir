// RUN: compiler-opt %s -p narrow-integer-conv | filecheck %s

builtin.module {
  // An int32 conv of int32(q8) - zero point with a constant weight that fits
  // in 16 bits reads i16 operands and still accumulates in i32.
  // CHECK-LABEL: func.func @narrowed
  // CHECK:         %[[X16:.*]] = graph.cast %x : (tensor<1x2x3x3xi32>) -> tensor<1x2x3x3xi16>
  // CHECK-NEXT:    %[[W16:.*]] = graph.constant dense<{{.*}}> : tensor<2x2x1x1xi16>
  // CHECK-NEXT:    %{{.*}} = graph.conv %[[X16]], %[[W16]], %b {{.*}} : (tensor<1x2x3x3xi16>, tensor<2x2x1x1xi16>, tensor<2xi32>) -> tensor<1x2x3x3xi32>
  func.func @narrowed(%q: tensor<1x2x3x3xi8>) -> tensor<1x2x3x3xi32> {
    %qi = graph.cast %q : (tensor<1x2x3x3xi8>) -> tensor<1x2x3x3xi32>
    %zp = graph.constant dense<-3> : tensor<i32>
    %x = graph.sub %qi, %zp : (tensor<1x2x3x3xi32>, tensor<i32>) -> tensor<1x2x3x3xi32>
    %w = graph.constant dense<[[[[1]], [[-2]]], [[[300]], [[4]]]]> : tensor<2x2x1x1xi32>
    %b = graph.constant dense<[8, -16]> : tensor<2xi32>
    %c = graph.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x3x3xi32>, tensor<2x2x1x1xi32>, tensor<2xi32>) -> tensor<1x2x3x3xi32>
    func.return %c : tensor<1x2x3x3xi32>
  }

  // Three input channels take no dot product; every partial sum is at most
  // 3 * 7 * 7 * 255 * 9 < 2^24, exact in float32: a float conv, its result
  // converted back, the bias added as i32.
  // CHECK-LABEL: func.func @stem
  // CHECK:         %[[XF:.*]] = graph.cast %x : (tensor<1x3x8x8xi32>) -> tensor<1x3x8x8xf32>
  // CHECK-NEXT:    %[[WF:.*]] = graph.constant dense<9.000000e+00> : tensor<2x3x7x7xf32>
  // CHECK-NEXT:    %[[CF:.*]] = graph.conv %[[XF]], %[[WF]] {graph.integer_sums, strides = array<i64: 2, 2>, pads = array<i64: 3, 3, 3, 3>{{.*}} -> tensor<1x2x4x4xf32>
  // CHECK-NEXT:    %[[CI:.*]] = graph.cast %[[CF]] : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xi32>
  // CHECK-NEXT:    %[[B:.*]] = graph.constant dense<{{\[}}{{\[}}[8]], {{\[}}[-16]]]> : tensor<2x1x1xi32>
  // CHECK-NEXT:    %{{.*}} = graph.add %[[CI]], %[[B]] : (tensor<1x2x4x4xi32>, tensor<2x1x1xi32>) -> tensor<1x2x4x4xi32>
  func.func @stem(%q: tensor<1x3x8x8xui8>) -> tensor<1x2x4x4xi32> {
    %qi = graph.cast %q : (tensor<1x3x8x8xui8>) -> tensor<1x3x8x8xi32>
    %zp = graph.constant dense<100> : tensor<i32>
    %x = graph.sub %qi, %zp : (tensor<1x3x8x8xi32>, tensor<i32>) -> tensor<1x3x8x8xi32>
    %w = graph.constant dense<9> : tensor<2x3x7x7xi32>
    %b = graph.constant dense<[8, -16]> : tensor<2xi32>
    %c = graph.conv %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 3, 3, 3, 3>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xi32>, tensor<2x3x7x7xi32>, tensor<2xi32>) -> tensor<1x2x4x4xi32>
    func.return %c : tensor<1x2x4x4xi32>
  }

  // An activation of unknown range, or a weight beyond 16 bits, stays int32.
  // CHECK-LABEL: func.func @kept
  // CHECK-NOT:     xi16
  // CHECK:         graph.conv %x, %w {{.*}} -> tensor<1x2x3x3xi32>
  // CHECK:         graph.conv %y, %big {{.*}} -> tensor<1x2x3x3xi32>
  func.func @kept(%x: tensor<1x2x3x3xi32>, %q: tensor<1x2x3x3xi8>) -> (tensor<1x2x3x3xi32>, tensor<1x2x3x3xi32>) {
    %w = graph.constant dense<1> : tensor<2x2x1x1xi32>
    %c = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x3x3xi32>, tensor<2x2x1x1xi32>) -> tensor<1x2x3x3xi32>
    %y = graph.cast %q : (tensor<1x2x3x3xi8>) -> tensor<1x2x3x3xi32>
    %big = graph.constant dense<40000> : tensor<2x2x1x1xi32>
    %d = graph.conv %y, %big {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x3x3xi32>, tensor<2x2x1x1xi32>) -> tensor<1x2x3x3xi32>
    func.return %c, %d : tensor<1x2x3x3xi32>, tensor<1x2x3x3xi32>
  }
}
