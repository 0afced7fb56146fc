// RUN: compiler-opt --split-input-file --verify-diagnostics %s | filecheck %s
// Verifiers of gather_elements, scatter_elements, topk_indices, cumsum and the
// integer-only bitwise ops.

func.func @f(%x: tensor<3x4xf32>, %i: tensor<3xi64>) {
  %y = graph.gather_elements %x, %i {axis = 0 : i64} : (tensor<3x4xf32>, tensor<3xi64>) -> tensor<3xf32>
  func.return
}
// CHECK: Operation does not verify: graph.gather_elements indices must have the data's rank 2

// -----

func.func @f(%x: tensor<3x4xf32>, %i: tensor<2x5xi64>) {
  %y = graph.gather_elements %x, %i {axis = 0 : i64} : (tensor<3x4xf32>, tensor<2x5xi64>) -> tensor<2x5xf32>
  func.return
}
// CHECK: Operation does not verify: indices dim 1 (5) is larger than the data's (4)

// -----

func.func @f(%x: tensor<3x4xf32>, %i: tensor<2x4xf32>) {
  %y = graph.gather_elements %x, %i {axis = 0 : i64} : (tensor<3x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  func.return
}
// CHECK: Operation does not verify: graph.gather_elements indices must be integers

// -----

func.func @f(%x: tensor<3x4xf32>, %i: tensor<2x4xi64>, %u: tensor<2x4xf32>) {
  %y = graph.scatter_elements %x, %i, %u {axis = 0 : i64, reduction = "sum"} : (tensor<3x4xf32>, tensor<2x4xi64>, tensor<2x4xf32>) -> tensor<3x4xf32>
  func.return
}
// CHECK: Operation does not verify: reduction must be one of none, add, mul, max, min

// -----

func.func @f(%x: tensor<3x4xf32>, %i: tensor<2x4xi64>, %u: tensor<2x3xf32>) {
  %y = graph.scatter_elements %x, %i, %u {axis = 0 : i64, reduction = "none"} : (tensor<3x4xf32>, tensor<2x4xi64>, tensor<2x3xf32>) -> tensor<3x4xf32>
  func.return
}
// CHECK: Operation does not verify: indices and updates must have one shape

// -----

func.func @f(%x: tensor<3x4xf32>) {
  %y = graph.topk_indices %x {axis = 1 : i64, k = 5 : i64, largest = 1 : i64} : (tensor<3x4xf32>) -> tensor<3x5xi64>
  func.return
}
// CHECK: Operation does not verify: k=5 must be in [0, 4]

// -----

func.func @f(%x: tensor<3x4xi1>) {
  %y = graph.cumsum %x {axis = 1 : i64, exclusive = 0 : i64, reverse = 0 : i64} : (tensor<3x4xi1>) -> tensor<3x4xi1>
  func.return
}
// CHECK: Operation does not verify: graph.cumsum does not take i1 tensors

// -----

func.func @f(%x: tensor<3xf32>) {
  %y = graph.bitwise_and %x, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  func.return
}
// CHECK: Operation does not verify: graph.bitwise_and takes integer tensors, got f32

// -----

func.func @f(%x: tensor<3xi1>) {
  %y = graph.bitwise_not %x : (tensor<3xi1>) -> tensor<3xi1>
  func.return
}
// CHECK: Operation does not verify: graph.bitwise_not takes integer tensors, got i1

// -----

func.func @f(%x: tensor<3x4xf32>) {
  %y = graph.cumprod %x {axis = 2 : i64, exclusive = 0 : i64, reverse = 0 : i64} : (tensor<3x4xf32>) -> tensor<3x4xf32>
  func.return
}
// CHECK: Operation does not verify: axis 2 is out of range for rank 2
