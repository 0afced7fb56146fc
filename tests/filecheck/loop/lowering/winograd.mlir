// RUN: compiler-opt %s -p 'winograd-conv{mode=f2},fuse-ops,plan-memory,convert-graph-to-loop' | filecheck %s

// The three Winograd stages as plain loop nests: a 5x5 output in 2x2 tiles
// (3x3 tiles, the last row and column ragged) over a 1-padded input.

// Input transform: per tile (th, tw) and channel, 16 reads (border ones
// tested against the input and clamped), B^T d B, 16 stores V[xi, t, c].
// CHECK-LABEL: func.func private @winograd_input_0(%0: memref<1x2x5x5xf32>, %1: memref<16x9x2xf32>)
// CHECK-SAME:  loop.algorithm = "winograd_input"
// CHECK:       loop.for %{{.*}} = 0 to 3 step 1 axis "th" stage "compute"
// CHECK-NEXT:  loop.for %{{.*}} = 0 to 3 step 1 axis "tw"
// CHECK-NEXT:  loop.for %{{.*}} = 0 to 2 step 1 axis "c"
// CHECK:       arith.minsi
// CHECK:       arith.select
// CHECK-COUNT-16: memref.store %{{.*}}, %1[%{{.*}}, %{{.*}}, %{{.*}}] : memref<16x9x2xf32>
// CHECK-NOT:   memref.store

// The batched GEMM is a plain matmul kernel over the folded U.
// CHECK-LABEL: func.func private @matmul_0(%0: memref<16x9x2xf32>, %1: memref<16x2x2xf32>, %2: memref<16x9x2xf32>)
// CHECK-SAME:  loop.algorithm = "matmul"

// Output transform with the bias and the fused ReLU, channels outermost
// (threads split them): 2x2 stores per tile,
// positions past the 5x5 output clamped to its last row / column.
// CHECK-LABEL: func.func private @winograd_output_relu_0(%0: memref<16x9x2xf32>, %1: memref<2xf32>, %2: memref<1x2x5x5xf32>)
// CHECK-SAME:  loop.algorithm = "winograd_output"
// CHECK:       loop.for %{{.*}} = 0 to 2 step 1 axis "k" stage "compute"
// CHECK-NEXT:  loop.for %{{.*}} = 0 to 3 step 1 axis "th"
// CHECK-NEXT:  loop.for %{{.*}} = 0 to 3 step 1 axis "tw"
// CHECK-COUNT-16: memref.load %0
// CHECK:       arith.minsi %{{.*}}, %{{.*}} : index
// CHECK:       arith.maximumf
// CHECK-COUNT-4: memref.store %{{.*}}, %2[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] : memref<1x2x5x5xf32>
// CHECK-NOT:   memref.store
func.func @main(%x: tensor<1x2x5x5xf32>, %b: tensor<2xf32>) -> tensor<1x2x5x5xf32> {
  %w = graph.constant dense<[[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]]], [[[0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]], [[1.0, -1.0, 1.0], [-1.0, 1.0, -1.0], [1.0, -1.0, 1.0]]]]> : tensor<2x2x3x3xf32>
  %0 = graph.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x5x5xf32>, tensor<2x2x3x3xf32>, tensor<2xf32>) -> tensor<1x2x5x5xf32>
  %1 = graph.relu %0 : (tensor<1x2x5x5xf32>) -> tensor<1x2x5x5xf32>
  func.return %1 : tensor<1x2x5x5xf32>
}
