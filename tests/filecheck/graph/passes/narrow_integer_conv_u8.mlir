// RUN: compiler-opt %s -p 'narrow-integer-conv{u8-dot=true}' | filecheck %s
// RUN: compiler-opt %s -p narrow-integer-conv | filecheck %s --check-prefix=I16

// With u8-dot (VNNI's vpdpbusd: u8 x s8), a conv of int32(q) - zx with q ui8
// reads q itself and an i8 weight; the zero point moves into the bias:
// sum (q - zx) * w = sum q * w - zx * sum w. Weights [[1, -2, 3, 4], [5, 6, -7, 8]]
// (O = 2, I = 4, 1x1) sum to 6 and 12, so with zx = 10 the bias [8, -16]
// becomes [8 - 60, -16 - 120] = [-52, -136].
// CHECK-LABEL: func.func @unsigned
// CHECK:         %[[W8:.*]] = graph.constant dense<{{\[}}{{\[}}{{\[}}[1]], {{\[}}[-2]], {{\[}}[3]], {{\[}}[4]]], {{\[}}{{\[}}[5]], {{\[}}[6]], {{\[}}[-7]], {{\[}}[8]]]]> : tensor<2x4x1x1xi8>
// CHECK-NEXT:    %[[B:.*]] = graph.constant dense<[-52, -136]> : tensor<2xi32>
// CHECK-NEXT:    %{{.*}} = graph.conv %q, %[[W8]], %[[B]] {{.*}} : (tensor<1x4x3x3xui8>, tensor<2x4x1x1xi8>, tensor<2xi32>) -> tensor<1x2x3x3xi32>
// Without u8-dot the same conv reads i16 operands, its bias unchanged.
// I16-LABEL: func.func @unsigned
// I16:         graph.cast %x : (tensor<1x4x3x3xi32>) -> tensor<1x4x3x3xi16>
// I16:         graph.conv {{.*}}, %b {{.*}} : (tensor<1x4x3x3xi16>, tensor<2x4x1x1xi16>, tensor<2xi32>) -> tensor<1x2x3x3xi32>
func.func @unsigned(%q: tensor<1x4x3x3xui8>) -> tensor<1x2x3x3xi32> {
  %qi = graph.cast %q : (tensor<1x4x3x3xui8>) -> tensor<1x4x3x3xi32>
  %zp = graph.constant dense<10> : tensor<i32>
  %x = graph.sub %qi, %zp : (tensor<1x4x3x3xi32>, tensor<i32>) -> tensor<1x4x3x3xi32>
  %w = graph.constant dense<[[[[1]], [[-2]], [[3]], [[4]]], [[[5]], [[6]], [[-7]], [[8]]]]> : tensor<2x4x1x1xi32>
  %b = graph.constant dense<[8, -16]> : tensor<2xi32>
  %c = graph.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x3x3xi32>, tensor<2x4x1x1xi32>, tensor<2xi32>) -> tensor<1x2x3x3xi32>
  func.return %c : tensor<1x2x3x3xi32>
}

// Padding of q - zx with zeros is padding q with zx: an explicit graph.pad
// with value zx, the conv itself unpadded. Without a bias, one is made:
// -zx * sum(w) = -200 * 4 * 9 = -7200 (all weights 1, 3x3).
// CHECK-LABEL: func.func @padded
// CHECK:         %[[P:.*]] = graph.pad %q {pads = array<i64: 0, 0, 1, 2, 0, 0, 1, 2>, mode = "constant", value = 2.000000e+02 : f64} : (tensor<1x4x3x3xui8>) -> tensor<1x4x5x7xui8>
// CHECK:         %[[B:.*]] = graph.constant dense<-7200> : tensor<1xi32>
// CHECK-NEXT:    graph.conv %[[P]], %{{.*}}, %[[B]] {{.*}}pads = array<i64: 0, 0, 0, 0>{{.*}} : (tensor<1x4x5x7xui8>, tensor<1x4x3x3xi8>, tensor<1xi32>) -> tensor<1x1x3x5xi32>
func.func @padded(%q: tensor<1x4x3x3xui8>) -> tensor<1x1x3x5xi32> {
  %qi = graph.cast %q : (tensor<1x4x3x3xui8>) -> tensor<1x4x3x3xi32>
  %zp = graph.constant dense<200> : tensor<1xi32>
  %x = graph.sub %qi, %zp : (tensor<1x4x3x3xi32>, tensor<1xi32>) -> tensor<1x4x3x3xi32>
  %w = graph.constant dense<1> : tensor<1x4x3x3xi32>
  %c = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 2, 1, 2>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x3x3xi32>, tensor<1x4x3x3xi32>) -> tensor<1x1x3x5xi32>
  func.return %c : tensor<1x1x3x5xi32>
}

