// bind_reduce: a reduction loop across the threads of a block, as an explicit
// rfactor (a partial per thread, thread t taking iterations t, t+T, ...; the
// remainder's loop; then loop.allreduce). bind_strided: the same spread for an
// independent loop. Errors are one line.
// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"bind\\", \\"axis\\": \\"i\\", \\"thread\\": \\"blockIdx.x\\"}, {\\"primitive\\": \\"bind_reduce\\", \\"axis\\": \\"k\\", \\"threads\\": 4}, {\\"primitive\\": \\"bind_strided\\", \\"axis\\": \\"e\\", \\"threads\\": 4}]/' %s | compiler-opt -p apply-schedule | filecheck %s
// CHECK-LABEL: func.func @k
// CHECK: loop.for %{{.*}} = 0 to 3 step 1 axis "i" blockIdx.x {
// CHECK: %[[P:.*]] = memref.alloca() : memref<4xf32>
// CHECK: loop.for %[[T:.*]] = 0 to 4 step 1 axis "k.inner" threadIdx.x {
// CHECK: memref.store %{{.*}}, %[[P]][%[[T]]] : memref<4xf32>
// CHECK: loop.for %{{.*}} = 0 to 2 step 1 axis "k.outer" {
// CHECK: arith.addf
// CHECK: loop.for %[[U:.*]] = 0 to 2 step 1 axis "k.tail" threadIdx.x {
// CHECK: memref.load %[[P]][%[[U]]] : memref<4xf32>
// CHECK: loop.allreduce "addf" %[[P]] into %{{.*}}[%{{.*}}] : memref<4xf32>, memref<3xf32>
// CHECK: axis "e.inner" threadIdx.x
// CHECK: axis "e.tail" threadIdx.x

// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"bind_reduce\\", \\"axis\\": \\"e\\", \\"threads\\": 4}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=NOTRED
// NOTRED: compiler-opt: error: kernel @k, step 0 (bind_reduce): bind_reduce 'e': the loop is not a reduction (nothing accumulates across its iterations); bind it with 'bind'

// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"bind_reduce\\", \\"axis\\": \\"s\\", \\"threads\\": 4}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=COMB
// COMB: compiler-opt: error: kernel @k, step 0 (bind_reduce): bind_reduce 's': %y accumulates with 'arith.subf', not a supported combiner (add, mul, max, min)

// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"bind_strided\\", \\"axis\\": \\"k\\", \\"threads\\": 4}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=STRIDED
// STRIDED: compiler-opt: error: kernel @k, step 0 (bind_strided): bind_strided 'k': %y is stored at an address that does not depend on 'k' (a reduction over it)

// RUN: sed -e 's/SCHED/[{\\"primitive\\": \\"bind_reduce\\", \\"axis\\": \\"k\\", \\"threads\\": 2000}]/' %s | not compiler-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=MANY
// MANY: compiler-opt: error: bind_reduce: threads must be an integer from 1 to 1024, got 2000

func.func @k(%A: memref<3x10xf32>, %y: memref<3xf32>, %B: memref<3x10xf32>) attributes {loop.kernel, loop.schedule = "SCHED"} {
  loop.for %i = 0 to 3 step 1 axis "i" {
    loop.for %k = 0 to 10 step 1 axis "k" {
      %a = memref.load %A[%i, %k] : memref<3x10xf32>
      %acc = memref.load %y[%i] : memref<3xf32>
      %s = arith.addf %acc, %a : f32
      memref.store %s, %y[%i] : memref<3xf32>
    }
    loop.for %e = 0 to 10 step 1 axis "e" {
      %a = memref.load %A[%i, %e] : memref<3x10xf32>
      %acc = memref.load %y[%i] : memref<3xf32>
      %d = arith.mulf %a, %acc : f32
      memref.store %d, %B[%i, %e] : memref<3x10xf32>
    }
    loop.for %s = 0 to 10 step 1 axis "s" {
      %a = memref.load %A[%i, %s] : memref<3x10xf32>
      %acc = memref.load %y[%i] : memref<3xf32>
      %d = arith.subf %acc, %a : f32
      memref.store %d, %y[%i] : memref<3xf32>
    }
  }
  func.return
}
