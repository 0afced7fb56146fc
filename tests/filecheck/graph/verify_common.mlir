// RUN: compiler-opt --split-input-file --verify-diagnostics %s | filecheck %s
// Verifier errors shared by every graph op: dynamic shapes, unsupported element
// types, and a declared result type that differs from the inferred one.

// a dynamic operand shape
func.func @f(%x: tensor<?x3xf32>) {
  %y = graph.relu %x : (tensor<?x3xf32>) -> tensor<?x3xf32>
  func.return
}
// CHECK: Operation does not verify: operand shapes must be static, got tensor<?x3xf32>

// -----

// a dynamic result shape
func.func @f(%x: tensor<6xf32>) {
  %y = graph.reshape %x : (tensor<6xf32>) -> tensor<?x3xf32>
  func.return
}
// CHECK: Operation does not verify: result shapes must be static, got tensor<?x3xf32>

// -----

// an unsupported operand element type
func.func @f(%x: tensor<2xi4>) {
  %y = graph.neg %x : (tensor<2xi4>) -> tensor<2xi4>
  func.return
}
// CHECK: Operation does not verify: element type i4 is not supported (supported: f32, f64, f16, bf16, i64, i32, i16, i8, ui8, ui16, ui32, ui64, i1)

// -----

// an unsupported cast target
func.func @f(%x: tensor<2xf32>) {
  %y = graph.cast %x : (tensor<2xf32>) -> tensor<2xf80>
  func.return
}
// CHECK: Operation does not verify: element type f80 is not supported (supported: f32, f64, f16, bf16, i64, i32, i16, i8, ui8, ui16, ui32, ui64, i1)

// -----

// a result type that is not the inferred one
func.func @f(%x: tensor<2x3xf32>) {
  %y = graph.relu %x : (tensor<2x3xf32>) -> tensor<3x2xf32>
  func.return
}
// CHECK: Operation does not verify: result type should be tensor<2x3xf32>, but is tensor<3x2xf32>

// -----

// a result element type that is not the inferred one
func.func @f(%x: tensor<2xf32>, %z: tensor<2xf32>) {
  %y = graph.less %x, %z : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  func.return
}
// CHECK: Operation does not verify: result type should be tensor<2xi1>, but is tensor<2xf32>
