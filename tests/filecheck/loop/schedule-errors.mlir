// Illegal schedules are one-line errors naming the kernel, the step and the loop.
// Each RUN line puts its own schedule in place of SCHED.

// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"split\\", \\"axis\\": \\"nope\\", \\"factor\\": 2}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=AXIS
// AXIS: compiler-opt: error: kernel @k, step 0 (split): no loop named 'nope' in kernel @k (loops: 'i', 'k', 'e')

// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"parallel\\", \\"axis\\": \\"k\\"}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=RED
// RED: compiler-opt: error: kernel @k, step 0 (parallel): parallel 'k': %y is stored at an address that does not depend on 'k' (a reduction over it)

// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"vectorize\\", \\"axis\\": \\"i\\"}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=VEC
// VEC: compiler-opt: error: kernel @k, step 0 (vectorize): vectorize 'i': its body holds the loop 'k'; vectorize an innermost loop (or unroll the inner ones first)

// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"split\\", \\"axis\\": \\"k\\", \\"factor\\": 5}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=BIG
// BIG: compiler-opt: error: kernel @k, step 0 (split): split 'k' by 5: the factor exceeds the loop's 4 iterations

// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"split\\", \\"axis\\": \\"k\\", \\"factor\\": 0}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=ZERO
// ZERO: compiler-opt: error: split: factor must be a positive integer, got 0

// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"reorder\\", \\"axes\\": [\\"e\\", \\"i\\"]}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=NEST
// NEST: compiler-opt: error: kernel @k, step 0 (reorder): reorder ['e', 'i']: loops are not perfectly nested

// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"fuse\\", \\"outer\\": \\"k\\", \\"inner\\": \\"i\\"}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=FUSE
// FUSE: compiler-opt: error: kernel @k, step 0 (fuse): fuse 'k' and 'i': 'i' must be the only op in the body of 'k'

// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"parallel\\", \\"axis\\": \\"i\\"}, {\\"primitive\\": \\"parallel\\", \\"axis\\": \\"k\\"}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=TWICE
// TWICE: compiler-opt: error: kernel @k, step 1 (parallel): parallel 'k':

// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"tile\\", \\"axis\\": \\"i\\"}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=UNKNOWN
// UNKNOWN: compiler-opt: error: unknown schedule primitive 'tile' (known: bind, bind_reduce, bind_strided, cache_read, cache_write, compute_at, dot, fuse, pack, parallel, reorder, split, unroll, vectorize)

// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"split\\", \\"axis\\": \\"i\\"}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=MISSING
// MISSING: compiler-opt: error: split: missing parameter(s) factor

// RUN: sed -e 's/SCHED/not json/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=JSON
// JSON: compiler-opt: error: schedule is not valid JSON

// cache_write at a loop that a reduction loop encloses: the tile would
// restart the reduction at every iteration of k.
// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"reorder\\", \\"axes\\": [\\"k\\", \\"i\\"]}, {\\"primitive\\": \\"cache_write\\", \\"axis\\": \\"i\\"}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=CWRED
// CWRED: compiler-opt: error: kernel @k, step 1 (cache_write): cache_write 'i': loop 'k' does not index the buffer (a reduction outside the tile would restart it); place the tile inside it

// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"cache_write\\", \\"axis\\": \\"i\\", \\"position\\": \\"outside\\"}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=CWPOS
// CWPOS: compiler-opt: error: cache_write: position must be one of inside, around, got 'outside'

// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"unroll\\", \\"axis\\": \\"i\\", \\"factor\\": -2}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=UNEG
// UNEG: compiler-opt: error: unroll: factor must be a non-negative integer, got -2

// A kernel without stages: compute_at names none.
// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"compute_at\\", \\"stage\\": \\"init\\", \\"axis\\": \\"i\\"}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=NOSTAGE
// NOSTAGE: compiler-opt: error: kernel @k, step 0 (compute_at): compute_at 'init' at 'i': no stage named 'init' (stages: none)

func.func @k(%A: memref<4x4xf32>, %y: memref<4xf32>) attributes {loop.kernel, loop.schedule = "SCHED"} {
  loop.for %i = 0 to 4 step 1 axis "i" {
    loop.for %k = 0 to 4 step 1 axis "k" {
      %a = memref.load %A[%i, %k] : memref<4x4xf32>
      %acc = memref.load %y[%i] : memref<4xf32>
      %s = arith.addf %acc, %a : f32
      memref.store %s, %y[%i] : memref<4xf32>
    }
  }
  loop.for %e = 0 to 4 step 1 axis "e" {
    %z = arith.constant 0.0 : f32
    memref.store %z, %y[%e] : memref<4xf32>
  }
  func.return
}
