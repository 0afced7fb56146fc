// RUN: compiler-opt --split-input-file --verify-diagnostics %s | filecheck %s
// Conv, matmul, pooling, batch_norm and lrn verifiers: ranks, element types,
// window properties (strides, pads, dilations, kernel), groups, bias shape,
// contraction dims, window sizes.

// conv of a 3-D input
func.func @f(%x: tensor<4x8x8xf32>, %w: tensor<6x4x3x3xf32>) {
  %y = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<4x8x8xf32>, tensor<6x4x3x3xf32>) -> tensor<1x6x6x6xf32>
  func.return
}
// CHECK: Operation does not verify: graph.conv takes a 4-D NCHW input and a 4-D OIHW weight

// -----

// conv of i64 (integer convs accumulate in i32)
func.func @f(%x: tensor<1x4x8x8xi64>, %w: tensor<6x4x3x3xi64>) {
  %y = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xi64>, tensor<6x4x3x3xi64>) -> tensor<1x6x6x6xi64>
  func.return
}
// CHECK: Operation does not verify: graph.conv takes floating-point, i32, or i16/i8/ui8 (accumulated in i32) tensors

// -----

// conv operands of two element types
func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<6x2x3x3xf64>) {
  %y = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf64>) -> tensor<1x6x6x6xf32>
  func.return
}
// CHECK: Operation does not verify: graph.conv operands must share one element type (or be a ui8 input and an i8 weight)

// -----

// conv of an i8 input and a ui8 weight (vpdpbusd's pair is a ui8 input and an i8 weight, not the reverse)
func.func @f(%x: tensor<1x4x8x8xi8>, %w: tensor<6x4x3x3xui8>) {
  %y = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xi8>, tensor<6x4x3x3xui8>) -> tensor<1x6x6x6xi32>
  func.return
}
// CHECK: Operation does not verify: graph.conv operands must share one element type (or be a ui8 input and an i8 weight)

// -----

// conv strides of the wrong length
func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<6x2x3x3xf32>) {
  %y = graph.conv %x, %w {strides = array<i64: 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x6x6xf32>
  func.return
}
// CHECK: Operation does not verify: strides must be 2 positive values

// -----

// conv zero strides
func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<6x2x3x3xf32>) {
  %y = graph.conv %x, %w {strides = array<i64: 0, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x6x6xf32>
  func.return
}
// CHECK: Operation does not verify: strides must be 2 positive values

// -----

// conv pads of the wrong length
func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<6x2x3x3xf32>) {
  %y = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x6x6xf32>
  func.return
}
// CHECK: Operation does not verify: pads must be 4 non-negative values

// -----

// conv negative pads
func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<6x2x3x3xf32>) {
  %y = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: -1, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x6x6xf32>
  func.return
}
// CHECK: Operation does not verify: pads must be 4 non-negative values

// -----

// conv zero dilations
func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<6x2x3x3xf32>) {
  %y = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 0, 1>, group = 2 : i64} : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x6x6xf32>
  func.return
}
// CHECK: Operation does not verify: dilations must be 2 positive values

// -----

// conv group not dividing the channels
func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<6x2x3x3xf32>) {
  %y = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 3 : i64} : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x6x6xf32>
  func.return
}
// CHECK: Operation does not verify: group 3 must divide input (4) and output (6) channels

// -----

// conv group zero
func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<6x2x3x3xf32>) {
  %y = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 0 : i64} : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x6x6xf32>
  func.return
}
// CHECK: Operation does not verify: group 0 must divide input (4) and output (6) channels

// -----

// conv weight with the wrong input channels per group
func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<6x2x3x3xf32>) {
  %y = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x6x6xf32>
  func.return
}
// CHECK: Operation does not verify: weight has 2 input channels per group, input gives 4

// -----

// conv bias of the wrong shape
func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<6x2x3x3xf32>, %b: tensor<4xf32>) {
  %y = graph.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>, tensor<4xf32>) -> tensor<1x6x6x6xf32>
  func.return
}
// CHECK: Operation does not verify: bias must have shape (6,)

// -----

// conv window larger than the input
func.func @f(%x: tensor<1x4x2x2xf32>, %w: tensor<6x2x3x3xf32>) {
  %y = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x4x2x2xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x1x1xf32>
  func.return
}
// CHECK: Operation does not verify: the convolution window is larger than the padded input

// -----

// conv with a wrong result shape
func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<6x2x3x3xf32>) {
  %y = graph.conv %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x6x6xf32>
  func.return
}
// CHECK: Operation does not verify: result type should be tensor<1x6x3x3xf32>, but is tensor<1x6x6x6xf32>

// -----

// matmul of rank 1
func.func @f(%a: tensor<4xf32>, %b: tensor<4x5xf32>) {
  %y = graph.matmul %a, %b : (tensor<4xf32>, tensor<4x5xf32>) -> tensor<5xf32>
  func.return
}
// CHECK: Operation does not verify: graph.matmul operands must have rank >= 2

// -----

// matmul of two element types
func.func @f(%a: tensor<3x4xf32>, %b: tensor<4x5xf64>) {
  %y = graph.matmul %a, %b : (tensor<3x4xf32>, tensor<4x5xf64>) -> tensor<3x5xf32>
  func.return
}
// CHECK: Operation does not verify: graph.matmul operands must share one element type

// -----

// matmul of i1
func.func @f(%a: tensor<3x4xi1>, %b: tensor<4x5xi1>) {
  %y = graph.matmul %a, %b : (tensor<3x4xi1>, tensor<4x5xi1>) -> tensor<3x5xi1>
  func.return
}
// CHECK: Operation does not verify: graph.matmul does not take i1 tensors

