// RUN: compiler-opt --split-input-file --verify-diagnostics %s | filecheck %s
// Reduction verifiers: axes sorted, unique and in range; no i1 reductions;
// arg-reductions and softmax take an axis in range; softmax and layer_norm take
// floats; layer_norm's scale and bias broadcast to the normalized dims.

// unsorted axes
func.func @f(%x: tensor<2x3x4xf32>) {
  %y = graph.reduce_sum %x {axes = array<i64: 2, 0>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<1x3x1xf32>
  func.return
}
// CHECK: Operation does not verify: axes [2, 0] must be sorted, unique and in [0, 3)

// -----

// repeated axes
func.func @f(%x: tensor<2x3x4xf32>) {
  %y = graph.reduce_mean %x {axes = array<i64: 1, 1>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
  func.return
}
// CHECK: Operation does not verify: axes [1, 1] must be sorted, unique and in [0, 3)

// -----

// an axis out of range
func.func @f(%x: tensor<2x3x4xf32>) {
  %y = graph.reduce_max %x {axes = array<i64: 3>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  func.return
}
// CHECK: Operation does not verify: axes [3] must be sorted, unique and in [0, 3)

// -----

// a negative axis
func.func @f(%x: tensor<2x3x4xf32>) {
  %y = graph.reduce_min %x {axes = array<i64: -1>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x3x1xf32>
  func.return
}
// CHECK: Operation does not verify: axes [-1] must be sorted, unique and in [0, 3)

// -----

// a reduction of i1
func.func @f(%b: tensor<4xi1>) {
  %y = graph.reduce_prod %b {axes = array<i64: 0>, keepdims = false} : (tensor<4xi1>) -> tensor<i1>
  func.return
}
// CHECK: Operation does not verify: graph.reduce_prod does not take i1 tensors

// -----

// keepdims not reflected in the result
func.func @f(%x: tensor<2x3x4xf32>) {
  %y = graph.reduce_sum %x {axes = array<i64: 1>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
  func.return
}
// CHECK: Operation does not verify: result type should be tensor<2x4xf32>, but is tensor<2x1x4xf32>

// -----

// argmax axis out of range
func.func @f(%x: tensor<2x3x4xf32>) {
  %y = graph.argmax %x {axis = 3 : i64, keepdims = true, select_last_index = false} : (tensor<2x3x4xf32>) -> tensor<2x3x4xi64>
  func.return
}
// CHECK: Operation does not verify: axis 3 is out of range for rank 3

// -----

// argmin with a non-i64 result
func.func @f(%x: tensor<2x3x4xf32>) {
  %y = graph.argmin %x {axis = 0 : i64, keepdims = false, select_last_index = false} : (tensor<2x3x4xf32>) -> tensor<3x4xi32>
  func.return
}
// CHECK: Operation does not verify: result type should be tensor<3x4xi64>, but is tensor<3x4xi32>

// -----

// softmax axis out of range
func.func @f(%x: tensor<2x3x4xf32>) {
  %y = graph.softmax %x {axis = -1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  func.return
}
// CHECK: Operation does not verify: axis -1 is out of range for rank 3

// -----

// log_softmax of integers
func.func @f(%i: tensor<2x3xi64>) {
  %y = graph.log_softmax %i {axis = 1 : i64} : (tensor<2x3xi64>) -> tensor<2x3xi64>
  func.return
}
// CHECK: Operation does not verify: graph.log_softmax takes floating-point tensors

// -----

// layer_norm axis out of range
func.func @f(%x: tensor<2x3x4xf32>, %s: tensor<4xf32>) {
  %y = graph.layer_norm %x, %s {axis = 3 : i64, epsilon = 1.0e-05 : f64} : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  func.return
}
// CHECK: Operation does not verify: axis 3 is out of range for rank 3

// -----

// layer_norm of integers
func.func @f(%i: tensor<2x3xi64>, %s: tensor<3xi64>) {
  %y = graph.layer_norm %i, %s {axis = 1 : i64, epsilon = 1.0e-05 : f64} : (tensor<2x3xi64>, tensor<3xi64>) -> tensor<2x3xi64>
  func.return
}
// CHECK: Operation does not verify: graph.layer_norm takes floating-point tensors

// -----

// layer_norm scale of another element type
func.func @f(%x: tensor<2x3x4xf32>, %s: tensor<4xf64>) {
  %y = graph.layer_norm %x, %s {axis = 2 : i64, epsilon = 1.0e-05 : f64} : (tensor<2x3x4xf32>, tensor<4xf64>) -> tensor<2x3x4xf32>
  func.return
}
// CHECK: Operation does not verify: scale and bias must have the input's element type

// -----

// layer_norm scale not broadcasting to the normalized dims
func.func @f(%x: tensor<2x3x4xf32>, %s: tensor<3xf32>) {
  %y = graph.layer_norm %x, %s {axis = 2 : i64, epsilon = 1.0e-05 : f64} : (tensor<2x3x4xf32>, tensor<3xf32>) -> tensor<2x3x4xf32>
  func.return
}
// CHECK: Operation does not verify: shapes (3,) and (4,) are not broadcastable

// -----

// layer_norm bias of a higher rank than the normalized dims
func.func @f(%x: tensor<2x3x4xf32>, %s: tensor<4xf32>, %c: tensor<3x4xf32>) {
  %y = graph.layer_norm %x, %s, %c {axis = 2 : i64, epsilon = 1.0e-05 : f64} : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<3x4xf32>) -> tensor<2x3x4xf32>
  func.return
}
// CHECK: Operation does not verify: scale/bias shape (3, 4) does not broadcast to (4,)
