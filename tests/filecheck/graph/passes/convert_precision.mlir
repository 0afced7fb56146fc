// RUN: compiler-opt %s -p "convert-precision{precision=fp16}" | filecheck %s
// RUN: compiler-opt %s -p "convert-precision{precision=bf16}" | filecheck %s --check-prefix=BF16

// Weights become 16-bit constants at compile time, activations 16-bit
// tensors; softmax stays in f32 with casts around it; inputs and outputs keep
// their f32 types.
func.func @main(%x: tensor<2x8xf32>) -> tensor<2x4xf32> {
  %w = graph.constant dense<5.000000e-01> : tensor<8x4xf32>
  %b = graph.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %m = graph.matmul %x, %w : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
  %a = graph.add %m, %b : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %s = graph.softmax %a {axis = 1 : i64} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %r = graph.relu %s : (tensor<2x4xf32>) -> tensor<2x4xf32>
  func.return %r : tensor<2x4xf32>
}

// CHECK-LABEL: func.func @main(%x: tensor<2x8xf32>) -> tensor<2x4xf32>
// CHECK-NEXT:    %w = graph.constant dense<5.000000e-01> : tensor<8x4xf16>
// CHECK-NEXT:    %b = graph.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]> : tensor<4xf16>
// CHECK-NEXT:    %0 = graph.cast %x : (tensor<2x8xf32>) -> tensor<2x8xf16>
// CHECK-NEXT:    %m = graph.matmul %0, %w : (tensor<2x8xf16>, tensor<8x4xf16>) -> tensor<2x4xf16>
// CHECK-NEXT:    %a = graph.add %m, %b : (tensor<2x4xf16>, tensor<4xf16>) -> tensor<2x4xf16>
// CHECK-NEXT:    %1 = graph.cast %a : (tensor<2x4xf16>) -> tensor<2x4xf32>
// CHECK-NEXT:    %s = graph.softmax %1 {axis = 1 : i64} : (tensor<2x4xf32>) -> tensor<2x4xf32>
// CHECK-NEXT:    %2 = graph.cast %s : (tensor<2x4xf32>) -> tensor<2x4xf16>
// CHECK-NEXT:    %r = graph.relu %2 : (tensor<2x4xf16>) -> tensor<2x4xf16>
// CHECK-NEXT:    %3 = graph.cast %r : (tensor<2x4xf16>) -> tensor<2x4xf32>
// CHECK-NEXT:    func.return %3 : tensor<2x4xf32>

// BF16:         %w = graph.constant dense<5.000000e-01> : tensor<8x4xbf16>
// BF16:         graph.matmul {{.*}} -> tensor<2x4xbf16>
// BF16:         graph.softmax {{.*}} -> tensor<2x4xf32>
