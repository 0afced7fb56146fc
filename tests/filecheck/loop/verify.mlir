// RUN: compiler-opt %s --split-input-file --verify-diagnostics | filecheck %s

func.func @bad_step(%x: memref<8xf32>) {
  loop.for %i = 0 to 8 step 0 axis "i" {
  }
  func.return
}
// CHECK: loop 'i': step must be positive, got 0

// -----

func.func @bad_bounds(%x: memref<8xf32>) {
  loop.for %i = 8 to 4 step 1 axis "i" {
  }
  func.return
}
// CHECK: loop 'i': upper bound 4 is below lower bound 8

// -----

func.func @duplicate_axis(%x: memref<8x8xf32>) {
  loop.for %i = 0 to 8 step 1 axis "i" {
    loop.for %j = 0 to 8 step 1 axis "i" {
    }
  }
  func.return
}
// CHECK: loop axis name 'i' is used twice in one kernel

// -----

func.func @duplicate_axis_across_nests(%x: memref<8xf32>) {
  loop.for %i = 0 to 8 step 1 axis "i" {
  }
  loop.for %j = 0 to 8 step 1 axis "i" {
  }
  func.return
}
// CHECK: loop axis name 'i' is used twice in one kernel

// -----

func.func @nested_parallel(%x: memref<8x8xf32>) {
  loop.for %i = 0 to 8 step 1 axis "i" parallel {
    loop.for %j = 0 to 8 step 1 axis "j" {
      loop.for %k = 0 to 8 step 1 axis "k" parallel {
      }
    }
  }
  func.return
}
// CHECK: loop 'k' (parallel) is nested in loop 'i' (parallel): nested parallel loops are not supported

// -----

func.func @vectorize_not_innermost(%x: memref<8x8xf32>) {
  loop.for %i = 0 to 8 step 1 axis "i" vectorize {
    loop.for %j = 0 to 8 step 1 axis "j" {
    }
  }
  func.return
}
// CHECK: loop 'j' (serial) is nested in loop 'i' (vectorize): a vectorized loop may only contain unrolled loops

// -----

func.func @gpu_inside_cpu(%x: memref<8x8xf32>) {
  loop.for %i = 0 to 8 step 1 axis "i" parallel {
    loop.for %j = 0 to 8 step 1 axis "j" threadIdx.x {
    }
  }
  func.return
}
// CHECK: loop 'j' (threadIdx.x) is nested in loop 'i' (parallel): GPU bindings must be outside CPU-annotated loops

// -----

func.func @parallel_inside_gpu(%x: memref<8x8xf32>) {
  loop.for %i = 0 to 8 step 1 axis "i" blockIdx.x {
    loop.for %j = 0 to 8 step 1 axis "j" parallel {
    }
  }
  func.return
}
// CHECK: loop 'j' (parallel) is nested in loop 'i' (blockIdx.x): CPU threads cannot run inside a GPU binding

// -----

func.func @bound_twice(%x: memref<8x8xf32>) {
  loop.for %i = 0 to 8 step 1 axis "i" blockIdx.x {
    loop.for %j = 0 to 8 step 1 axis "j" blockIdx.x {
    }
  }
  func.return
}
// CHECK: loop 'j' (blockIdx.x) is nested in loop 'i' (blockIdx.x): 'blockIdx.x' is bound twice

// -----

func.func @block_inside_thread(%x: memref<8x8xf32>) {
  loop.for %i = 0 to 8 step 1 axis "i" threadIdx.x {
    loop.for %j = 0 to 8 step 1 axis "j" blockIdx.y {
    }
  }
  func.return
}
// CHECK: loop 'j' (blockIdx.y) is nested in loop 'i' (threadIdx.x): block bindings must be outside thread bindings

// -----

func.func @parallel_inside_unroll(%x: memref<8x8xf32>) {
  loop.for %i = 0 to 8 step 1 axis "i" unroll {
    loop.for %j = 0 to 8 step 1 axis "j" parallel {
    }
  }
  func.return
}
// CHECK: loop 'j' (parallel) is nested in loop 'i' (unroll): an unrolled loop may not contain it

// -----

func.func @unknown_annotation_generic(%x: memref<8xf32>) {
  "loop.for"() <{lb = #builtin.int<0>, ub = #builtin.int<8>, step = #builtin.int<1>, axis = "i", annotation = "simd"}> ({
  ^bb0(%i: index):
    "loop.yield"() : () -> ()
  }) : () -> ()
  func.return
}
// CHECK: loop 'i': unknown annotation 'simd', expected one of serial, parallel, vectorize, unroll, blockIdx.x, blockIdx.y, blockIdx.z, threadIdx.x, threadIdx.y, threadIdx.z

// -----

func.func @two_ivs(%x: memref<8xf32>) {
  "loop.for"() <{lb = #builtin.int<0>, ub = #builtin.int<8>, step = #builtin.int<1>, axis = "i"}> ({
  ^bb0(%i: index, %j: index):
    "loop.yield"() : () -> ()
  }) : () -> ()
  func.return
}
// CHECK: loop.for body must have exactly one 'index' argument

// -----

// A barrier separates the thread-bound phases of a block; inside a phase,
// the threads that skip it (a guarded shorter phase) would hang.
func.func @barrier_in_thread_loop(%x: memref<8xf32>) {
  loop.for %b = 0 to 2 step 1 axis "b" blockIdx.x {
    loop.for %t = 0 to 8 step 1 axis "t" threadIdx.x {
      loop.barrier
    }
  }
  func.return
}
// CHECK: loop.barrier inside loop 't' (threadIdx.x): a barrier separates the thread-bound phases of a block, it cannot be inside one
