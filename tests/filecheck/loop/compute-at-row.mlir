// RUN: compiler-opt %s -p apply-schedule | filecheck %s

// The init stage and the epilogue stage both placed at the row loop i (as
// the default pool schedule does): the second compute_at ignores the nest the
// first one made, and the row gets j.init, the update and j.epi loops.
func.func @both_at_row(%x: memref<4x8xf32>, %y: memref<4x6xf32>) attributes {loop.kernel, loop.schedule = "[{\"primitive\": \"reorder\", \"axes\": [\"w\", \"j\"]}, {\"primitive\": \"compute_at\", \"stage\": \"init\", \"axis\": \"i\"}, {\"primitive\": \"compute_at\", \"stage\": \"epilogue\", \"axis\": \"i\"}]"} {
  loop.for %i0 = 0 to 4 step 1 axis "i0" stage "init" {
    loop.for %j0 = 0 to 6 step 1 axis "j0" {
      %ninf = arith.constant 0xFF800000 : f32
      memref.store %ninf, %y[%i0, %j0] : memref<4x6xf32>
    }
  }
  loop.for %i = 0 to 4 step 1 axis "i" stage "compute" {
    loop.for %j = 0 to 6 step 1 axis "j" {
      loop.for %w = 0 to 3 step 1 axis "w" {
        %col = arith.addi %j, %w : index
        %v = memref.load %x[%i, %col] : memref<4x8xf32>
        %a = memref.load %y[%i, %j] : memref<4x6xf32>
        %m = arith.maximumf %a, %v : f32
        memref.store %m, %y[%i, %j] : memref<4x6xf32>
      }
    }
  }
  loop.for %i1 = 0 to 4 step 1 axis "i1" stage "epilogue" {
    loop.for %j1 = 0 to 6 step 1 axis "j1" {
      %e = memref.load %y[%i1, %j1] : memref<4x6xf32>
      %h = arith.constant 0.5 : f32
      %r = arith.mulf %e, %h : f32
      memref.store %r, %y[%i1, %j1] : memref<4x6xf32>
    }
  }
  func.return
}

// CHECK-LABEL: func.func @both_at_row
// CHECK-NEXT:    loop.for %i = 0 to 4 step 1 axis "i" stage "compute" {
// CHECK-NEXT:      loop.for %[[J:.*]] = 0 to 6 step 1 axis "j.init" {
// CHECK-NEXT:        %ninf = arith.constant 0xff800000 : f32
// CHECK-NEXT:        memref.store %ninf, %y[%i, %[[J]]] : memref<4x6xf32>
// CHECK-NEXT:      }
// CHECK-NEXT:      loop.for %w = 0 to 3 step 1 axis "w" {
// CHECK-NEXT:        loop.for %{{.*}} = 0 to 6 step 1 axis "j" {
// CHECK:               memref.store %m, %y[%i, %{{.*}}] : memref<4x6xf32>
// CHECK-NEXT:        }
// CHECK-NEXT:      }
// CHECK-NEXT:      loop.for %[[JE:.*]] = 0 to 6 step 1 axis "j.epi" {
// CHECK-NEXT:        %[[E:.*]] = memref.load %y[%i, %[[JE]]] : memref<4x6xf32>
// CHECK-NEXT:        %h = arith.constant 5.000000e-01 : f32
// CHECK-NEXT:        %r = arith.mulf %[[E]], %h : f32
// CHECK-NEXT:        memref.store %r, %y[%i, %[[JE]]] : memref<4x6xf32>
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return