// -----

// matmul contraction mismatch
func.func @f(%a: tensor<3x4xf32>, %b: tensor<5x6xf32>) {
  %y = graph.matmul %a, %b : (tensor<3x4xf32>, tensor<5x6xf32>) -> tensor<3x6xf32>
  func.return
}
// CHECK: Operation does not verify: contraction dims differ: 4 and 5

// -----

// matmul batch dims that do not broadcast
func.func @f(%a: tensor<2x3x4xf32>, %b: tensor<3x4x5xf32>) {
  %y = graph.matmul %a, %b : (tensor<2x3x4xf32>, tensor<3x4x5xf32>) -> tensor<2x3x5xf32>
  func.return
}
// CHECK: Operation does not verify: shapes (2,) and (3,) are not broadcastable

// -----

// pool of a 3-D input
func.func @f(%x: tensor<4x8x8xf32>) {
  %y = graph.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<4x8x8xf32>) -> tensor<4x7x7xf32>
  func.return
}
// CHECK: Operation does not verify: graph.max_pool takes a 4-D NCHW input

// -----

// pool of integers
func.func @f(%x: tensor<1x4x8x8xi64>) {
  %y = graph.avg_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, count_include_pad = false} : (tensor<1x4x8x8xi64>) -> tensor<1x4x7x7xi64>
  func.return
}
// CHECK: Operation does not verify: graph.avg_pool takes floating-point tensors

// -----

// max pooling takes integers (ONNX's int8/uint8 MaxPool), not bools
func.func @f(%x: tensor<1x4x8x8xi1>) {
  %y = graph.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x8x8xi1>) -> tensor<1x4x7x7xi1>
  func.return
}
// CHECK: Operation does not verify: graph.max_pool takes floating-point or integer tensors

// -----

// pool kernel of the wrong length
func.func @f(%x: tensor<1x4x8x8xf32>) {
  %y = graph.max_pool %x {kernel_shape = array<i64: 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>) -> tensor<1x4x7x7xf32>
  func.return
}
// CHECK: Operation does not verify: kernel_shape must be 2 positive values

// -----

// pool zero kernel
func.func @f(%x: tensor<1x4x8x8xf32>) {
  %y = graph.max_pool %x {kernel_shape = array<i64: 0, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>) -> tensor<1x4x7x7xf32>
  func.return
}
// CHECK: Operation does not verify: kernel_shape must be 2 positive values

// -----

// pool strides of the wrong length
func.func @f(%x: tensor<1x4x8x8xf32>) {
  %y = graph.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 1, 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>) -> tensor<1x4x7x7xf32>
  func.return
}
// CHECK: Operation does not verify: strides must be 2 positive values

// -----

// pool pads as large as the kernel
func.func @f(%x: tensor<1x4x8x8xf32>) {
  %y = graph.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 2, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>) -> tensor<1x4x9x9xf32>
  func.return
}
// CHECK: Operation does not verify: pads must be smaller than the kernel

// -----

// pool window larger than the input
func.func @f(%x: tensor<1x4x2x2xf32>) {
  %y = graph.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x2x2xf32>) -> tensor<1x4x1x1xf32>
  func.return
}
// CHECK: Operation does not verify: the pooling window is larger than the padded input

// -----

// pool with a wrong result shape
func.func @f(%x: tensor<1x4x8x8xf32>) {
  %y = graph.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>) -> tensor<1x4x5x5xf32>
  func.return
}
// CHECK: Operation does not verify: result type should be tensor<1x4x4x4xf32>, but is tensor<1x4x5x5xf32>

// -----

// batch_norm of rank 1
func.func @f(%x: tensor<4xf32>, %s: tensor<4xf32>) {
  %y = graph.batch_norm %x, %s, %s, %s, %s {epsilon = 1.0e-05 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return
}
// CHECK: Operation does not verify: graph.batch_norm takes an input of rank >= 2

// -----

// batch_norm of integers
func.func @f(%x: tensor<2x4xi64>, %s: tensor<4xi64>) {
  %y = graph.batch_norm %x, %s, %s, %s, %s {epsilon = 1.0e-05 : f64} : (tensor<2x4xi64>, tensor<4xi64>, tensor<4xi64>, tensor<4xi64>, tensor<4xi64>) -> tensor<2x4xi64>
  func.return
}
// CHECK: Operation does not verify: graph.batch_norm takes floating-point tensors

// -----

// batch_norm parameters not per channel
func.func @f(%x: tensor<2x4xf32>, %s: tensor<4xf32>, %t: tensor<3xf32>) {
  %y = graph.batch_norm %x, %s, %s, %t, %s {epsilon = 1.0e-05 : f64} : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<3xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  func.return
}
// CHECK: Operation does not verify: scale, bias, mean and var must be tensor<4xf32>

// -----

// lrn of rank 2
func.func @f(%x: tensor<2x4xf32>) {
  %y = graph.lrn %x {size = 3 : i64, alpha = 1.0e-04 : f64, beta = 0.75 : f64, bias = 1.0 : f64} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  func.return
}
// CHECK: Operation does not verify: graph.lrn takes a floating-point tensor of rank >= 3

// -----

// lrn size zero
func.func @f(%x: tensor<1x4x2x2xf32>) {
  %y = graph.lrn %x {size = 0 : i64, alpha = 1.0e-04 : f64, beta = 0.75 : f64, bias = 1.0 : f64} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  func.return
}
// CHECK: Operation does not verify: size must be positive
