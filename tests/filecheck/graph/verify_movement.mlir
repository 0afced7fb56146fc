// RUN: compiler-opt --split-input-file --verify-diagnostics %s | filecheck %s
// Data-movement verifiers: reshape keeps the element count, broadcast_to only
// broadcasts, transpose's perm is a permutation, slices stay in bounds, concat
// operands agree off the axis, gather takes integer indices, pads are valid.

// reshape changing the element count
func.func @f(%x: tensor<2x3xf32>) {
  %y = graph.reshape %x : (tensor<2x3xf32>) -> tensor<7xf32>
  func.return
}
// CHECK: Operation does not verify: cannot reshape (2, 3) into (7,): element counts differ

// -----

// reshape changing the element type
func.func @f(%x: tensor<2x3xf32>) {
  %y = graph.reshape %x : (tensor<2x3xf32>) -> tensor<6xf64>
  func.return
}
// CHECK: Operation does not verify: graph.reshape must keep the element type

// -----

// broadcast_to a smaller rank
func.func @f(%x: tensor<2x3xf32>) {
  %y = graph.broadcast_to %x : (tensor<2x3xf32>) -> tensor<3xf32>
  func.return
}
// CHECK: Operation does not verify: cannot broadcast (2, 3) to (3,)

// -----

// broadcast_to an incompatible shape
func.func @f(%x: tensor<2x3xf32>) {
  %y = graph.broadcast_to %x : (tensor<2x3xf32>) -> tensor<4x3xf32>
  func.return
}
// CHECK: Operation does not verify: shapes (2, 3) and (4, 3) are not broadcastable

// -----

// broadcast_to changing the element type
func.func @f(%x: tensor<2x3xf32>) {
  %y = graph.broadcast_to %x : (tensor<2x3xf32>) -> tensor<2x2x3xi64>
  func.return
}
// CHECK: Operation does not verify: graph.broadcast_to must keep the element type

// -----

