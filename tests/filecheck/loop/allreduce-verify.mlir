// loop.allreduce (the combine step of bind_reduce) accepts only associative,
// commutative combiners, one partial per thread, and matching types.
// RUN: compiler-opt %s --split-input-file --verify-diagnostics | filecheck %s

func.func @divide(%p: memref<32xf32>, %acc: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  loop.allreduce "divf" %p into %acc[%c0] : memref<32xf32>, memref<1xf32>
  func.return
}
// CHECK: loop.allreduce: combiner 'divf' is not supported (add, mul, max, min: addf, mulf, maximumf, minimumf, maxnumf, minnumf, addi, muli, maxsi, minsi, maxui, minui)

// -----

func.func @too_many(%p: memref<2048xf32>, %acc: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  loop.allreduce "addf" %p into %acc[%c0] : memref<2048xf32>, memref<1xf32>
  func.return
}
// CHECK: loop.allreduce: the partials must be one per thread, memref<T x ...> with T <= 1024, got memref<2048xf32>

// -----

func.func @types(%p: memref<32xf64>, %acc: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  loop.allreduce "addf" %p into %acc[%c0] : memref<32xf64>, memref<1xf32>
  func.return
}
// CHECK: loop.allreduce: partials memref<32xf64> and accumulator memref<1xf32> differ in element type

// -----

func.func @ok(%p: memref<32xf32>, %acc: memref<4xf32>) {
  %c1 = arith.constant 1 : index
  loop.allreduce "maximumf" %p into %acc[%c1] : memref<32xf32>, memref<4xf32>
  func.return
}
// CHECK: loop.allreduce "maximumf" %{{.*}} into %{{.*}}[%{{.*}}] : memref<32xf32>, memref<4xf32>
