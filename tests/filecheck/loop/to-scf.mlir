// RUN: compiler-opt %s --split-input-file -p convert-loop-to-scf | filecheck %s

// serial -> scf.for; a one-iteration loop becomes its body; an empty loop disappears.
func.func @serial(%x: memref<8x4xf32>) {
  loop.for %i = 0 to 8 step 2 axis "i" {
    loop.for %j = 3 to 4 step 1 axis "j" {
      %z = arith.constant 0.0 : f32
      memref.store %z, %x[%i, %j] : memref<8x4xf32>
    }
  }
  loop.for %e = 5 to 5 step 1 axis "e" {
    %z = arith.constant 1.0 : f32
    memref.store %z, %x[%e, %e] : memref<8x4xf32>
  }
  func.return
}

// CHECK-LABEL: func.func @serial
// CHECK-NEXT:    %[[LB:.*]] = arith.constant 0 : index
// CHECK-NEXT:    %[[UB:.*]] = arith.constant 8 : index
// CHECK-NEXT:    %[[ST:.*]] = arith.constant 2 : index
// CHECK-NEXT:    scf.for %i = %[[LB]] to %[[UB]] step %[[ST]] {
// CHECK-NEXT:      %[[J:.*]] = arith.constant 3 : index
// CHECK-NEXT:      %z = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:      memref.store %z, %x[%i, %[[J]]] : memref<8x4xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return

// -----

// unroll -> one copy of the body per iteration, the IV a constant.
func.func @unroll(%x: memref<8xf32>) {
  loop.for %i = 1 to 8 step 3 axis "i" unroll {
    %z = arith.constant 0.0 : f32
    memref.store %z, %x[%i] : memref<8xf32>
  }
  func.return
}

// CHECK-LABEL: func.func @unroll
// CHECK-NEXT:    %[[I1:.*]] = arith.constant 1 : index
// CHECK-NEXT:    %[[Z1:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:    memref.store %[[Z1]], %x[%[[I1]]] : memref<8xf32>
// CHECK-NEXT:    %[[I4:.*]] = arith.constant 4 : index
// CHECK-NEXT:    %[[Z4:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:    memref.store %[[Z4]], %x[%[[I4]]] : memref<8xf32>
// CHECK-NEXT:    %[[I7:.*]] = arith.constant 7 : index
// CHECK-NEXT:    %[[Z7:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:    memref.store %[[Z7]], %x[%[[I7]]] : memref<8xf32>
// CHECK-NEXT:    func.return

// -----

// parallel -> a one-dimensional scf.parallel with static bounds and an empty scf.reduce.
func.func @parallel(%x: memref<64x3xf32>) {
  loop.for %i = 0 to 64 step 1 axis "i" parallel {
    loop.for %j = 0 to 3 step 1 axis "j" {
      %z = arith.constant 0.0 : f32
      memref.store %z, %x[%i, %j] : memref<64x3xf32>
    }
  }
  func.return
}

// CHECK-LABEL: func.func @parallel
// CHECK-NEXT:    %[[LB:.*]] = arith.constant 0 : index
// CHECK-NEXT:    %[[UB:.*]] = arith.constant 64 : index
// CHECK-NEXT:    %[[ST:.*]] = arith.constant 1 : index
// CHECK-NEXT:    "scf.parallel"(%[[LB]], %[[UB]], %[[ST]]) <{operandSegmentSizes = array<i32: 1, 1, 1, 0>}> ({
// CHECK-NEXT:    ^{{.*}}(%i: index):
// CHECK:           scf.for %j = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:           }
// CHECK-NEXT:      scf.reduce
// CHECK-NEXT:    }) : (index, index, index) -> ()

// -----

// GPU bindings run serially on the CPU.
func.func @gpu(%x: memref<4xf32>) {
  loop.for %b = 0 to 4 step 1 axis "b" blockIdx.x {
    %z = arith.constant 0.0 : f32
    memref.store %z, %x[%b] : memref<4xf32>
  }
  func.return
}

// CHECK-LABEL: func.func @gpu
// CHECK:         scf.for %b =
