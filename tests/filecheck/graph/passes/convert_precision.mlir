// RUN: compiler-opt %s --split-input-file -p "convert-precision{precision=fp16}" | filecheck %s
// RUN: compiler-opt %s --split-input-file -p "convert-precision{precision=bf16}" | filecheck %s --check-prefix=BF16

// Weights become 16-bit constants at compile time, activations 16-bit
// tensors; inputs and outputs keep their f32 types. The op producing the
// output stays f32, back through the unary tanh to the matmul before it.
func.func @main(%x: tensor<2x8xf32>) -> tensor<2x4xf32> {
  %w = graph.constant dense<5.000000e-01> : tensor<8x8xf32>
  %b = graph.constant dense<1.0> : tensor<8xf32>
  %w2 = graph.constant dense<2.500000e-01> : tensor<8x4xf32>
  %m = graph.matmul %x, %w : (tensor<2x8xf32>, tensor<8x8xf32>) -> tensor<2x8xf32>
  %a = graph.add %m, %b : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %r = graph.relu %a : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %o = graph.matmul %r, %w2 : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
  %t = graph.tanh %o : (tensor<2x4xf32>) -> tensor<2x4xf32>
  func.return %t : tensor<2x4xf32>
}

// CHECK-LABEL: func.func @main(%x: tensor<2x8xf32>) -> tensor<2x4xf32>
// CHECK-NEXT:    %w = graph.constant dense<5.000000e-01> : tensor<8x8xf16>
// CHECK-NEXT:    %b = graph.constant dense<1.000000e+00> : tensor<8xf16>
// CHECK-NEXT:    %w2 = graph.constant dense<2.500000e-01> : tensor<8x4xf32>
// CHECK-NEXT:    %0 = graph.cast %x : (tensor<2x8xf32>) -> tensor<2x8xf16>
// CHECK-NEXT:    %m = graph.matmul %0, %w : (tensor<2x8xf16>, tensor<8x8xf16>) -> tensor<2x8xf16>
// CHECK-NEXT:    %a = graph.add %m, %b : (tensor<2x8xf16>, tensor<8xf16>) -> tensor<2x8xf16>
// CHECK-NEXT:    %r = graph.relu %a : (tensor<2x8xf16>) -> tensor<2x8xf16>
// CHECK-NEXT:    %1 = graph.cast %r : (tensor<2x8xf16>) -> tensor<2x8xf32>
// CHECK-NEXT:    %o = graph.matmul %1, %w2 : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
// CHECK-NEXT:    %t = graph.tanh %o : (tensor<2x4xf32>) -> tensor<2x4xf32>
// CHECK-NEXT:    func.return %t : tensor<2x4xf32>

// BF16-LABEL: func.func @main
// BF16:         %w = graph.constant dense<5.000000e-01> : tensor<8x8xbf16>
// BF16:         graph.matmul {{.*}} -> tensor<2x8xbf16>
// BF16:         %o = graph.matmul {{.*}} -> tensor<2x4xf32>

// -----

// Attention: the softmax stays f32, and so do its logits back through the
// element-wise scale and mask to the matmul that makes them; the matmul
// reading the softmax's result takes it unrounded. The relu after it is the
// first op to store 16 bits again.
func.func @attention(%q: tensor<4x8xf32>, %k: tensor<8x4xf32>, %v: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %scale = graph.constant dense<0.5> : tensor<f32>
  %mask = graph.constant dense<-1.0> : tensor<4x4xf32>
  %s = graph.matmul %q, %k : (tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<4x4xf32>
  %d = graph.mul %s, %scale : (tensor<4x4xf32>, tensor<f32>) -> tensor<4x4xf32>
  %l = graph.add %d, %mask : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %p = graph.softmax %l {axis = 1 : i64} : (tensor<4x4xf32>) -> tensor<4x4xf32>
  %c = graph.matmul %p, %v : (tensor<4x4xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %r = graph.relu %c : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %n = graph.neg %r : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %e = graph.exp %n : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %o = graph.add %e, %r : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  func.return %o : tensor<4x8xf32>
}

// CHECK-LABEL: func.func @attention
// CHECK:         %s = graph.matmul %q, %k : (tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<4x4xf32>
// CHECK-NEXT:    %d = graph.mul %s, %scale : {{.*}} -> tensor<4x4xf32>
// CHECK-NEXT:    %l = graph.add %d, %mask : {{.*}} -> tensor<4x4xf32>
// CHECK-NEXT:    %p = graph.softmax %l {{.*}} -> tensor<4x4xf32>
// CHECK-NEXT:    %c = graph.matmul %p, %v : {{.*}} -> tensor<4x8xf32>
// CHECK-NEXT:    %{{.*}} = graph.cast %c : (tensor<4x8xf32>) -> tensor<4x8xf16>
// CHECK-NEXT:    %r = graph.relu %{{.*}} -> tensor<4x8xf16>
// CHECK-NEXT:    %n = graph.neg %r {{.*}} -> tensor<4x8xf16>
// CHECK-NEXT:    %e = graph.exp %n {{.*}} -> tensor<4x8xf16>

// -----

// A transformer's residual add feeding a layer norm stays f32, and so does
// `x - mean(x)` of a decomposed one (it cancels, so the mean is not rounded).
func.func @residual(%x: tensor<2x8xf32>, %h: tensor<2x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<2x8xf32> {
  %w = graph.constant dense<5.000000e-01> : tensor<8x8xf32>
  %f = graph.matmul %h, %w : (tensor<2x8xf32>, tensor<8x8xf32>) -> tensor<2x8xf32>
  %s = graph.add %x, %f : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %mean = graph.reduce_mean %s {axes = array<i64: 1>, keepdims = 1 : i64} : (tensor<2x8xf32>) -> tensor<2x1xf32>
  %c = graph.sub %s, %mean : (tensor<2x8xf32>, tensor<2x1xf32>) -> tensor<2x8xf32>
  %n = graph.layer_norm %c, %g, %b {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %r = graph.relu %n : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %o = graph.neg %r : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %o2 = graph.add %o, %o : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  func.return %o2 : tensor<2x8xf32>
}

// CHECK-LABEL: func.func @residual
// CHECK:         %f = graph.matmul {{.*}} -> tensor<2x8xf16>
// CHECK:         %s = graph.add %x, %{{.*}} : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
// CHECK-NEXT:    %mean = graph.reduce_mean %s {{.*}} -> tensor<2x1xf32>
// CHECK-NEXT:    %c = graph.sub %s, %mean {{.*}} -> tensor<2x8xf32>
// CHECK-NEXT:    %n = graph.layer_norm %c, %g, %b {{.*}} -> tensor<2x8xf32>
// CHECK-NEXT:    %r = graph.relu %n {{.*}} -> tensor<2x8xf32>
// CHECK-NEXT:    %{{.*}} = graph.cast %r : (tensor<2x8xf32>) -> tensor<2x8xf16>
// CHECK-NEXT:    %o = graph.neg %{{.*}} -> tensor<2x8xf16>
