// RUN: compiler-opt --split-input-file %s -p fuse-ops | filecheck %s
// RUN: compiler-opt --split-input-file %s -p 'fuse-ops{inline-constant-elements=0}' | filecheck %s --check-prefix=NOINL

// conv -> bias add -> relu -> residual add -> relu: one complex-out-fusable group.
// CHECK-LABEL: func.func @main(%x: tensor<1x2x4x4xf32>, %r: tensor<1x3x4x4xf32>)
// CHECK-NEXT:    %w = graph.constant
// CHECK-NEXT:    %b = graph.constant
// CHECK-NEXT:    %y = graph.fused(%x, %w, %b, %r) {kind = "complex-out-fusable"} : (tensor<1x2x4x4xf32>, tensor<3x2x3x3xf32>, tensor<3x1x1xf32>, tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
// CHECK-NEXT:    ^bb0(%[[X:.*]]: tensor<1x2x4x4xf32>, %[[W:.*]]: tensor<3x2x3x3xf32>, %[[B:.*]]: tensor<3x1x1xf32>, %[[R:.*]]: tensor<1x3x4x4xf32>):
// CHECK-NEXT:      %c = graph.conv %[[X]], %[[W]] {{.*}}
// CHECK-NEXT:      %a = graph.add %c, %[[B]]
// CHECK-NEXT:      %h = graph.relu %a
// CHECK-NEXT:      %s = graph.add %[[R]], %h
// CHECK-NEXT:      %[[Y:.*]] = graph.relu %s
// CHECK-NEXT:      graph.yield %[[Y]] : tensor<1x3x4x4xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %y
func.func @main(%x: tensor<1x2x4x4xf32>, %r: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  %w = graph.constant dense<0.5> : tensor<3x2x3x3xf32>
  %b = graph.constant dense<[[[1.0]], [[2.0]], [[3.0]]]> : tensor<3x1x1xf32>
  %c = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<3x2x3x3xf32>) -> tensor<1x3x4x4xf32>
  %a = graph.add %c, %b : (tensor<1x3x4x4xf32>, tensor<3x1x1xf32>) -> tensor<1x3x4x4xf32>
  %h = graph.relu %a : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  %s = graph.add %r, %h : (tensor<1x3x4x4xf32>, tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  %y = graph.relu %s : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  func.return %y : tensor<1x3x4x4xf32>
}

// -----

// A value with two consumers ends its group: %h is the first group's result,
// and each consumer starts its own group (the sigmoid alone stays plain).
// CHECK-LABEL: func.func @main(%x: tensor<1x2x4x4xf32>) -> (tensor<1x3x4x4xf32>, tensor<1x3x4x4xf32>)
// CHECK-NEXT:    %w = graph.constant
// CHECK-NEXT:    %h = graph.fused(%x, %w) {kind = "complex-out-fusable"}
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      %c = graph.conv
// CHECK-NEXT:      %[[H:.*]] = graph.relu %c
// CHECK-NEXT:      graph.yield %[[H]]
// CHECK-NEXT:    }
// CHECK-NEXT:    %n = graph.fused(%h) {kind = "injective"}
// CHECK-NEXT:    ^bb0(%[[H2:.*]]: tensor<1x3x4x4xf32>):
// CHECK-NEXT:      %e = graph.exp %[[H2]]
// CHECK-NEXT:      %[[N:.*]] = graph.neg %e
// CHECK-NEXT:      graph.yield %[[N]]
// CHECK-NEXT:    }
// CHECK-NEXT:    %s = graph.sigmoid %h
// CHECK-NEXT:    func.return %n, %s
func.func @main(%x: tensor<1x2x4x4xf32>) -> (tensor<1x3x4x4xf32>, tensor<1x3x4x4xf32>) {
  %w = graph.constant dense<0.5> : tensor<3x2x1x1xf32>
  %c = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<3x2x1x1xf32>) -> tensor<1x3x4x4xf32>
  %h = graph.relu %c : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  %e = graph.exp %h : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  %n = graph.neg %e : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  %s = graph.sigmoid %h : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  func.return %n, %s : tensor<1x3x4x4xf32>, tensor<1x3x4x4xf32>
}

// -----