// The i16 form stays where the u8 one does not apply: an i8 activation, a
// weight beyond int8, input channels that do not divide by 4.
// CHECK-LABEL: func.func @kept
// CHECK-NOT:     xui8>, tensor
// CHECK:         graph.conv {{.*}} : (tensor<1x4x3x3xi16>, tensor<1x4x1x1xi16>) -> tensor<1x1x3x3xi32>
// CHECK:         graph.conv {{.*}} : (tensor<1x4x3x3xi16>, tensor<1x4x1x1xi16>) -> tensor<1x1x3x3xi32>
// CHECK:         graph.conv {{.*}} : (tensor<1x6x3x3xi16>, tensor<1x6x1x1xi16>) -> tensor<1x1x3x3xi32>
func.func @kept(%s: tensor<1x4x3x3xi8>, %q: tensor<1x4x3x3xui8>, %r: tensor<1x6x3x3xui8>) -> (tensor<1x1x3x3xi32>, tensor<1x1x3x3xi32>, tensor<1x1x3x3xi32>) {
  %si = graph.cast %s : (tensor<1x4x3x3xi8>) -> tensor<1x4x3x3xi32>
  %w = graph.constant dense<1> : tensor<1x4x1x1xi32>
  %c1 = graph.conv %si, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x3x3xi32>, tensor<1x4x1x1xi32>) -> tensor<1x1x3x3xi32>
  %qi = graph.cast %q : (tensor<1x4x3x3xui8>) -> tensor<1x4x3x3xi32>
  %big = graph.constant dense<300> : tensor<1x4x1x1xi32>
  %c2 = graph.conv %qi, %big {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x3x3xi32>, tensor<1x4x1x1xi32>) -> tensor<1x1x3x3xi32>
  %ri = graph.cast %r : (tensor<1x6x3x3xui8>) -> tensor<1x6x3x3xi32>
  %w6 = graph.constant dense<1> : tensor<1x6x1x1xi32>
  %c3 = graph.conv %ri, %w6 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x6x3x3xi32>, tensor<1x6x1x1xi32>) -> tensor<1x1x3x3xi32>
  func.return %c1, %c2, %c3 : tensor<1x1x3x3xi32>, tensor<1x1x3x3xi32>, tensor<1x1x3x3xi32>
}

// An s8 activation (quantize_static's default) that feeds a conv is stored
// as u8, q + 128: y + 128 clipped to [0, 255] and cast to ui8; each reader
// int32(q) - zp reads int32(q') - (zp + 128) (here 3 + 128 = 131), the conv
// then the u8 form (bias -131 * 4 = -524), the other reader (a DQ) the same
// integers.
// CHECK-LABEL: func.func @signed
// CHECK:         %[[SHIFT:.*]] = graph.constant dense<1.280000e+02> : tensor<f32>
// CHECK-NEXT:    %[[Y:.*]] = graph.add %y, %[[SHIFT]] : (tensor<1x4x3x3xf32>, tensor<f32>) -> tensor<1x4x3x3xf32>
// CHECK-NEXT:    %[[CLIP:.*]] = graph.clip %[[Y]] {min = 0.000000e+00 : f64, max = 2.550000e+02 : f64}
// CHECK-NEXT:    %[[QU:.*]] = graph.cast %[[CLIP]] : (tensor<1x4x3x3xf32>) -> tensor<1x4x3x3xui8>
// CHECK-NEXT:    %[[WIDE:.*]] = graph.cast %[[QU]] : (tensor<1x4x3x3xui8>) -> tensor<1x4x3x3xi32>
// CHECK:         %[[ZP:.*]] = graph.constant dense<131> : tensor<i32>
// CHECK-NEXT:    %[[X:.*]] = graph.sub %[[WIDE]], %[[ZP]]
// CHECK:         %[[B:.*]] = graph.constant dense<-524> : tensor<1xi32>
// CHECK-NEXT:    %[[C:.*]] = graph.conv %[[QU]], %{{.*}}, %[[B]] {{.*}} : (tensor<1x4x3x3xui8>, tensor<1x4x1x1xi8>, tensor<1xi32>) -> tensor<1x1x3x3xi32>
// CHECK:         %{{.*}} = graph.cast %[[X]] : (tensor<1x4x3x3xi32>) -> tensor<1x4x3x3xf32>
// A q that something reads as int8 (here the function result) stays s8.
// CHECK-LABEL: func.func @kept_signed
// CHECK-NOT:     ui8
// CHECK:         graph.conv {{.*}} : (tensor<1x4x3x3xi16>, tensor<1x4x1x1xi16>) -> tensor<1x1x3x3xi32>
func.func @signed(%y: tensor<1x4x3x3xf32>) -> (tensor<1x1x3x3xi32>, tensor<1x4x3x3xf32>) {
  %clip = graph.clip %y {min = -1.280000e+02 : f64, max = 1.270000e+02 : f64} : (tensor<1x4x3x3xf32>) -> tensor<1x4x3x3xf32>
  %q = graph.cast %clip : (tensor<1x4x3x3xf32>) -> tensor<1x4x3x3xi8>
  %qi = graph.cast %q : (tensor<1x4x3x3xi8>) -> tensor<1x4x3x3xi32>
  %zp = graph.constant dense<3> : tensor<i32>
  %x = graph.sub %qi, %zp : (tensor<1x4x3x3xi32>, tensor<i32>) -> tensor<1x4x3x3xi32>
  %w = graph.constant dense<1> : tensor<1x4x1x1xi32>
  %c = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x3x3xi32>, tensor<1x4x1x1xi32>) -> tensor<1x1x3x3xi32>
  %f = graph.cast %x : (tensor<1x4x3x3xi32>) -> tensor<1x4x3x3xf32>
  func.return %c, %f : tensor<1x1x3x3xi32>, tensor<1x4x3x3xf32>
}
func.func @kept_signed(%y: tensor<1x4x3x3xf32>) -> (tensor<1x1x3x3xi32>, tensor<1x4x3x3xi8>) {
  %clip = graph.clip %y {min = -1.280000e+02 : f64, max = 1.270000e+02 : f64} : (tensor<1x4x3x3xf32>) -> tensor<1x4x3x3xf32>
  %q = graph.cast %clip : (tensor<1x4x3x3xf32>) -> tensor<1x4x3x3xi8>
  %qi = graph.cast %q : (tensor<1x4x3x3xi8>) -> tensor<1x4x3x3xi32>
  %w = graph.constant dense<1> : tensor<1x4x1x1xi32>
  %c = graph.conv %qi, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x3x3xi32>, tensor<1x4x1x1xi32>) -> tensor<1x1x3x3xi32>
  func.return %c, %q : tensor<1x1x3x3xi32>, tensor<1x4x3x3xi8>
}
