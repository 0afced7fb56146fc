// RUN: compiler-opt --split-input-file --verify-diagnostics %s | filecheck %s
// Elementwise verifiers: float-only and bool-only ops, no i1 arithmetic,
// operand element types agree, shapes broadcast, where's condition is i1.

// a float-only unary op on integers
func.func @f(%i: tensor<2x3xi64>) {
  %y = graph.exp %i : (tensor<2x3xi64>) -> tensor<2x3xi64>
  func.return
}
// CHECK: Operation does not verify: graph.exp takes floating-point tensors, got i64

// -----

// an activation on integers
func.func @f(%i: tensor<2x3xi64>) {
  %y = graph.leaky_relu %i {alpha = 0.1 : f64} : (tensor<2x3xi64>) -> tensor<2x3xi64>
  func.return
}
// CHECK: Operation does not verify: graph.leaky_relu takes floating-point tensors, got i64

// -----

// not on floats
func.func @f(%x: tensor<2x3xf32>) {
  %y = graph.not %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: Operation does not verify: graph.not takes i1 tensors, got f32

// -----

// arithmetic on i1
func.func @f(%b: tensor<2x3xi1>) {
  %y = graph.neg %b : (tensor<2x3xi1>) -> tensor<2x3xi1>
  func.return
}
// CHECK: Operation does not verify: graph.neg does not take i1 tensors

// -----

// clip on i1
func.func @f(%b: tensor<2x3xi1>) {
  %y = graph.clip %b {max = 1.0 : f64} : (tensor<2x3xi1>) -> tensor<2x3xi1>
  func.return
}
// CHECK: Operation does not verify: graph.clip does not take i1 tensors

// -----

// cast changing the shape
func.func @f(%x: tensor<2x3xf32>) {
  %y = graph.cast %x : (tensor<2x3xf32>) -> tensor<6xi64>
  func.return
}
// CHECK: Operation does not verify: graph.cast must keep the shape

// -----

// binary operands of two element types
func.func @f(%x: tensor<2x3xf32>, %i: tensor<2x3xi64>) {
  %y = graph.add %x, %i : (tensor<2x3xf32>, tensor<2x3xi64>) -> tensor<2x3xf32>
  func.return
}
// CHECK: Operation does not verify: operand element types differ: f32 and i64

// -----

// shapes that do not broadcast
func.func @f(%x: tensor<2x3xf32>, %z: tensor<2xf32>) {
  %y = graph.mul %x, %z : (tensor<2x3xf32>, tensor<2xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: Operation does not verify: shapes (2, 3) and (2,) are not broadcastable

// -----

// add of i1
func.func @f(%b: tensor<2x3xi1>) {
  %y = graph.add %b, %b : (tensor<2x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
  func.return
}
// CHECK: Operation does not verify: graph.add does not take i1 tensors

// -----

// less of i1
func.func @f(%b: tensor<2x3xi1>) {
  %y = graph.less %b, %b : (tensor<2x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
  func.return
}
// CHECK: Operation does not verify: graph.less does not take i1 tensors

// -----

// and of floats
func.func @f(%x: tensor<2x3xf32>) {
  %y = graph.and %x, %x : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: Operation does not verify: graph.and takes i1 tensors, got f32

// -----

// where with a float condition
func.func @f(%x: tensor<2x3xf32>) {
  %y = graph.where %x, %x, %x : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: Operation does not verify: graph.where condition must be an i1 tensor

// -----

// where with branches of two types
func.func @f(%b: tensor<2x3xi1>, %x: tensor<2x3xf32>, %i: tensor<2x3xi64>) {
  %y = graph.where %b, %x, %i : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<2x3xi64>) -> tensor<2x3xf32>
  func.return
}
// CHECK: Operation does not verify: graph.where branches must have one element type

// -----

// where with shapes that do not broadcast
func.func @f(%b: tensor<2x3xi1>, %z: tensor<3x2xf32>) {
  %y = graph.where %b, %z, %z : (tensor<2x3xi1>, tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
  func.return
}
// CHECK: Operation does not verify: shapes (2, 3) and (3, 2) and (3, 2) are not broadcastable
