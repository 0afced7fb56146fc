// RUN: compiler-opt %s | compiler-opt | filecheck %s
// RUN: compiler-opt %s --print-op-generic | compiler-opt | filecheck %s
// RUN: compiler-opt %s -o %t.1.mlir && compiler-opt %t.1.mlir -o %t.2.mlir && diff %t.1.mlir %t.2.mlir
// Round trip of graph.fused (one and two results, constants inside) and graph.yield.

func.func @fused(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> (tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) {
  %y = graph.fused(%x, %w) {kind = "complex-out-fusable"} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  ^bb0(%a: tensor<1x3x8x8xf32>, %b: tensor<4x3x3x3xf32>):
    %c = graph.conv %a, %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
    %k = graph.constant dense<0.5> : tensor<f32>
    %m = graph.mul %c, %k : (tensor<1x4x6x6xf32>, tensor<f32>) -> tensor<1x4x6x6xf32>
    %r = graph.relu %m : (tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
    graph.yield %r : tensor<1x4x6x6xf32>
  }
  %z:2 = graph.fused(%y) {kind = "injective"} : (tensor<1x4x6x6xf32>) -> (tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) {
  ^bb0(%a: tensor<1x4x6x6xf32>):
    %n = graph.neg %a : (tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
    %e = graph.exp %n : (tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
    graph.yield %n, %e : tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>
  }
  func.return %z#0, %z#1 : tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>
}

// CHECK-LABEL: func.func @fused(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> (tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) {
// CHECK-NEXT:  %y = graph.fused(%x, %w) {kind = "complex-out-fusable"} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
// CHECK-NEXT:  ^bb0(%a: tensor<1x3x8x8xf32>, %b: tensor<4x3x3x3xf32>):
// CHECK-NEXT:  %c = graph.conv %a, %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
// CHECK-NEXT:  %k = graph.constant dense<5.000000e-01> : tensor<f32>
// CHECK-NEXT:  %m = graph.mul %c, %k : (tensor<1x4x6x6xf32>, tensor<f32>) -> tensor<1x4x6x6xf32>
// CHECK-NEXT:  %r = graph.relu %m : (tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
// CHECK-NEXT:  graph.yield %r : tensor<1x4x6x6xf32>
// CHECK-NEXT:  }
// CHECK-NEXT:  %z, %z_1 = graph.fused(%y) {kind = "injective"} : (tensor<1x4x6x6xf32>) -> (tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) {
// CHECK-NEXT:  ^bb0(%a_1: tensor<1x4x6x6xf32>):
// CHECK-NEXT:  %n = graph.neg %a_1 : (tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
// CHECK-NEXT:  %e = graph.exp %n : (tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
// CHECK-NEXT:  graph.yield %n, %e : tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>
// CHECK-NEXT:  }
// CHECK-NEXT:  func.return %z, %z_1 : tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>
// CHECK-NEXT:  }
