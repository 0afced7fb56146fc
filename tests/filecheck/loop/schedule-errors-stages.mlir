// Illegal placements of stages (cache_write, compute_at) are one-line errors
// naming the kernel, the step, the stage and the loop. Each RUN line puts its
// own schedule in place of SCHED (see schedule-errors.mlir).

// compute_at of a stage the kernel does not have lists the stages it has.
// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"compute_at\\", \\"stage\\": \\"prologue\\", \\"axis\\": \\"i\\"}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=UNKNOWN
// UNKNOWN: compiler-opt: error: kernel @s, step 0 (compute_at): compute_at 'prologue' at 'i': no stage named 'prologue' (stages: compute, epilogue, init)

// compute_at must cover every update of the buffer: after a split with a
// remainder, the main part alone is refused (the remainder would read the
// buffer before the stage ran).
// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"split\\", \\"axis\\": \\"i\\", \\"factor\\": 2}, {\\"primitive\\": \\"compute_at\\", \\"stage\\": \\"init\\", \\"axis\\": \\"i.outer\\"}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=TAIL
// TAIL: compiler-opt: error: kernel @s, step 1 (compute_at): compute_at 'init' at 'i.outer': nest 'i.tail' also updates the buffer; compute_at must cover every update (no split remainders)

// The same for the remainder alone, once the main part has a tile.
// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"split\\", \\"axis\\": \\"i\\", \\"factor\\": 2}, {\\"primitive\\": \\"cache_write\\", \\"axis\\": \\"i.outer\\"}, {\\"primitive\\": \\"compute_at\\", \\"stage\\": \\"epilogue\\", \\"axis\\": \\"i.tail\\"}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=MAIN
// MAIN: compiler-opt: error: kernel @s, step 2 (compute_at): compute_at 'epilogue' at 'i.tail': nest 'i.outer' also updates the buffer; compute_at must cover every update (no split remainders)

// A stage is placed at a loop of another nest, not at one of its own.
// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"compute_at\\", \\"stage\\": \\"init\\", \\"axis\\": \\"i.init\\"}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=OWN
// OWN: compiler-opt: error: kernel @s, step 0 (compute_at): compute_at 'init' at 'i.init': the loop belongs to the stage itself

// A stage is placed whole: splitting it first leaves two nests.
// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"split\\", \\"axis\\": \\"i.init\\", \\"factor\\": 2}, {\\"primitive\\": \\"compute_at\\", \\"stage\\": \\"init\\", \\"axis\\": \\"i\\"}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=SPLIT
// SPLIT: compiler-opt: error: kernel @s, step 1 (compute_at): compute_at 'init' at 'i': the stage has 2 nests; place it before splitting it

// Inside the reduction loop k, the epilogue would run before the sum is complete.
// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"compute_at\\", \\"stage\\": \\"epilogue\\", \\"axis\\": \\"k\\"}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=RED
// RED: compiler-opt: error: kernel @s, step 0 (compute_at): compute_at 'epilogue' at 'k': loop 'k' does not index the buffer (a reduction outside the tile would restart it); place the tile inside it

// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"compute_at\\", \\"axis\\": \\"i\\"}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=MISSING
// MISSING: compiler-opt: error: compute_at: missing parameter(s) stage

func.func @s(%a: memref<5x3xf32>, %b: memref<3xf32>, %y: memref<5xf32>) attributes {loop.kernel, loop.schedule = "SCHED"} {
  loop.for %ii = 0 to 5 step 1 axis "i.init" stage "init" {
    %z = arith.constant 0.0 : f32
    memref.store %z, %y[%ii] : memref<5xf32>
  }
  loop.for %i = 0 to 5 step 1 axis "i" stage "compute" {
    loop.for %k = 0 to 3 step 1 axis "k" {
      %av = memref.load %a[%i, %k] : memref<5x3xf32>
      %bv = memref.load %b[%k] : memref<3xf32>
      %acc = memref.load %y[%i] : memref<5xf32>
      %p = arith.mulf %av, %bv : f32
      %s = arith.addf %acc, %p : f32
      memref.store %s, %y[%i] : memref<5xf32>
    }
  }
  loop.for %ie = 0 to 5 step 1 axis "i.epi" stage "epilogue" {
    %v = memref.load %y[%ie] : memref<5xf32>
    %zero = arith.constant 0.0 : f32
    %r = arith.maximumf %v, %zero : f32
    memref.store %r, %y[%ie] : memref<5xf32>
  }
  func.return
}
