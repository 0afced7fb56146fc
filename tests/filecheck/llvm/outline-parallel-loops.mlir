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

// The loop becomes a marked call over the whole range [0, trips), with the
// runtime's chunk count (0); constants are cloned, not captured.
// CHECK:      func.func @scale(%a: memref<8x64xf32>, %s: f32) {
// CHECK:        %zero = arith.constant 0 : index
// CHECK:        %trips = arith.maxsi
// CHECK-NEXT:   func.call @scale__parallel_0(%a, %s, %zero, %trips) {compiler.parallel, compiler.chunks = 0 : i64} : (memref<8x64xf32>, f32, index, index) -> ()
// CHECK-NEXT:   func.return
// The outlined function runs the iterations [begin, end) of the range.
// CHECK:      func.func private @scale__parallel_0(%a: memref<8x64xf32>, %s: f32, %begin: index, %end: index) {
// CHECK:        %[[B:.*]] = arith.muli %begin, %c1 : index
// CHECK-NEXT:   %lo = arith.addi %c0, %[[B]] : index
// CHECK-NEXT:   %[[E:.*]] = arith.muli %end, %c1 : index
// CHECK-NEXT:   %[[HI:.*]] = arith.addi %c0, %[[E]] : index
// CHECK-NEXT:   %hi = arith.minsi %[[HI]], %c8 : index
// CHECK-NEXT:   scf.for %i = %lo to %hi step %c1 {
// CHECK-NEXT:     scf.for %j = %c0 to %c64 step %c1 {
// CHECK:        func.return
// CHECK-NOT:  omp_get

// SEQ:        func.func @scale
// SEQ:          scf.for %i = %c0 to %c8 step %c1 {
// SEQ-NEXT:       scf.for %j = %c0 to %c64 step %c1 {
// SEQ-NOT:    omp_get
