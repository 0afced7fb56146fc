// RUN: compiler-opt %s --split-input-file -p apply-schedule | filecheck %s

// unroll with a factor: split the loop by the factor and unroll
// `<axis>.inner`; a remainder that the factor does not divide is peeled
// into `<axis>.tail`, which stays a plain (serial) loop.
func.func @unroll_by_4(%x: memref<2x10xf32>, %y: memref<2x10xf32>) attributes {loop.kernel, loop.schedule = "[{\"primitive\": \"unroll\", \"axis\": \"j\", \"factor\": 4}]"} {
  loop.for %i = 0 to 2 step 1 axis "i" {
    loop.for %j = 0 to 10 step 1 axis "j" {
      %v = memref.load %x[%i, %j] : memref<2x10xf32>
      %s = arith.mulf %v, %v : f32
      memref.store %s, %y[%i, %j] : memref<2x10xf32>
    }
  }
  func.return
}

// CHECK-LABEL: func.func @unroll_by_4
// CHECK-NEXT:    loop.for %i = 0 to 2 step 1 axis "i" {
// CHECK-NEXT:      loop.for %j.outer = 0 to 2 step 1 axis "j.outer" {
// CHECK-NEXT:        loop.for %j.inner = 0 to 4 step 1 axis "j.inner" unroll {
// CHECK-NEXT:          %[[C4:.*]] = arith.constant 4 : index
// CHECK-NEXT:          %[[T:.*]] = arith.muli %j.outer, %[[C4]] : index
// CHECK-NEXT:          %j = arith.addi %[[T]], %j.inner : index
// CHECK-NEXT:          %v = memref.load %x[%i, %j] : memref<2x10xf32>
// CHECK-NEXT:          %s = arith.mulf %v, %v : f32
// CHECK-NEXT:          memref.store %s, %y[%i, %j] : memref<2x10xf32>
// CHECK-NEXT:        }
// CHECK-NEXT:      }
// CHECK-NEXT:      loop.for %[[JT:.*]] = 8 to 10 step 1 axis "j.tail" {
// CHECK-NEXT:        %[[V:.*]] = memref.load %x[%i, %[[JT]]] : memref<2x10xf32>
// CHECK-NEXT:        %[[S:.*]] = arith.mulf %[[V]], %[[V]] : f32
// CHECK-NEXT:        memref.store %[[S]], %y[%i, %[[JT]]] : memref<2x10xf32>
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return

// -----

// A factor that is not below the trip count unrolls the loop itself (no split).
func.func @unroll_whole(%x: memref<2x10xf32>, %y: memref<2x10xf32>) attributes {loop.kernel, loop.schedule = "[{\"primitive\": \"unroll\", \"axis\": \"j\", \"factor\": 10}]"} {
  loop.for %i = 0 to 2 step 1 axis "i" {
    loop.for %j = 0 to 10 step 1 axis "j" {
      %v = memref.load %x[%i, %j] : memref<2x10xf32>
      %s = arith.mulf %v, %v : f32
      memref.store %s, %y[%i, %j] : memref<2x10xf32>
    }
  }
  func.return
}

// CHECK-LABEL: func.func @unroll_whole
// CHECK-NEXT:    loop.for %i = 0 to 2 step 1 axis "i" {
// CHECK-NEXT:      loop.for %j = 0 to 10 step 1 axis "j" unroll {
// CHECK-NEXT:        %v = memref.load %x[%i, %j] : memref<2x10xf32>
// CHECK-NOT:     axis "j.inner"
// CHECK:         func.return
