// RUN: compiler-opt %s --split-input-file -p apply-schedule | filecheck %s

// compute_at(stage, axis) moves a whole `init` or `epilogue` stage into the
// loop `axis` of the nest that updates its buffer, over the box of the buffer
// that one iteration of `axis` touches: `<loop>.init` loops at the top of the
// body (before the updates) or `<loop>.epi` loops at its end (after them),
// mirroring the loops inside `axis` that index the buffer. The stage's own
// nest is removed. The kernels are a 1-D max pool over the rows of %x
// (window of 3) with a scale by 0.5 as epilogue.

// The init stage at the row loop i (the window loop w is outside the column
// loop j, as the pool schedule orders them): each row of %y is set to -inf
// by a "j.init" loop right before the window loop, in the row's iteration.
func.func @init_at_row(%x: memref<4x8xf32>, %y: memref<4x6xf32>) attributes {loop.kernel, loop.schedule = "[{\"primitive\": \"reorder\", \"axes\": [\"w\", \"j\"]}, {\"primitive\": \"compute_at\", \"stage\": \"init\", \"axis\": \"i\"}]"} {
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

// CHECK-LABEL: func.func @init_at_row
// CHECK-NEXT:    loop.for %i = 0 to 4 step 1 axis "i" stage "compute" {
// CHECK-NEXT:      loop.for %[[J:.*]] = 0 to 6 step 1 axis "j.init" {
// CHECK-NEXT:        %ninf = arith.constant 0xff800000 : f32
// CHECK-NEXT:        memref.store %ninf, %y[%i, %[[J]]] : memref<4x6xf32>
// CHECK-NEXT:      }
// CHECK-NEXT:      loop.for %w = 0 to 3 step 1 axis "w" {
// CHECK-NEXT:        loop.for %[[JJ:.*]] = 0 to 6 step 1 axis "j" {
// CHECK-NEXT:          %col = arith.addi %[[JJ]], %w : index
// CHECK-NEXT:          %v = memref.load %x[%i, %col] : memref<4x8xf32>
// CHECK-NEXT:          %a = memref.load %y[%i, %[[JJ]]] : memref<4x6xf32>
// CHECK-NEXT:          %m = arith.maximumf %a, %v : f32
// CHECK-NEXT:          memref.store %m, %y[%i, %[[JJ]]] : memref<4x6xf32>
// CHECK-NEXT:        }
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:    loop.for %i1 = 0 to 4 step 1 axis "i1" stage "epilogue" {

// -----

// The epilogue stage at the row loop: a "j.epi" loop after the window loop
// loads each element of the finished row, scales it and stores it back.
func.func @epilogue_at_row(%x: memref<4x8xf32>, %y: memref<4x6xf32>) attributes {loop.kernel, loop.schedule = "[{\"primitive\": \"reorder\", \"axes\": [\"w\", \"j\"]}, {\"primitive\": \"compute_at\", \"stage\": \"epilogue\", \"axis\": \"i\"}]"} {
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

// CHECK-LABEL: func.func @epilogue_at_row
// CHECK-NEXT:    loop.for %i0 = 0 to 4 step 1 axis "i0" stage "init" {
// CHECK:         loop.for %i = 0 to 4 step 1 axis "i" stage "compute" {
// CHECK-NEXT:      loop.for %w = 0 to 3 step 1 axis "w" {
// CHECK-NEXT:        loop.for %{{.*}} = 0 to 6 step 1 axis "j" {
// CHECK:               memref.store %m, %y[%i, %{{.*}}] : memref<4x6xf32>
// CHECK-NEXT:        }
// CHECK-NEXT:      }
// CHECK-NEXT:      loop.for %[[J:.*]] = 0 to 6 step 1 axis "j.epi" {
// CHECK-NEXT:        %[[E:.*]] = memref.load %y[%i, %[[J]]] : memref<4x6xf32>
// CHECK-NEXT:        %h = arith.constant 5.000000e-01 : f32
// CHECK-NEXT:        %r = arith.mulf %[[E]], %h : f32
// CHECK-NEXT:        memref.store %r, %y[%i, %[[J]]] : memref<4x6xf32>
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return

// -----

// Both stages at the element loop j: one iteration of j touches one element,
// so no loops are mirrored; the init store comes before the window loop and
// the epilogue after it, and both nests are gone.
func.func @both_at_element(%x: memref<4x8xf32>, %y: memref<4x6xf32>) attributes {loop.kernel, loop.schedule = "[{\"primitive\": \"compute_at\", \"stage\": \"init\", \"axis\": \"j\"}, {\"primitive\": \"compute_at\", \"stage\": \"epilogue\", \"axis\": \"j\"}]"} {
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

// CHECK-LABEL: func.func @both_at_element
// CHECK-NEXT:    loop.for %i = 0 to 4 step 1 axis "i" stage "compute" {
// CHECK-NEXT:      loop.for %j = 0 to 6 step 1 axis "j" {
// CHECK-NEXT:        %ninf = arith.constant 0xff800000 : f32
// CHECK-NEXT:        memref.store %ninf, %y[%i, %j] : memref<4x6xf32>
// CHECK-NEXT:        loop.for %w = 0 to 3 step 1 axis "w" {
// CHECK:               memref.store %m, %y[%i, %j] : memref<4x6xf32>
// CHECK-NEXT:        }
// CHECK-NEXT:        %[[E:.*]] = memref.load %y[%i, %j] : memref<4x6xf32>
// CHECK-NEXT:        %h = arith.constant 5.000000e-01 : f32
// CHECK-NEXT:        %r = arith.mulf %[[E]], %h : f32
// CHECK-NEXT:        memref.store %r, %y[%i, %j] : memref<4x6xf32>
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return
