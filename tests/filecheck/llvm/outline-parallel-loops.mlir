// RUN: compiler-opt %s -p outline-parallel-loops | filecheck %s
// RUN: compiler-opt %s -p 'outline-parallel-loops{sequential=true}' | filecheck %s --check-prefix=SEQ

func.func @scale(%a: memref<8x64xf32>, %s: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c64 = arith.constant 64 : index
  "scf.parallel"(%c0, %c8, %c1) <{operandSegmentSizes = array<i32: 1, 1, 1, 0>}> ({
  ^bb0(%i: index):
    scf.for %j = %c0 to %c64 step %c1 {
      %x = memref.load %a[%i, %j] : memref<8x64xf32>
      %y = arith.mulf %x, %s : f32
      memref.store %y, %a[%i, %j] : memref<8x64xf32>
    }
    scf.reduce
  }) : (index, index, index) -> ()
  func.return
}

// The loop becomes a marked call; constants are cloned, not captured.
// CHECK:      func.func @scale(%a: memref<8x64xf32>, %s: f32) {
// CHECK:        func.call @scale__parallel_0(%a, %s) {compiler.parallel} : (memref<8x64xf32>, f32) -> ()
// CHECK-NEXT:   func.return
// The outlined function runs its block of the iteration range.
// CHECK:      func.func private @scale__parallel_0(%a: memref<8x64xf32>, %s: f32) {
// CHECK:        %[[TID32:.*]] = func.call @omp_get_thread_num() : () -> i32
// CHECK-NEXT:   %[[NT32:.*]] = func.call @omp_get_num_threads() : () -> i32
// CHECK-NEXT:   %tid = arith.index_cast %[[TID32]] : i32 to index
// CHECK-NEXT:   %nthreads = arith.index_cast %[[NT32]] : i32 to index
// CHECK:        %[[TRIPS:.*]] = arith.maxsi
// CHECK-NEXT:   %[[CHUNK:.*]] = arith.ceildivsi %[[TRIPS]], %nthreads : index
// CHECK-NEXT:   %[[B0:.*]] = arith.muli %tid, %[[CHUNK]] : index
// CHECK-NEXT:   %[[BEGIN:.*]] = arith.minsi %[[B0]], %[[TRIPS]] : index
// CHECK:        %hi = arith.minsi
// CHECK-NEXT:   scf.for %i = %lo to %hi step %c1 {
// CHECK-NEXT:     scf.for %j = %c0 to %c64 step %c1 {
// CHECK:        func.return
// CHECK:      func.func private @omp_get_thread_num() -> i32
// CHECK-NEXT: func.func private @omp_get_num_threads() -> i32

// SEQ:        func.func @scale
// SEQ:          scf.for %i = %c0 to %c8 step %c1 {
// SEQ-NEXT:       scf.for %j = %c0 to %c64 step %c1 {
// SEQ-NOT:    omp_get
