// RUN: compiler-opt --split-input-file %s -p eliminate-concat | filecheck %s
// RUN: compiler-opt --split-input-file %s -p 'eliminate-concat{partial=false}' | filecheck %s --check-prefix=NOPART
// Running it twice gives the same result (flags are re-derived, copies qualify).
// RUN: compiler-opt --split-input-file %s -p eliminate-concat,eliminate-concat | filecheck %s

// Every operand is the single result of a group or an op, used only by the
// concat, and the dims before the axis are 1: in place.
// CHECK-LABEL: func.func @main(%x: tensor<1x2x4x4xf32>) -> tensor<1x3x4x4xf32>
// CHECK:         %y = graph.concat %a, %b {graph.in_place, axis = 1 : i64}
// NOPART-LABEL:  func.func @main(%x: tensor<1x2x4x4xf32>) -> tensor<1x3x4x4xf32>
// NOPART:        %y = graph.concat %a, %b {graph.in_place, axis = 1 : i64}
func.func @main(%x: tensor<1x2x4x4xf32>) -> tensor<1x3x4x4xf32> {
  %w = graph.constant dense<0.5> : tensor<1x2x1x1xf32>
  %a = graph.fused(%x, %w) {kind = "complex-out-fusable"} : (tensor<1x2x4x4xf32>, tensor<1x2x1x1xf32>) -> tensor<1x1x4x4xf32> {
  ^bb0(%xa: tensor<1x2x4x4xf32>, %wa: tensor<1x2x1x1xf32>):
    %c = graph.conv %xa, %wa {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x1x1xf32>) -> tensor<1x1x4x4xf32>
    %r = graph.relu %c : (tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
    graph.yield %r : tensor<1x1x4x4xf32>
  }
  %b = graph.max_pool %x {kernel_shape = array<i64: 1, 1>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = graph.concat %a, %b {axis = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x3x4x4xf32>
  func.return %y : tensor<1x3x4x4xf32>
}

// -----

// An operand with another use (DenseNet: the previous concat feeds the next
// layer too). Partial elimination copies it with a one-operand concat and
// puts the outer concat in place; with partial=false nothing changes.
// CHECK-LABEL: func.func @main(%x: tensor<1x2x4x4xf32>) -> (tensor<1x4x4x4xf32>, tensor<1x2x4x4xf32>)
// CHECK:         %b = graph.exp %x
// CHECK-NEXT:    %y_copy = graph.concat %a {axis = 1 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
// CHECK-NEXT:    %y = graph.concat %y_copy, %b {graph.in_place, axis = 1 : i64}
// CHECK-NEXT:    func.return %y, %s
// NOPART-LABEL:  func.func @main(%x: tensor<1x2x4x4xf32>) -> (tensor<1x4x4x4xf32>, tensor<1x2x4x4xf32>)
// NOPART:        %b = graph.exp %x
// NOPART-NEXT:   %y = graph.concat %a, %b {axis = 1 : i64}
func.func @main(%x: tensor<1x2x4x4xf32>) -> (tensor<1x4x4x4xf32>, tensor<1x2x4x4xf32>) {
  %a = graph.relu %x : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %s = graph.sigmoid %a : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %b = graph.exp %x : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = graph.concat %a, %b {axis = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x4x4x4xf32>
  func.return %y, %s : tensor<1x4x4x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// A model output cannot be written into the concat: it lives in the caller's buffer.
// CHECK-LABEL: func.func @main(%x: tensor<1x2x4x4xf32>) -> (tensor<1x4x4x4xf32>, tensor<1x2x4x4xf32>)
// CHECK:         %y_copy = graph.concat %a {axis = 1 : i64}
// CHECK-NEXT:    %y = graph.concat %b, %y_copy {graph.in_place, axis = 1 : i64}
// CHECK-NEXT:    func.return %y, %a
// NOPART-LABEL:  func.func @main(%x: tensor<1x2x4x4xf32>) -> (tensor<1x4x4x4xf32>, tensor<1x2x4x4xf32>)
// NOPART:        %y = graph.concat %b, %a {axis = 1 : i64}
func.func @main(%x: tensor<1x2x4x4xf32>) -> (tensor<1x4x4x4xf32>, tensor<1x2x4x4xf32>) {
  %a = graph.relu %x : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %b = graph.exp %x : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = graph.concat %b, %a {axis = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x4x4x4xf32>
  func.return %y, %a : tensor<1x4x4x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// A block argument, a constant and a view (a reshape of an arena value) do
// not qualify; the run of the three becomes one smaller concat. The same
// value twice does not qualify either.
// CHECK-LABEL: func.func @main(%x: tensor<1x2x4x4xf32>, %f: tensor<1x32xf32>)
// CHECK:         %t = graph.tanh %x
// CHECK-NEXT:    %y_copy = graph.concat %x, %k, %v {axis = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x6x4x4xf32>
// CHECK-NEXT:    %y_copy_1 = graph.concat %t, %t {axis = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x4x4x4xf32>
// CHECK-NEXT:    %y = graph.concat %y_copy, %b, %y_copy_1 {graph.in_place, axis = 1 : i64} : (tensor<1x6x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x12x4x4xf32>
// NOPART-LABEL:  func.func @main(%x: tensor<1x2x4x4xf32>, %f: tensor<1x32xf32>)
// NOPART:        %y = graph.concat %x, %k, %v, %b, %t, %t {axis = 1 : i64}
func.func @main(%x: tensor<1x2x4x4xf32>, %f: tensor<1x32xf32>) -> tensor<1x12x4x4xf32> {
  %k = graph.constant dense<1.0> : tensor<1x2x4x4xf32>
  %e = graph.exp %f : (tensor<1x32xf32>) -> tensor<1x32xf32>
  %v = graph.reshape %e : (tensor<1x32xf32>) -> tensor<1x2x4x4xf32>
  %b = graph.exp %x : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %t = graph.tanh %x : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = graph.concat %x, %k, %v, %b, %t, %t {axis = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x12x4x4xf32>
  func.return %y : tensor<1x12x4x4xf32>
}

// -----

// No operand qualifies: left alone (a copy of everything gains nothing).
// CHECK-LABEL: func.func @main(%x: tensor<1x2x4x4xf32>, %z: tensor<1x2x4x4xf32>)
// CHECK-NEXT:    %y = graph.concat %x, %z {axis = 1 : i64}
// CHECK-NEXT:    func.return %y
func.func @main(%x: tensor<1x2x4x4xf32>, %z: tensor<1x2x4x4xf32>) -> tensor<1x4x4x4xf32> {
  %y = graph.concat %x, %z {axis = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x4x4x4xf32>
  func.return %y : tensor<1x4x4x4xf32>
}

// -----

// Batch 2 along axis 1: each operand is two separate byte ranges, so the
// concat stays a copy. Along axis 0 it is contiguous again.
// CHECK-LABEL: func.func @main(%x: tensor<2x2x4xf32>)
// CHECK:         %y = graph.concat %a, %b {axis = 1 : i64}
// CHECK:         %z = graph.concat %c, %d {graph.in_place, axis = 0 : i64}
// NOPART-LABEL:  func.func @main(%x: tensor<2x2x4xf32>)
// NOPART:        %y = graph.concat %a, %b {axis = 1 : i64}
func.func @main(%x: tensor<2x2x4xf32>) -> (tensor<2x4x4xf32>, tensor<4x2x4xf32>) {
  %a = graph.relu %x : (tensor<2x2x4xf32>) -> tensor<2x2x4xf32>
  %b = graph.exp %x : (tensor<2x2x4xf32>) -> tensor<2x2x4xf32>
  %y = graph.concat %a, %b {axis = 1 : i64} : (tensor<2x2x4xf32>, tensor<2x2x4xf32>) -> tensor<2x4x4xf32>
  %c = graph.neg %x : (tensor<2x2x4xf32>) -> tensor<2x2x4xf32>
  %d = graph.abs %x : (tensor<2x2x4xf32>) -> tensor<2x2x4xf32>
  %z = graph.concat %c, %d {axis = 0 : i64} : (tensor<2x2x4xf32>, tensor<2x2x4xf32>) -> tensor<4x2x4xf32>
  func.return %y, %z : tensor<2x4x4xf32>, tensor<4x2x4xf32>
}

// -----

// Nested: an in-place concat is itself an operand written in place.
// CHECK-LABEL: func.func @main(%x: tensor<1x2x4xf32>) -> tensor<1x6x4xf32>
// CHECK:         %i = graph.concat %a, %b {graph.in_place, axis = 1 : i64}
// CHECK:         %y = graph.concat %i, %c {graph.in_place, axis = 1 : i64}
func.func @main(%x: tensor<1x2x4xf32>) -> tensor<1x6x4xf32> {
  %a = graph.relu %x : (tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
  %b = graph.exp %x : (tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
  %i = graph.concat %a, %b {axis = 1 : i64} : (tensor<1x2x4xf32>, tensor<1x2x4xf32>) -> tensor<1x4x4xf32>
  %c = graph.neg %x : (tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
  %y = graph.concat %i, %c {axis = 1 : i64} : (tensor<1x4x4xf32>, tensor<1x2x4xf32>) -> tensor<1x6x4xf32>
  func.return %y : tensor<1x6x4xf32>
}
