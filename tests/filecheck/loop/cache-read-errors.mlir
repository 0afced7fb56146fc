// cache_read(scope="shared") stages a read-only operand of a block's threads
// in shared memory; misuses are one-line errors naming the kernel and step.
// Each RUN line puts its own schedule in place of SCHED; PRE is the loops of
// a block: row i on blockIdx.x, the reduction k, then the columns j on threads.

// The copy, with barriers around the threads' use (see compiler/schedule/gpu_memory.py).
// RUN: sed -e 's/SCHED/[PRE, {\\"primitive\\": \\"cache_read\\", \\"axis\\": \\"k\\", \\"operand\\": 1}]/' -e 's/PRE/{\\"primitive\\": \\"reorder\\", \\"axes\\": [\\"k\\", \\"j\\"]}, {\\"primitive\\": \\"bind\\", \\"axis\\": \\"i\\", \\"thread\\": \\"blockIdx.x\\"}, {\\"primitive\\": \\"bind\\", \\"axis\\": \\"j\\", \\"thread\\": \\"threadIdx.x\\"}/' %s | compiler-opt -p apply-schedule | filecheck %s --check-prefix=OK
// OK: %shared1 = memref.alloca() {loop.scope = "shared"} : memref<1x8xf32>
// OK: loop.for %{{.*}} = 0 to 6 step 1 axis "k" {
// OK-NEXT: loop.for %{{.*}} = 0 to 8 step 1 axis "k.copy1.x" threadIdx.x {
// OK: memref.store %{{.*}}, %shared1[%{{.*}}, %{{.*}}] : memref<1x8xf32>
// OK: } attributes {loop.copy, loop.placed}
// OK-NEXT: loop.barrier
// OK-NEXT: loop.for %{{.*}} = 0 to 8 step 1 axis "j" threadIdx.x {
// OK: memref.load %shared1[
// OK: loop.barrier
// OK-NEXT: }

// The output is written by the kernel: only read-only operands are staged.
// RUN: sed -e 's/SCHED/[PRE, {\\"primitive\\": \\"cache_read\\", \\"axis\\": \\"k\\", \\"operand\\": 2}]/' -e 's/PRE/{\\"primitive\\": \\"reorder\\", \\"axes\\": [\\"k\\", \\"j\\"]}, {\\"primitive\\": \\"bind\\", \\"axis\\": \\"i\\", \\"thread\\": \\"blockIdx.x\\"}, {\\"primitive\\": \\"bind\\", \\"axis\\": \\"j\\", \\"thread\\": \\"threadIdx.x\\"}/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=WRITTEN
// WRITTEN: compiler-opt: error: kernel @s, step 3 (cache_read): cache_read of operand 2 at 'k': the kernel writes that buffer; only read-only operands are staged

// Every thread of the block takes part in the copy: not inside a thread loop.
// RUN: sed -e 's/SCHED/[PRE, {\\"primitive\\": \\"cache_read\\", \\"axis\\": \\"j\\", \\"operand\\": 0}]/' -e 's/PRE/{\\"primitive\\": \\"reorder\\", \\"axes\\": [\\"k\\", \\"j\\"]}, {\\"primitive\\": \\"bind\\", \\"axis\\": \\"i\\", \\"thread\\": \\"blockIdx.x\\"}, {\\"primitive\\": \\"bind\\", \\"axis\\": \\"j\\", \\"thread\\": \\"threadIdx.x\\"}/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=THREAD
// THREAD: compiler-opt: error: kernel @s, step 3 (cache_read): cache_read of operand 0 at 'j': the loop must be a serial loop outside the thread-bound loops (every thread of the block takes part in the copy)

// Shared memory belongs to a block: the loop must be inside one.
// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"reorder\\", \\"axes\\": [\\"k\\", \\"j\\"]}, {\\"primitive\\": \\"bind\\", \\"axis\\": \\"j\\", \\"thread\\": \\"threadIdx.x\\"}, {\\"primitive\\": \\"cache_read\\", \\"axis\\": \\"k\\", \\"operand\\": 0}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=NOBLOCK
// NOBLOCK: compiler-opt: error: kernel @s, step 2 (cache_read): cache_read of operand 0 at 'k': the loop is not inside a loop bound to blockIdx (shared memory is per block)

// A thread's own copy is a register tile (cache_write with scope local), not a cache_read.
// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"cache_read\\", \\"axis\\": \\"k\\", \\"operand\\": 0, \\"scope\\": \\"local\\"}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=SCOPE
// SCOPE: compiler-opt: error: cache_read: scope must be 'shared' (a thread's own copy is a register tile: cache_write), got 'local'

// RUN: sed -e 's/SCHED/[PRE, {\\"primitive\\": \\"cache_read\\", \\"axis\\": \\"k\\", \\"operand\\": 7}]/' -e 's/PRE/{\\"primitive\\": \\"reorder\\", \\"axes\\": [\\"k\\", \\"j\\"]}, {\\"primitive\\": \\"bind\\", \\"axis\\": \\"i\\", \\"thread\\": \\"blockIdx.x\\"}, {\\"primitive\\": \\"bind\\", \\"axis\\": \\"j\\", \\"thread\\": \\"threadIdx.x\\"}/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=ARG
// ARG: compiler-opt: error: kernel @s, step 3 (cache_read): cache_read of operand 7 at 'k': the kernel has 3 arguments

func.func @s(%a: memref<4x6xf32>, %b: memref<6x8xf32>, %y: memref<4x8xf32>) attributes {loop.kernel, loop.schedule = "SCHED"} {
  loop.for %i = 0 to 4 step 1 axis "i" stage "compute" {
    loop.for %j = 0 to 8 step 1 axis "j" {
      loop.for %k = 0 to 6 step 1 axis "k" {
        %av = memref.load %a[%i, %k] : memref<4x6xf32>
        %bv = memref.load %b[%k, %j] : memref<6x8xf32>
        %acc = memref.load %y[%i, %j] : memref<4x8xf32>
        %p = arith.mulf %av, %bv : f32
        %s = arith.addf %acc, %p : f32
        memref.store %s, %y[%i, %j] : memref<4x8xf32>
      }
    }
  }
  func.return
}