// perm not a permutation
func.func @f(%x: tensor<2x3xf32>) {
  %y = graph.transpose %x {perm = array<i64: 0, 0>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
  func.return
}
// CHECK: Operation does not verify: perm [0, 0] is not a permutation of rank 2

// -----

// perm of the wrong rank
func.func @f(%x: tensor<2x3xf32>) {
  %y = graph.transpose %x {perm = array<i64: 1, 0, 2>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  func.return
}
// CHECK: Operation does not verify: perm [1, 0, 2] is not a permutation of rank 2

// -----

// slice with offsets of the wrong rank
func.func @f(%x: tensor<2x3xf32>) {
  %y = graph.slice %x {offsets = array<i64: 0>, strides = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: Operation does not verify: offsets, strides, input and result must have one rank

// -----

// slice changing the element type
func.func @f(%x: tensor<2x3xf32>) {
  %y = graph.slice %x {offsets = array<i64: 0, 0>, strides = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf64>
  func.return
}
// CHECK: Operation does not verify: graph.slice must keep the element type

// -----

// slice with a zero stride
func.func @f(%x: tensor<2x3xf32>) {
  %y = graph.slice %x {offsets = array<i64: 0, 0>, strides = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: Operation does not verify: stride of dim 1 is zero

// -----

// slice reading past the end
func.func @f(%x: tensor<2x3xf32>) {
  %y = graph.slice %x {offsets = array<i64: 0, 1>, strides = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: Operation does not verify: slice of dim 1 reads [1, 3] outside [0, 3)

// -----

// slice reading before the start (negative stride)
func.func @f(%x: tensor<2x3xf32>) {
  %y = graph.slice %x {offsets = array<i64: 0, 1>, strides = array<i64: 1, -1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: Operation does not verify: slice of dim 1 reads [1, -1] outside [0, 3)

// -----

// slice with a negative offset
func.func @f(%x: tensor<2x3xf32>) {
  %y = graph.slice %x {offsets = array<i64: -1, 0>, strides = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<1x3xf32>
  func.return
}
// CHECK: Operation does not verify: slice of dim 0 reads [-1, -1] outside [0, 2)

// -----

// concat axis out of range
func.func @f(%x: tensor<2x3xf32>) {
  %y = graph.concat %x, %x {axis = 2 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x6xf32>
  func.return
}
// CHECK: Operation does not verify: axis 2 is out of range for rank 2

// -----

// concat of two element types
func.func @f(%x: tensor<2x3xf32>, %i: tensor<2x3xi64>) {
  %y = graph.concat %x, %i {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x3xi64>) -> tensor<4x3xf32>
  func.return
}
// CHECK: Operation does not verify: graph.concat operands must share element type and rank

// -----

// concat of two ranks
func.func @f(%x: tensor<2x3xf32>, %z: tensor<3xf32>) {
  %y = graph.concat %x, %z {axis = 0 : i64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<5x3xf32>
  func.return
}
// CHECK: Operation does not verify: graph.concat operands must share element type and rank

// -----

// concat shapes disagreeing off the axis
func.func @f(%x: tensor<2x3xf32>, %z: tensor<2x4xf32>) {
  %y = graph.concat %x, %z {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<4x3xf32>
  func.return
}
// CHECK: Operation does not verify: graph.concat operand shapes disagree off axis 0

// -----

// concat without operands
func.func @f() {
  %y = "graph.concat"() <{axis = 0 : i64}> : () -> tensor<2xf32>
  func.return
}
// CHECK: Operation does not verify: graph.concat needs at least one operand

// -----

// gather with float indices
func.func @f(%x: tensor<2x3xf32>, %z: tensor<2xf32>) {
  %y = graph.gather %x, %z {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: Operation does not verify: graph.gather indices must be integers

// -----

// gather with i1 indices
func.func @f(%x: tensor<2x3xf32>, %z: tensor<2xi1>) {
  %y = graph.gather %x, %z {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2xi1>) -> tensor<2x3xf32>
  func.return
}
// CHECK: Operation does not verify: graph.gather indices must be integers

// -----

// gather axis out of range
func.func @f(%x: tensor<2x3xf32>, %z: tensor<2xi64>) {
  %y = graph.gather %x, %z {axis = 2 : i64} : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  func.return
}
// CHECK: Operation does not verify: axis 2 is out of range for rank 2

// -----

// pads of the wrong length
func.func @f(%x: tensor<2x3xf32>) {
  %y = graph.pad %x {pads = array<i64: 1, 1>, mode = "constant", value = 0.0 : f64} : (tensor<2x3xf32>) -> tensor<3x4xf32>
  func.return
}
// CHECK: Operation does not verify: pads needs 4 values, got 2

// -----

// negative pads
func.func @f(%x: tensor<2x3xf32>) {
  %y = graph.pad %x {pads = array<i64: -1, 0, 0, 0>, mode = "constant", value = 0.0 : f64} : (tensor<2x3xf32>) -> tensor<1x3xf32>
  func.return
}
// CHECK: Operation does not verify: pads must be non-negative

// -----

// an unknown pad mode
func.func @f(%x: tensor<2x3xf32>) {
  %y = graph.pad %x {pads = array<i64: 1, 0, 0, 0>, mode = "wrap", value = 0.0 : f64} : (tensor<2x3xf32>) -> tensor<3x3xf32>
  func.return
}
// CHECK: Operation does not verify: mode must be "constant", "reflect" or "edge"

// -----

// reflect pads as large as the dim
func.func @f(%x: tensor<2x3xf32>) {
  %y = graph.pad %x {pads = array<i64: 0, 3, 0, 0>, mode = "reflect", value = 0.0 : f64} : (tensor<2x3xf32>) -> tensor<2x6xf32>
  func.return
}
// CHECK: Operation does not verify: reflect pads of dim 1 (3, 0) must be smaller than its size 3

// -----

// edge padding of an empty dim
func.func @f(%x: tensor<0x3xf32>) {
  %y = graph.pad %x {pads = array<i64: 1, 0, 0, 0>, mode = "edge", value = 0.0 : f64} : (tensor<0x3xf32>) -> tensor<1x3xf32>
  func.return
}
// CHECK: Operation does not verify: edge padding of dim 0 needs a non-empty dim

// -----

// a missing property
func.func @f(%x: tensor<2x3xf32>) {
  %y = graph.transpose %x : (tensor<2x3xf32>) -> tensor<3x2xf32>
  func.return
}
// CHECK: Operation does not verify: property 'perm' expected in operation 'graph.transpose'
