// RUN: compiler-opt --split-input-file %s -p 'plan-memory,convert-graph-to-loop,default-schedule{vector-bits=512 vector-registers=32 threads=4},apply-schedule' | filecheck %s

// The default schedule of a conv with enough multiply-adds (2^19 or more)
// runs its outermost independent loop on threads, outside the register
// tiles (each thread has its own `memref.alloca`), and no other loop.

// NCHW: the output channels are split into blocks of 8 (the tile's
// channels), and the blocks ("co.outer") run on threads.
// CHECK-LABEL: func.func private @conv_0
// CHECK-SAME:    loop.algorithm = "conv2d_nchw"
// CHECK-SAME:    loop.scheduled
// CHECK:         loop.for %{{.*}} = 0 to 4 step 1 axis "co.outer" parallel stage "compute" {
// CHECK-NEXT:      loop.for %{{.*}} = 0 to 14 step 1 axis "oh" {
// CHECK-NEXT:        memref.alloca() : memref<1x8x1x14xf32>
// CHECK-NOT:     parallel
// CHECK:         func.func @main
func.func @main(%x: tensor<1x32x16x16xf32>, %w: tensor<32x32x3x3xf32>) -> tensor<1x32x14x14xf32> {
  %0 = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x32x16x16xf32>, tensor<32x32x3x3xf32>) -> tensor<1x32x14x14xf32>
  func.return %0 : tensor<1x32x14x14xf32>
}

// -----

// Grouped: the groups run on threads, the channel blocks inside stay serial.
// CHECK-LABEL: func.func private @conv_0
// CHECK-SAME:    loop.algorithm = "conv2d_nchw"
// CHECK:         loop.for %{{.*}} = 0 to 4 step 1 axis "g" parallel stage "compute" {
// CHECK-NEXT:      loop.for %{{.*}} = 0 to 2 step 1 axis "co.outer" {
// CHECK-NEXT:        loop.for %{{.*}} = 0 to 14 step 1 axis "oh" {
// CHECK-NEXT:          memref.alloca() : memref<1x8x1x14xf32>
// CHECK-NOT:     parallel
// CHECK:         func.func @main
func.func @main(%x: tensor<1x64x16x16xf32>, %w: tensor<64x16x3x3xf32>) -> tensor<1x64x14x14xf32> {
  %0 = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 4 : i64} : (tensor<1x64x16x16xf32>, tensor<64x16x3x3xf32>) -> tensor<1x64x14x14xf32>
  func.return %0 : tensor<1x64x14x14xf32>
}

// -----

// Blocked: the output-channel blocks run on threads.
// CHECK-LABEL: func.func private @conv_0
// CHECK-SAME:    loop.algorithm = "conv2d_NCHWc"
// CHECK:         loop.for %{{.*}} = 0 to 2 step 1 axis "ob" parallel stage "compute" {
// CHECK-NEXT:      loop.for %{{.*}} = 0 to 14 step 1 axis "oh" {
// CHECK-NEXT:        loop.for %{{.*}} = 0 to 2 step 1 axis "ow.outer" {
// CHECK-NEXT:          memref.alloca() : memref<1x1x1x7x16xf32>
// CHECK-NOT:     parallel
// CHECK:         func.func @main
func.func @main(%x: tensor<1x2x16x16x16xf32>, %w: tensor<2x2x3x3x16x16xf32>) -> tensor<1x2x14x14x16xf32> {
  %0 = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, data_layout = "NCHW16c", kernel_layout = "OIHW16i16o", out_layout = "NCHW16c"} : (tensor<1x2x16x16x16xf32>, tensor<2x2x3x3x16x16xf32>) -> tensor<1x2x14x14x16xf32>
  func.return %0 : tensor<1x2x14x14x16xf32>
}

// -----

// A small conv stays on one thread (its schedule has no parallel step).
// CHECK-LABEL: func.func private @conv_0
// CHECK-SAME:    loop.scheduled
// CHECK:         loop.for %{{.*}} = 0 to 6 step 1 axis "oh" stage "compute" {
// CHECK-NOT:     parallel
// CHECK:         func.func @main
func.func @main(%x: tensor<1x4x8x8xf32>, %w: tensor<4x4x3x3xf32>) -> tensor<1x4x6x6xf32> {
  %0 = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x6x6xf32>
  func.return %0 : tensor<1x4x6x6xf32>
}