// A model output inside a chain ends the group too (func.return is its second use).
// CHECK-LABEL: func.func @main(%x: tensor<1x2x4x4xf32>) -> (tensor<1x3x4x4xf32>, tensor<1x3x4x4xf32>)
// CHECK-NEXT:    %w = graph.constant
// CHECK-NEXT:    %h = graph.fused(%x, %w) {kind = "complex-out-fusable"}
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      %c = graph.conv
// CHECK-NEXT:      %[[H:.*]] = graph.relu %c
// CHECK-NEXT:      graph.yield %[[H]]
// CHECK-NEXT:    }
// CHECK-NEXT:    %t = graph.tanh %h
// CHECK-NEXT:    func.return %h, %t
func.func @main(%x: tensor<1x2x4x4xf32>) -> (tensor<1x3x4x4xf32>, tensor<1x3x4x4xf32>) {
  %w = graph.constant dense<0.5> : tensor<3x2x1x1xf32>
  %c = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<3x2x1x1xf32>) -> tensor<1x3x4x4xf32>
  %h = graph.relu %c : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  %t = graph.tanh %h : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  func.return %h, %t : tensor<1x3x4x4xf32>, tensor<1x3x4x4xf32>
}

// -----

// Opaque ops stay alone and nothing fuses into them; a lone op stays plain.
// CHECK-LABEL: func.func @main(%x: tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
// CHECK-NEXT:    %r = graph.relu %x
// CHECK-NEXT:    %l = graph.lrn %r
// CHECK-NEXT:    %y = graph.sigmoid %l
// CHECK-NEXT:    func.return %y
// CHECK-NOT:     graph.fused
func.func @main(%x: tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> {
  %r = graph.relu %x : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %l = graph.lrn %r {size = 3 : i64, alpha = 1.0e-04 : f64, beta = 7.5e-01 : f64, bias = 1.0 : f64} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %y = graph.sigmoid %l : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  func.return %y : tensor<1x4x4x4xf32>
}

// -----

// Prologue + reduction + epilogue: the injective ops feeding the reduction
// (mul, reshape, transpose) and the elementwise ops after it (bias add, clip)
// form one group of kind "reduction". The scalar constant is copied into the
// region (and erased outside, as nothing else uses it); the vector stays
// outside as a block argument.
// CHECK-LABEL: func.func @main(%x: tensor<2x6xf32>) -> tensor<3x2xf32>
// CHECK-NEXT:    %v = graph.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK-NEXT:    %y = graph.fused(%x, %v) {kind = "reduction"} : (tensor<2x6xf32>, tensor<2xf32>) -> tensor<3x2xf32> {
// CHECK-NEXT:    ^bb0(%[[X:.*]]: tensor<2x6xf32>, %[[V:.*]]: tensor<2xf32>):
// CHECK-NEXT:      %k = graph.constant dense<2.000000e+00> : tensor<f32>
// CHECK-NEXT:      %m = graph.mul %[[X]], %k
// CHECK-NEXT:      %s = graph.reshape %m
// CHECK-NEXT:      %t = graph.transpose %s
// CHECK-NEXT:      %a = graph.reduce_sum %t
// CHECK-NEXT:      %b = graph.add %a, %[[V]]
// CHECK-NEXT:      %[[Y:.*]] = graph.clip %b
// CHECK-NEXT:      graph.yield %[[Y]]
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %y
func.func @main(%x: tensor<2x6xf32>) -> tensor<3x2xf32> {
  %k = graph.constant dense<2.0> : tensor<f32>
  %v = graph.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %m = graph.mul %x, %k : (tensor<2x6xf32>, tensor<f32>) -> tensor<2x6xf32>
  %s = graph.reshape %m : (tensor<2x6xf32>) -> tensor<2x2x3xf32>
  %t = graph.transpose %s {perm = array<i64: 2, 1, 0>} : (tensor<2x2x3xf32>) -> tensor<3x2x2xf32>
  %a = graph.reduce_sum %t {axes = array<i64: 2>, keepdims = false} : (tensor<3x2x2xf32>) -> tensor<3x2xf32>
  %b = graph.add %a, %v : (tensor<3x2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
  %y = graph.clip %b {min = 0.0 : f64} : (tensor<3x2xf32>) -> tensor<3x2xf32>
  func.return %y : tensor<3x2xf32>
}

// -----

// Two injective producers merge into their consumer (a DAG); the concat stays
// alone (batch 1 before its axis), so that eliminate-concat can make it free.
// CHECK-LABEL: func.func @main(%x: tensor<1x2x4xf32>, %z: tensor<1x2x4xf32>) -> tensor<1x4x4xf32>
// CHECK-NEXT:    %a = graph.fused(%x, %z) {kind = "injective"}
// CHECK-NEXT:    ^bb0(%[[X:.*]]: tensor<1x2x4xf32>, %[[Z:.*]]: tensor<1x2x4xf32>):
// CHECK-NEXT:      %e = graph.exp %[[X]]
// CHECK-NEXT:      %n = graph.neg %[[Z]]
// CHECK-NEXT:      %[[A:.*]] = graph.add %e, %n
// CHECK-NEXT:      graph.yield %[[A]]
// CHECK-NEXT:    }
// CHECK-NEXT:    %s = graph.sqrt %z
// CHECK-NEXT:    %c = graph.concat %a, %s {axis = 1 : i64}
// CHECK-NEXT:    %y = graph.relu %c
// CHECK-NEXT:    func.return %y
func.func @main(%x: tensor<1x2x4xf32>, %z: tensor<1x2x4xf32>) -> tensor<1x4x4xf32> {
  %e = graph.exp %x : (tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
  %n = graph.neg %z : (tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
  %a = graph.add %e, %n : (tensor<1x2x4xf32>, tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
  %s = graph.sqrt %z : (tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
  %c = graph.concat %a, %s {axis = 1 : i64} : (tensor<1x2x4xf32>, tensor<1x2x4xf32>) -> tensor<1x4x4xf32>
  %y = graph.relu %c : (tensor<1x4x4xf32>) -> tensor<1x4x4xf32>
  func.return %y : tensor<1x4x4xf32>
}

// -----

// A residual add of two conv branches joins its first operand's group; the
// second conv's group (conv + bias) reaches it as a block argument. An
// injective producer never becomes a prologue of a conv: the relu before the
// first conv stays alone.
// CHECK-LABEL: func.func @main(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
// CHECK-NEXT:    %w = graph.constant
// CHECK-NEXT:    %b = graph.constant
// CHECK-NEXT:    %r = graph.relu %x
// CHECK-NEXT:    %d = graph.fused(%x, %w, %b) {kind = "complex-out-fusable"}
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      %c2 = graph.conv
// CHECK-NEXT:      %[[D:.*]] = graph.add %c2
// CHECK-NEXT:      graph.yield %[[D]]
// CHECK-NEXT:    }
// CHECK-NEXT:    %y = graph.fused(%r, %w, %d) {kind = "complex-out-fusable"}
// CHECK-NEXT:    ^bb0(%[[R:.*]]: tensor<1x2x4x4xf32>, %[[W:.*]]: tensor<2x2x1x1xf32>, %[[D2:.*]]: tensor<1x2x4x4xf32>):
// CHECK-NEXT:      %c1 = graph.conv %[[R]], %[[W]]
// CHECK-NEXT:      %[[Y:.*]] = graph.add %c1, %[[D2]]
// CHECK-NEXT:      graph.yield %[[Y]]
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %y
func.func @main(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = graph.constant dense<0.5> : tensor<2x2x1x1xf32>
  %b = graph.constant dense<[[[1.0]], [[2.0]]]> : tensor<2x1x1xf32>
  %r = graph.relu %x : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %c1 = graph.conv %r, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  %c2 = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  %d = graph.add %c2, %b : (tensor<1x2x4x4xf32>, tensor<2x1x1xf32>) -> tensor<1x2x4x4xf32>
  %y = graph.add %c1, %d : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  func.return %y : tensor<1x2x4x4xf32>
}

// -----

// An epilogue must keep the anchor's result shape: a broadcasting add that
// grows it does not join the matmul (the matmul stays a lone op); the add is
// injective, so it becomes the softmax's prologue instead. A pool is
// complex-out-fusable too: max_pool + relu is one group.
// CHECK-LABEL: func.func @main(%x: tensor<1x4xf32>, %p: tensor<1x1x4x4xf32>, %big: tensor<3x1x2xf32>)
// CHECK-NEXT:    %w = graph.constant
// CHECK-NEXT:    %m = graph.matmul %x, %w
// CHECK-NEXT:    %s = graph.fused(%m, %big) {kind = "reduction"}
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      %a = graph.add
// CHECK-NEXT:      %[[S:.*]] = graph.softmax %a
// CHECK-NEXT:      graph.yield %[[S]]
// CHECK-NEXT:    }
// CHECK-NEXT:    %r = graph.fused(%p) {kind = "complex-out-fusable"}
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      %q = graph.max_pool
// CHECK-NEXT:      %[[R:.*]] = graph.relu %q
// CHECK-NEXT:      graph.yield %[[R]]
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %s, %r
func.func @main(%x: tensor<1x4xf32>, %p: tensor<1x1x4x4xf32>, %big: tensor<3x1x2xf32>) -> (tensor<3x1x2xf32>, tensor<1x1x2x2xf32>) {
  %w = graph.constant dense<0.5> : tensor<4x2xf32>
  %m = graph.matmul %x, %w : (tensor<1x4xf32>, tensor<4x2xf32>) -> tensor<1x2xf32>
  %a = graph.add %m, %big : (tensor<1x2xf32>, tensor<3x1x2xf32>) -> tensor<3x1x2xf32>
  %s = graph.softmax %a {axis = 2 : i64} : (tensor<3x1x2xf32>) -> tensor<3x1x2xf32>
  %q = graph.max_pool %p {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32>
  %r = graph.relu %q : (tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
  func.return %s, %r : tensor<3x1x2xf32>, tensor<1x1x2x2xf32>
}

// -----

// A chain of injective ops only (reshape, transpose, broadcast sub, clip): one
// "injective" group. A scalar constant that is also used outside is copied
// into the region and stays outside for its other use.
// CHECK-LABEL: func.func @main(%x: tensor<2x6xf32>) -> (tensor<3x2x2xf32>, tensor<f32>)
// CHECK-NEXT:    %k = graph.constant dense<1.000000e+00> : tensor<f32>
// CHECK-NEXT:    %y = graph.fused(%x) {kind = "injective"} : (tensor<2x6xf32>) -> tensor<3x2x2xf32> {
// CHECK-NEXT:    ^bb0(%[[X:.*]]: tensor<2x6xf32>):
// CHECK-NEXT:      %s = graph.reshape %[[X]]
// CHECK-NEXT:      %t = graph.transpose %s
// CHECK-NEXT:      %[[K:.*]] = graph.constant dense<1.000000e+00> : tensor<f32>
// CHECK-NEXT:      %a = graph.sub %t, %[[K]]
// CHECK-NEXT:      %[[Y:.*]] = graph.clip %a
// CHECK-NEXT:      graph.yield %[[Y]]
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %y, %k
func.func @main(%x: tensor<2x6xf32>) -> (tensor<3x2x2xf32>, tensor<f32>) {
  %k = graph.constant dense<1.0> : tensor<f32>
  %s = graph.reshape %x : (tensor<2x6xf32>) -> tensor<2x2x3xf32>
  %t = graph.transpose %s {perm = array<i64: 2, 1, 0>} : (tensor<2x2x3xf32>) -> tensor<3x2x2xf32>
  %a = graph.sub %t, %k : (tensor<3x2x2xf32>, tensor<f32>) -> tensor<3x2x2xf32>
  %y = graph.clip %a {min = 0.0 : f64, max = 6.0 : f64} : (tensor<3x2x2xf32>) -> tensor<3x2x2xf32>
  func.return %y, %k : tensor<3x2x2xf32>, tensor<f32>
}

// -----

// inline-constant-elements=0 keeps even scalars outside (second RUN line).
// CHECK-LABEL: func.func @main(%scalar: tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:    %y = graph.fused(%scalar) {kind = "injective"}
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      %k = graph.constant dense<2.000000e+00> : tensor<f32>
// NOINL-LABEL: func.func @main(%scalar: tensor<4xf32>) -> tensor<4xf32>
// NOINL-NEXT:    %k = graph.constant dense<2.000000e+00> : tensor<f32>
// NOINL-NEXT:    %y = graph.fused(%scalar, %k) {kind = "injective"}
func.func @main(%scalar: tensor<4xf32>) -> tensor<4xf32> {
  %k = graph.constant dense<2.0> : tensor<f32>
  %m = graph.mul %scalar, %k : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %y = graph.exp %m : (tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}

// -----

// A concat with batch 2 before its axis can never be in place, so it fuses
// like any injective op (here with its producers and its consumer).
// CHECK-LABEL: func.func @main(%x: tensor<2x2x4xf32>) -> tensor<2x4x4xf32>
// CHECK-NEXT:    %z = graph.fused(%x) {kind = "injective"}
// CHECK-NEXT:    ^bb0(%[[X:.*]]: tensor<2x2x4xf32>):
// CHECK-NEXT:      %a = graph.relu %[[X]]
// CHECK-NEXT:      %b = graph.exp %[[X]]
// CHECK-NEXT:      %y = graph.concat %a, %b {axis = 1 : i64}
// CHECK-NEXT:      %[[Z:.*]] = graph.sigmoid %y
// CHECK-NEXT:      graph.yield %[[Z]]
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %z
func.func @main(%x: tensor<2x2x4xf32>) -> tensor<2x4x4xf32> {
  %a = graph.relu %x : (tensor<2x2x4xf32>) -> tensor<2x2x4xf32>
  %b = graph.exp %x : (tensor<2x2x4xf32>) -> tensor<2x2x4xf32>
  %y = graph.concat %a, %b {axis = 1 : i64} : (tensor<2x2x4xf32>, tensor<2x2x4xf32>) -> tensor<2x4x4xf32>
  %z = graph.sigmoid %y : (tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  func.return %z : tensor<2x4x4xf32>
}
