// RUN: compiler-opt %s | compiler-opt | filecheck %s
// RUN: compiler-opt %s -o %t.1.mlir && compiler-opt %t.1.mlir -o %t.2.mlir && diff %t.1.mlir %t.2.mlir
// graph.constant keeps exact bytes through print and parse: -0.0 next to 0.0
// is not a splat, and NaN/infinity print as hex (xDSL's own float printer
// writes them as integer bit patterns that its parser reads back as integers,
// so this file has no generic-syntax RUN line).

func.func @special() -> (tensor<2xf32>, tensor<4xf32>, tensor<3xf32>, tensor<2xf16>) {
  %11 = graph.constant dense<[-0.0, 0.0]> : tensor<2xf32>
  %12 = graph.constant dense<"0x0000803F0000C07F0000807F000080FF"> : tensor<4xf32>
  %13 = graph.constant dense<"0x0000C07F"> : tensor<3xf32>
  %14 = graph.constant dense<"0x007E0000"> : tensor<2xf16>
  func.return %11, %12, %13, %14 : tensor<2xf32>, tensor<4xf32>, tensor<3xf32>, tensor<2xf16>
}

// CHECK-LABEL: func.func @special() -> (tensor<2xf32>, tensor<4xf32>, tensor<3xf32>, tensor<2xf16>) {
// CHECK-NEXT:  %0 = graph.constant dense<[-0.000000e+00, 0.000000e+00]> : tensor<2xf32>
// CHECK-NEXT:  %1 = graph.constant dense<"0x0000803F0000C07F0000807F000080FF"> : tensor<4xf32>
// CHECK-NEXT:  %2 = graph.constant dense<"0x0000C07F"> : tensor<3xf32>
// CHECK-NEXT:  %3 = graph.constant dense<"0x007E0000"> : tensor<2xf16>
// CHECK-NEXT:  func.return %0, %1, %2, %3 : tensor<2xf32>, tensor<4xf32>, tensor<3xf32>, tensor<2xf16>
// CHECK-NEXT:  }
