// A guarded split that makes no sense is one line naming the step, and exit 1.
// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"split\\", \\"axis\\": \\"i\\", \\"factor\\": 4, \\"tail\\": \\"guard\\"}, {\\"primitive\\": \\"vectorize\\", \\"axis\\": \\"i.inner\\"}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=VEC
// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"split\\", \\"axis\\": \\"i\\", \\"factor\\": 4, \\"tail\\": \\"clamp\\"}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=TAIL
// VEC: compiler-opt: error: kernel @copy, step 1 (vectorize): vectorize 'i.inner': its body runs under a tail guard (a guarded split); split it with the default tail (peel) to vectorize
// TAIL: compiler-opt: error: {{.*}}split: tail must be one of peel, guard, got 'clamp'
// VEC-NOT: Traceback
// TAIL-NOT: Traceback
func.func @copy(%x: memref<10xf32>, %y: memref<10xf32>) attributes {loop.kernel, loop.schedule = "SCHED"} {
  loop.for %i = 0 to 10 step 1 axis "i" {
    %v = memref.load %x[%i] : memref<10xf32>
    memref.store %v, %y[%i] : memref<10xf32>
  }
  func.return
}
