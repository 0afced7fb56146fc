// RUN: compiler-opt %s --split-input-file -p apply-schedule | filecheck %s

// vectorize / unroll / parallel / bind set annotations; the schedule attribute stays on the
// kernel and `loop.scheduled` marks it applied.
func.func @annotate(%x: memref<16x8xf32>, %y: memref<16x8xf32>) attributes {loop.kernel, loop.schedule = "[{\"primitive\": \"parallel\", \"axis\": \"i\"}, {\"primitive\": \"vectorize\", \"axis\": \"j\"}, {\"primitive\": \"unroll\", \"axis\": \"u\"}]"} {
  loop.for %i = 0 to 16 step 1 axis "i" {
    loop.for %j = 0 to 8 step 1 axis "j" {
      %v = memref.load %x[%i, %j] : memref<16x8xf32>
      memref.store %v, %y[%i, %j] : memref<16x8xf32>
    }
  }
  loop.for %u = 0 to 4 step 1 axis "u" {
    %z = arith.constant 0.0 : f32
    %c0 = arith.constant 0 : index
    memref.store %z, %y[%u, %c0] : memref<16x8xf32>
  }
  func.return
}

// CHECK-LABEL: func.func @annotate
// CHECK-SAME:    attributes {loop.kernel, loop.schedule = "[{\22primitive\22: \22parallel\22, \22axis\22: \22i\22}, {\22primitive\22: \22vectorize\22, \22axis\22: \22j\22}, {\22primitive\22: \22unroll\22, \22axis\22: \22u\22}]", loop.scheduled} {
// CHECK-NEXT:    loop.for %i = 0 to 16 step 1 axis "i" parallel {
// CHECK-NEXT:      loop.for %j = 0 to 8 step 1 axis "j" vectorize {
// CHECK:         loop.for %u = 0 to 4 step 1 axis "u" unroll {

// -----

// A parallel loop over a fused batch x channel: independence is proved through div/rem.
func.func @parallel_fused(%x: memref<2x3x8xf32>) attributes {loop.kernel, loop.schedule = "[{\"primitive\": \"fuse\", \"outer\": \"n\", \"inner\": \"c\"}, {\"primitive\": \"parallel\", \"axis\": \"n.c.fused\"}]"} {
  loop.for %n = 0 to 2 step 1 axis "n" {
    loop.for %c = 0 to 3 step 1 axis "c" {
      loop.for %w = 0 to 8 step 1 axis "w" {
        %v = memref.load %x[%n, %c, %w] : memref<2x3x8xf32>
        %s = arith.addf %v, %v : f32
        memref.store %s, %x[%n, %c, %w] : memref<2x3x8xf32>
      }
    }
  }
  func.return
}

// CHECK-LABEL: func.func @parallel_fused
// CHECK-NEXT:    loop.for %n.c.fused = 0 to 6 step 1 axis "n.c.fused" parallel {
// CHECK-NEXT:      %[[C3:.*]] = arith.constant 3 : index
// CHECK-NEXT:      %n = arith.divui %n.c.fused, %[[C3]] : index
// CHECK-NEXT:      %c = arith.remui %n.c.fused, %[[C3]] : index
// CHECK-NEXT:      loop.for %w = 0 to 8 step 1 axis "w" {
// CHECK-NEXT:        %v = memref.load %x[%n, %c, %w] : memref<2x3x8xf32>

// -----

// A tiled loop is parallel when the tiles of the inner loop do not overlap.
func.func @parallel_tiles(%x: memref<32xf32>) attributes {loop.kernel, loop.schedule = "[{\"primitive\": \"split\", \"axis\": \"i\", \"factor\": 8}, {\"primitive\": \"parallel\", \"axis\": \"i.outer\"}, {\"primitive\": \"vectorize\", \"axis\": \"i.inner\"}]"} {
  loop.for %i = 0 to 32 step 1 axis "i" {
    %v = memref.load %x[%i] : memref<32xf32>
    %s = arith.mulf %v, %v : f32
    memref.store %s, %x[%i] : memref<32xf32>
  }
  func.return
}

// CHECK-LABEL: func.func @parallel_tiles
// CHECK-NEXT:    loop.for %i.outer = 0 to 4 step 1 axis "i.outer" parallel {
// CHECK-NEXT:      loop.for %i.inner = 0 to 8 step 1 axis "i.inner" vectorize {

// -----

// GPU bindings.
func.func @bind(%x: memref<4x64xf32>) attributes {loop.kernel, loop.schedule = "[{\"primitive\": \"bind\", \"axis\": \"b\", \"thread\": \"blockIdx.x\"}, {\"primitive\": \"bind\", \"axis\": \"t\", \"thread\": \"threadIdx.x\"}]"} {
  loop.for %b = 0 to 4 step 1 axis "b" {
    loop.for %t = 0 to 64 step 1 axis "t" {
      %v = memref.load %x[%b, %t] : memref<4x64xf32>
      memref.store %v, %x[%b, %t] : memref<4x64xf32>
    }
  }
  func.return
}

// CHECK-LABEL: func.func @bind
// CHECK-NEXT:    loop.for %b = 0 to 4 step 1 axis "b" blockIdx.x {
// CHECK-NEXT:      loop.for %t = 0 to 64 step 1 axis "t" threadIdx.x {
