// RUN: compiler-opt %s | compiler-opt | filecheck %s
// RUN: compiler-opt %s --print-op-generic | compiler-opt | filecheck %s
// RUN: compiler-opt %s -o %t.1.mlir && compiler-opt %t.1.mlir -o %t.2.mlir && diff %t.1.mlir %t.2.mlir
// Round trip of the data-movement ops: reshape (to rank 0 too), broadcast_to,
// transpose, slice (negative strides, empty results), concat (with an empty
// operand), gather (tensor and rank-0 indices), pad in its three modes.

func.func @movement(%x: tensor<2x3x4xf32>, %i: tensor<2x2xi64>, %j: tensor<i32>, %b: tensor<3xi1>) -> (tensor<4x6xf32>, tensor<2x3x1xf32>, tensor<4x2x3xf32>, tensor<2x4xf32>, tensor<3x6x4xf32>, tensor<2x2x3x4xf32>, tensor<2x4xf32>, tensor<4x5x8xf32>, tensor<2x3xi1>, tensor<f32>, tensor<1x1xi64>) {
  %0 = graph.reshape %x : (tensor<2x3x4xf32>) -> tensor<4x6xf32>
  %1 = graph.broadcast_to %b : (tensor<3xi1>) -> tensor<2x3xi1>
  %2 = graph.transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  %3 = graph.slice %x {offsets = array<i64: 0, 0, 3>, strides = array<i64: 1, 1, -2>} : (tensor<2x3x4xf32>) -> tensor<2x3x2xf32>
  %4 = graph.slice %3 {offsets = array<i64: 0, 0, 1>, strides = array<i64: 1, 1, 1>} : (tensor<2x3x2xf32>) -> tensor<2x3x1xf32>
  %5 = graph.concat %x, %x, %x {axis = 0 : i64} : (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<6x3x4xf32>
  %6 = graph.transpose %5 {perm = array<i64: 1, 0, 2>} : (tensor<6x3x4xf32>) -> tensor<3x6x4xf32>
  %7 = graph.gather %x, %i {axis = 0 : i64} : (tensor<2x3x4xf32>, tensor<2x2xi64>) -> tensor<2x2x3x4xf32>
  %8 = graph.gather %x, %j {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<i32>) -> tensor<2x4xf32>
  %9 = graph.pad %x {pads = array<i64: 1, 1, 2, 1, 1, 2>, mode = "constant", value = 0.0 : f64} : (tensor<2x3x4xf32>) -> tensor<4x5x8xf32>
  %10 = graph.pad %x {pads = array<i64: 0, 1, 1, 0, 1, 1>, mode = "reflect", value = 0.0 : f64} : (tensor<2x3x4xf32>) -> tensor<2x5x6xf32>
  %11 = graph.pad %x {pads = array<i64: 0, 2, 0, 0, 0, 0>, mode = "edge", value = 0.0 : f64} : (tensor<2x3x4xf32>) -> tensor<2x5x4xf32>
  %12 = graph.slice %x {offsets = array<i64: 1, 2, 3>, strides = array<i64: 1, 1, 1>} : (tensor<2x3x4xf32>) -> tensor<1x1x1xf32>
  %13 = graph.reshape %12 : (tensor<1x1x1xf32>) -> tensor<f32>
  %14 = graph.slice %i {offsets = array<i64: 0, 0>, strides = array<i64: 1, 1>} : (tensor<2x2xi64>) -> tensor<0x2xi64>
  %15 = graph.concat %14, %i {axis = 0 : i64} : (tensor<0x2xi64>, tensor<2x2xi64>) -> tensor<2x2xi64>
  %16 = graph.slice %15 {offsets = array<i64: 1, 1>, strides = array<i64: 1, 1>} : (tensor<2x2xi64>) -> tensor<1x1xi64>
  func.return %0, %4, %2, %8, %6, %7, %8, %9, %1, %13, %16 : tensor<4x6xf32>, tensor<2x3x1xf32>, tensor<4x2x3xf32>, tensor<2x4xf32>, tensor<3x6x4xf32>, tensor<2x2x3x4xf32>, tensor<2x4xf32>, tensor<4x5x8xf32>, tensor<2x3xi1>, tensor<f32>, tensor<1x1xi64>
}

// CHECK-LABEL: func.func @movement(%x: tensor<2x3x4xf32>, %i: tensor<2x2xi64>, %j: tensor<i32>, %b: tensor<3xi1>) -> (tensor<4x6xf32>, tensor<2x3x1xf32>, tensor<4x2x3xf32>, tensor<2x4xf32>, tensor<3x6x4xf32>, tensor<2x2x3x4xf32>, tensor<2x4xf32>, tensor<4x5x8xf32>, tensor<2x3xi1>, tensor<f32>, tensor<1x1xi64>) {
// CHECK-NEXT:  %0 = graph.reshape %x : (tensor<2x3x4xf32>) -> tensor<4x6xf32>
// CHECK-NEXT:  %1 = graph.broadcast_to %b : (tensor<3xi1>) -> tensor<2x3xi1>
// CHECK-NEXT:  %2 = graph.transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
// CHECK-NEXT:  %3 = graph.slice %x {offsets = array<i64: 0, 0, 3>, strides = array<i64: 1, 1, -2>} : (tensor<2x3x4xf32>) -> tensor<2x3x2xf32>
// CHECK-NEXT:  %4 = graph.slice %3 {offsets = array<i64: 0, 0, 1>, strides = array<i64: 1, 1, 1>} : (tensor<2x3x2xf32>) -> tensor<2x3x1xf32>
// CHECK-NEXT:  %5 = graph.concat %x, %x, %x {axis = 0 : i64} : (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<6x3x4xf32>
// CHECK-NEXT:  %6 = graph.transpose %5 {perm = array<i64: 1, 0, 2>} : (tensor<6x3x4xf32>) -> tensor<3x6x4xf32>
// CHECK-NEXT:  %7 = graph.gather %x, %i {axis = 0 : i64} : (tensor<2x3x4xf32>, tensor<2x2xi64>) -> tensor<2x2x3x4xf32>
// CHECK-NEXT:  %8 = graph.gather %x, %j {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<i32>) -> tensor<2x4xf32>
// CHECK-NEXT:  %9 = graph.pad %x {pads = array<i64: 1, 1, 2, 1, 1, 2>, mode = "constant", value = 0.000000e+00 : f64} : (tensor<2x3x4xf32>) -> tensor<4x5x8xf32>
// CHECK-NEXT:  %10 = graph.pad %x {pads = array<i64: 0, 1, 1, 0, 1, 1>, mode = "reflect", value = 0.000000e+00 : f64} : (tensor<2x3x4xf32>) -> tensor<2x5x6xf32>
// CHECK-NEXT:  %11 = graph.pad %x {pads = array<i64: 0, 2, 0, 0, 0, 0>, mode = "edge", value = 0.000000e+00 : f64} : (tensor<2x3x4xf32>) -> tensor<2x5x4xf32>
// CHECK-NEXT:  %12 = graph.slice %x {offsets = array<i64: 1, 2, 3>, strides = array<i64: 1, 1, 1>} : (tensor<2x3x4xf32>) -> tensor<1x1x1xf32>
// CHECK-NEXT:  %13 = graph.reshape %12 : (tensor<1x1x1xf32>) -> tensor<f32>
// CHECK-NEXT:  %14 = graph.slice %i {offsets = array<i64: 0, 0>, strides = array<i64: 1, 1>} : (tensor<2x2xi64>) -> tensor<0x2xi64>
// CHECK-NEXT:  %15 = graph.concat %14, %i {axis = 0 : i64} : (tensor<0x2xi64>, tensor<2x2xi64>) -> tensor<2x2xi64>
// CHECK-NEXT:  %16 = graph.slice %15 {offsets = array<i64: 1, 1>, strides = array<i64: 1, 1>} : (tensor<2x2xi64>) -> tensor<1x1xi64>
// CHECK-NEXT:  func.return %0, %4, %2, %8, %6, %7, %8, %9, %1, %13, %16 : tensor<4x6xf32>, tensor<2x3x1xf32>, tensor<4x2x3xf32>, tensor<2x4xf32>, tensor<3x6x4xf32>, tensor<2x2x3x4xf32>, tensor<2x4xf32>, tensor<4x5x8xf32>, tensor<2x3xi1>, tensor<f32>, tensor<1x1xi64>
// CHECK-NEXT:  }
