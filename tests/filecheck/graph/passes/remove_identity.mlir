// RUN: compiler-opt %s -p remove-identity | filecheck %s

builtin.module {
  // Every op here returns its operand unchanged.
  // CHECK-LABEL: func.func @noops
  // CHECK-SAME:    (%x: tensor<2x3xf32>)
  // CHECK-NEXT:    %[[R:.*]] = graph.relu %x
  // CHECK-NEXT:    func.return %[[R]] : tensor<2x3xf32>
  func.func @noops(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
    %0 = graph.identity %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %1 = graph.reshape %0 : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %2 = graph.transpose %1 {perm = array<i64: 0, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %3 = graph.cast %2 : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %4 = graph.slice %3 {offsets = array<i64: 0, 0>, strides = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %5 = graph.broadcast_to %4 : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %6 = graph.relu %5 : (tensor<2x3xf32>) -> tensor<2x3xf32>
    func.return %6 : tensor<2x3xf32>
  }

  // A slice of size-1 dims is whole whatever its stride.
  // CHECK-LABEL: func.func @unit_dim_slice
  // CHECK-NEXT:    func.return %x
  func.func @unit_dim_slice(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
    %0 = graph.slice %x {offsets = array<i64: 0, 0>, strides = array<i64: 2, 1>} : (tensor<1x4xf32>) -> tensor<1x4xf32>
    func.return %0 : tensor<1x4xf32>
  }

  // Chains merge into one op; a chain that cancels out disappears.
  // CHECK-LABEL: func.func @chains
  // CHECK-NEXT:    %[[R:.*]] = graph.reshape %x : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  // CHECK-NEXT:    %[[T:.*]] = graph.transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  // CHECK-NEXT:    func.return %[[R]], %[[T]], %x
  func.func @chains(%x: tensor<2x3x4xf32>) -> (tensor<6x4xf32>, tensor<4x2x3xf32>, tensor<2x3x4xf32>) {
    %r1 = graph.reshape %x : (tensor<2x3x4xf32>) -> tensor<24xf32>
    %r2 = graph.reshape %r1 : (tensor<24xf32>) -> tensor<6x4xf32>
    %t1 = graph.transpose %x {perm = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
    %t2 = graph.transpose %t1 {perm = array<i64: 1, 2, 0>} : (tensor<3x4x2xf32>) -> tensor<4x2x3xf32>
    %u1 = graph.reshape %x : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
    %u2 = graph.reshape %u1 : (tensor<6x4xf32>) -> tensor<2x3x4xf32>
    func.return %r2, %t2, %u2 : tensor<6x4xf32>, tensor<4x2x3xf32>, tensor<2x3x4xf32>
  }

  // The inner op of a chain stays when something else reads it.
  // CHECK-LABEL: func.func @shared_inner
  // CHECK-NEXT:    %[[T1:.*]] = graph.transpose %x {perm = array<i64: 1, 0>}
  // CHECK-NEXT:    func.return %[[T1]], %x
  func.func @shared_inner(%x: tensor<2x3xf32>) -> (tensor<3x2xf32>, tensor<2x3xf32>) {
    %t1 = graph.transpose %x {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
    %t2 = graph.transpose %t1 {perm = array<i64: 1, 0>} : (tensor<3x2xf32>) -> tensor<2x3xf32>
    func.return %t1, %t2 : tensor<3x2xf32>, tensor<2x3xf32>
  }

  // Not touched: ops that change the shape, the order, the type or the elements.
  // CHECK-LABEL: func.func @keep
  // CHECK-NEXT:    graph.reshape %x : (tensor<2x3xf32>) -> tensor<3x2xf32>
  // CHECK-NEXT:    graph.transpose %x {perm = array<i64: 1, 0>}
  // CHECK-NEXT:    graph.cast %x : (tensor<2x3xf32>) -> tensor<2x3xf16>
  // CHECK-NEXT:    graph.slice %x {offsets = array<i64: 0, 1>, strides = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
  // CHECK-NEXT:    graph.slice %x {offsets = array<i64: 0, 2>, strides = array<i64: 1, -1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK-NEXT:    graph.broadcast_to %x : (tensor<2x3xf32>) -> tensor<4x2x3xf32>
  // CHECK-NEXT:    func.return
  func.func @keep(%x: tensor<2x3xf32>) -> (tensor<3x2xf32>, tensor<3x2xf32>, tensor<2x3xf16>, tensor<2x2xf32>, tensor<2x3xf32>, tensor<4x2x3xf32>) {
    %0 = graph.reshape %x : (tensor<2x3xf32>) -> tensor<3x2xf32>
    %1 = graph.transpose %x {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
    %2 = graph.cast %x : (tensor<2x3xf32>) -> tensor<2x3xf16>
    %3 = graph.slice %x {offsets = array<i64: 0, 1>, strides = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
    %4 = graph.slice %x {offsets = array<i64: 0, 2>, strides = array<i64: 1, -1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %5 = graph.broadcast_to %x : (tensor<2x3xf32>) -> tensor<4x2x3xf32>
    func.return %0, %1, %2, %3, %4, %5 : tensor<3x2xf32>, tensor<3x2xf32>, tensor<2x3xf16>, tensor<2x2xf32>, tensor<2x3xf32>, tensor<4x2x3xf32>
  }
}
