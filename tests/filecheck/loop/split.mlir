// RUN: compiler-opt %s --split-input-file -p apply-schedule | filecheck %s

// A factor that does not divide the extent: the remainder is peeled into a tail loop.
func.func @split_tail(%x: memref<4x37xf32>, %y: memref<4x37xf32>) attributes {loop.kernel, loop.schedule = "[{\"primitive\": \"split\", \"axis\": \"j\", \"factor\": 16}]"} {
  loop.for %i = 0 to 4 step 1 axis "i" {
    loop.for %j = 0 to 37 step 1 axis "j" {
      %v = memref.load %x[%i, %j] : memref<4x37xf32>
      memref.store %v, %y[%i, %j] : memref<4x37xf32>
    }
  }
  func.return
}

// CHECK-LABEL: func.func @split_tail
// CHECK-SAME:    attributes {loop.kernel, loop.schedule = "[{\22primitive\22: \22split\22, \22axis\22: \22j\22, \22factor\22: 16}]", loop.scheduled} {
// CHECK-NEXT:    loop.for %i = 0 to 4 step 1 axis "i" {
// CHECK-NEXT:      loop.for %j.outer = 0 to 2 step 1 axis "j.outer" {
// CHECK-NEXT:        loop.for %j.inner = 0 to 16 step 1 axis "j.inner" {
// CHECK-NEXT:          %[[C16:.*]] = arith.constant 16 : index
// CHECK-NEXT:          %[[T:.*]] = arith.muli %j.outer, %[[C16]] : index
// CHECK-NEXT:          %j = arith.addi %[[T]], %j.inner : index
// CHECK-NEXT:          %v = memref.load %x[%i, %j] : memref<4x37xf32>
// CHECK-NEXT:          memref.store %v, %y[%i, %j] : memref<4x37xf32>
// CHECK-NEXT:        }
// CHECK-NEXT:      }
// CHECK-NEXT:      loop.for %[[JT:.*]] = 32 to 37 step 1 axis "j.tail" {
// CHECK-NEXT:        %[[V:.*]] = memref.load %x[%i, %[[JT]]] : memref<4x37xf32>
// CHECK-NEXT:        memref.store %[[V]], %y[%i, %[[JT]]] : memref<4x37xf32>
// CHECK-NEXT:      }
// CHECK-NEXT:    }

// -----

// A dividing factor, a lower bound and a step: iv = (outer*4 + inner)*3 + 2, no tail.
// Loops nested in the split loop move with the body.
func.func @split_lb_step(%x: memref<26x3xf32>) attributes {loop.kernel, loop.schedule = "[{\"primitive\": \"split\", \"axis\": \"i\", \"factor\": 4}]"} {
  loop.for %i = 2 to 26 step 3 axis "i" {
    loop.for %k = 0 to 3 step 1 axis "k" {
      %z = arith.constant 0.0 : f32
      memref.store %z, %x[%i, %k] : memref<26x3xf32>
    }
  }
  func.return
}

// CHECK-LABEL: func.func @split_lb_step
// CHECK-NEXT:    loop.for %i.outer = 0 to 2 step 1 axis "i.outer" {
// CHECK-NEXT:      loop.for %i.inner = 0 to 4 step 1 axis "i.inner" {
// CHECK-NEXT:        %[[C4:.*]] = arith.constant 4 : index
// CHECK-NEXT:        %[[A:.*]] = arith.muli %i.outer, %[[C4]] : index
// CHECK-NEXT:        %[[B:.*]] = arith.addi %[[A]], %i.inner : index
// CHECK-NEXT:        %[[C3:.*]] = arith.constant 3 : index
// CHECK-NEXT:        %[[C:.*]] = arith.muli %[[B]], %[[C3]] : index
// CHECK-NEXT:        %[[C2:.*]] = arith.constant 2 : index
// CHECK-NEXT:        %i = arith.addi %[[C]], %[[C2]] : index
// CHECK-NEXT:        loop.for %k = 0 to 3 step 1 axis "k" {
// CHECK:               memref.store %z, %x[%i, %k] : memref<26x3xf32>
// CHECK-NOT:     axis "i.tail"
// CHECK:         func.return

// -----

// The tail copy of a loop nest renames the inner loops so that axis names stay unique.
func.func @split_tail_nest(%x: memref<5x3xf32>) attributes {loop.kernel, loop.schedule = "[{\"primitive\": \"split\", \"axis\": \"i\", \"factor\": 2}]"} {
  loop.for %i = 0 to 5 step 1 axis "i" {
    loop.for %k = 0 to 3 step 1 axis "k" {
      %z = arith.constant 0.0 : f32
      memref.store %z, %x[%i, %k] : memref<5x3xf32>
    }
  }
  func.return
}

// CHECK-LABEL: func.func @split_tail_nest
// CHECK:         loop.for %i.outer = 0 to 2 step 1 axis "i.outer" {
// CHECK:           loop.for %i.inner = 0 to 2 step 1 axis "i.inner" {
// CHECK:             loop.for %k = 0 to 3 step 1 axis "k" {
// CHECK:         loop.for %{{.*}} = 4 to 5 step 1 axis "i.tail" {
// CHECK-NEXT:      loop.for %{{.*}} = 0 to 3 step 1 axis "k.tail" {
