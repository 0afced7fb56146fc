// RUN: compiler-opt %s -p flatten-batched-matmul --split-input-file | filecheck %s

// nn.MultiheadAttention's input projection as torch.onnx exports it: a
// sequence-first [L, 1, E] tensor by the [E, 3E] weight is one [L, E] x [E, 3E]
// GEMM; the bias add (a [3E] operand, kept) and a full-shape add (reshaped
// too) move inside the reshape, so fuse-ops still makes them its epilogue.
// CHECK-LABEL: func.func @projection
// CHECK:      %[[X:.*]] = graph.reshape %x : (tensor<64x1x8xf32>) -> tensor<64x8xf32>
// CHECK-NEXT: %[[M:.*]] = graph.matmul %[[X]], %w : (tensor<64x8xf32>, tensor<8x24xf32>) -> tensor<64x24xf32>
// CHECK-NEXT: %[[A:.*]] = graph.add %[[M]], %b : (tensor<64x24xf32>, tensor<24xf32>) -> tensor<64x24xf32>
// CHECK-NEXT: %[[R:.*]] = graph.reshape %r : (tensor<64x1x24xf32>) -> tensor<64x24xf32>
// CHECK-NEXT: %[[S:.*]] = graph.add %[[A]], %[[R]] : (tensor<64x24xf32>, tensor<64x24xf32>) -> tensor<64x24xf32>
// CHECK-NEXT: %[[B:.*]] = graph.reshape %[[S]] : (tensor<64x24xf32>) -> tensor<64x1x24xf32>
// CHECK-NEXT: func.return %[[B]]
func.func @projection(%x: tensor<64x1x8xf32>, %w: tensor<8x24xf32>, %b: tensor<24xf32>, %r: tensor<64x1x24xf32>) -> tensor<64x1x24xf32> {
  %0 = graph.matmul %x, %w : (tensor<64x1x8xf32>, tensor<8x24xf32>) -> tensor<64x1x24xf32>
  %1 = graph.add %0, %b : (tensor<64x1x24xf32>, tensor<24xf32>) -> tensor<64x1x24xf32>
  %2 = graph.add %1, %r : (tensor<64x1x24xf32>, tensor<64x1x24xf32>) -> tensor<64x1x24xf32>
  func.return %2 : tensor<64x1x24xf32>
}

// -----

// Several batch dims fold into the rows too; a [1, 1, N] operand becomes [1, N].
// CHECK-LABEL: func.func @two_batch_dims
// CHECK:      graph.reshape %x : (tensor<2x3x4x8xf32>) -> tensor<24x8xf32>
// CHECK-NEXT: %[[M:.*]] = graph.matmul {{.*}} -> tensor<24x5xf32>
// CHECK-NEXT: %[[C:.*]] = graph.reshape %c : (tensor<1x1x1x5xf32>) -> tensor<1x5xf32>
// CHECK-NEXT: graph.mul %[[M]], %[[C]] : (tensor<24x5xf32>, tensor<1x5xf32>) -> tensor<24x5xf32>
// CHECK-NEXT: graph.reshape {{.*}} -> tensor<2x3x4x5xf32>
func.func @two_batch_dims(%x: tensor<2x3x4x8xf32>, %w: tensor<8x5xf32>, %c: tensor<1x1x1x5xf32>) -> tensor<2x3x4x5xf32> {
  %0 = graph.matmul %x, %w : (tensor<2x3x4x8xf32>, tensor<8x5xf32>) -> tensor<2x3x4x5xf32>
  %1 = graph.mul %0, %c : (tensor<2x3x4x5xf32>, tensor<1x1x1x5xf32>) -> tensor<2x3x4x5xf32>
  func.return %1 : tensor<2x3x4x5xf32>
}

// -----

// Left alone: a single batch (already one GEMM), a batched right operand
// (attention's scores), and a user that broadcasts along the rows stops the
// sinking (the reshape back comes first).
// CHECK-LABEL: func.func @left_alone
// CHECK-NEXT: graph.matmul %x, %w : (tensor<1x16x8xf32>, tensor<8x4xf32>) -> tensor<1x16x4xf32>
// CHECK-NEXT: graph.matmul %q, %k : (tensor<2x16x8xf32>, tensor<2x8x16xf32>) -> tensor<2x16x16xf32>
// CHECK-NEXT: graph.reshape %q : (tensor<2x16x8xf32>) -> tensor<32x8xf32>
// CHECK-NEXT: %[[M:.*]] = graph.matmul {{.*}} -> tensor<32x4xf32>
// CHECK-NEXT: %[[B:.*]] = graph.reshape %[[M]] : (tensor<32x4xf32>) -> tensor<2x16x4xf32>
// CHECK-NEXT: graph.add %[[B]], %g : (tensor<2x16x4xf32>, tensor<2x1x4xf32>)
func.func @left_alone(%x: tensor<1x16x8xf32>, %w: tensor<8x4xf32>, %q: tensor<2x16x8xf32>, %k: tensor<2x8x16xf32>, %g: tensor<2x1x4xf32>) -> (tensor<1x16x4xf32>, tensor<2x16x16xf32>, tensor<2x16x4xf32>) {
  %0 = graph.matmul %x, %w : (tensor<1x16x8xf32>, tensor<8x4xf32>) -> tensor<1x16x4xf32>
  %1 = graph.matmul %q, %k : (tensor<2x16x8xf32>, tensor<2x8x16xf32>) -> tensor<2x16x16xf32>
  %2 = graph.matmul %q, %w : (tensor<2x16x8xf32>, tensor<8x4xf32>) -> tensor<2x16x4xf32>
  %3 = graph.add %2, %g : (tensor<2x16x4xf32>, tensor<2x1x4xf32>) -> tensor<2x16x4xf32>
  func.return %0, %1, %3 : tensor<1x16x4xf32>, tensor<2x16x16xf32>, tensor<2x16x4xf32>
}
