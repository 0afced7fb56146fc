// RUN: compiler-opt %s -p outline-parallel-loops | filecheck %s
// RUN: compiler-opt %s -p convert-to-llvm | filecheck %s --check-prefix=LLVM

// A parallel loop whose schedule asks for 7 chunks (`parallel` with chunks=7),
// over 10 iterations from 1 with step 2 (5 iterations).
func.func @fill(%out: memref<10xi64>) {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c10 = arith.constant 10 : index
  %c7 = arith.constant 7 : i64
  "scf.parallel"(%c1, %c10, %c2) <{operandSegmentSizes = array<i32: 1, 1, 1, 0>}> ({
  ^bb0(%i: index):
    memref.store %c7, %out[%i] : memref<10xi64>
    scf.reduce
  }) {compiler.chunks = 7 : i64} : (index, index, index) -> ()
  func.return
}

// The call keeps the chunk count; its range is [0, ceildiv(10 - 1, 2)).
// CHECK:      func.func @fill(%out: memref<10xi64>) {
// CHECK:        %zero = arith.constant 0 : index
// CHECK-NEXT:   %[[SPAN:.*]] = arith.subi %c10, %c1 : index
// CHECK-NEXT:   %[[Q:.*]] = arith.ceildivsi %[[SPAN]], %c2 : index
// CHECK-NEXT:   %trips = arith.maxsi %[[Q]], %zero : index
// CHECK-NEXT:   func.call @fill__parallel_0(%out, %zero, %trips) {compiler.parallel, compiler.chunks = 7 : i64}
// CHECK:      func.func private @fill__parallel_0(%out: memref<10xi64>, %begin: index, %end: index) {
// CHECK:        %[[B:.*]] = arith.muli %begin, %c2 : index
// CHECK-NEXT:   %lo = arith.addi %c1, %[[B]] : index
// CHECK:        %hi = arith.minsi %{{.*}}, %c10 : index
// CHECK-NEXT:   scf.for %i = %lo to %hi step %c2 {

// The wrapper cuts [begin, end) into chunks of ceildiv(end - begin, 7) (at
// least 1) iterations and runs the chunks that libgomp hands this thread.
// LLVM:      llvm.func internal @fill__parallel_0__omp(%data: !llvm.ptr) attributes {no_unwind} {
// LLVM:        %[[BEGIN:.*]] = llvm.load %{{.*}} : !llvm.ptr -> i64
// LLVM:        %[[END:.*]] = llvm.load %{{.*}} : !llvm.ptr -> i64
// LLVM-NEXT:   %[[N:.*]] = llvm.mlir.constant(7) : i64
// LLVM-NEXT:   %[[ONE:.*]] = llvm.mlir.constant(1) : i64
// LLVM-NEXT:   %[[SPAN:.*]] = llvm.sub %[[END]], %[[BEGIN]] : i64
// LLVM-NEXT:   %[[NM1:.*]] = llvm.sub %[[N]], %[[ONE]] : i64
// LLVM-NEXT:   %[[R:.*]] = llvm.add %[[SPAN]], %[[NM1]] : i64
// LLVM-NEXT:   %[[Q:.*]] = llvm.sdiv %[[R]], %[[N]] : i64
// LLVM-NEXT:   %[[GT:.*]] = llvm.icmp "sgt" %[[Q]], %[[ONE]] : i64
// LLVM-NEXT:   %[[SIZE:.*]] = llvm.select %[[GT]], %[[Q]], %[[ONE]] : i1, i64
// LLVM:        %lo = llvm.alloca
// LLVM-NEXT:   %hi = llvm.alloca
// LLVM-NEXT:   %[[GOT:.*]] = llvm.call @GOMP_loop_dynamic_start(%[[BEGIN]], %[[END]], %{{.*}}, %[[SIZE]], %lo, %hi) : (i64, i64, i64, i64, !llvm.ptr, !llvm.ptr) -> i8
// LLVM:        llvm.cond_br %{{.*}}, ^[[BODY:.*]], ^[[DONE:.*]]
// LLVM-NEXT: ^[[BODY]]:
// LLVM-NEXT:   %[[LO:.*]] = llvm.load %lo : !llvm.ptr -> i64
// LLVM-NEXT:   %[[HI:.*]] = llvm.load %hi : !llvm.ptr -> i64
// LLVM-NEXT:   llvm.call @fill__parallel_0(%{{.*}}, %[[LO]], %[[HI]]) : (!llvm.ptr, i64, i64) -> ()
// LLVM-NEXT:   %{{.*}} = llvm.call @GOMP_loop_dynamic_next(%lo, %hi) : (!llvm.ptr, !llvm.ptr) -> i8
// LLVM:        llvm.cond_br %{{.*}}, ^[[BODY]], ^[[DONE]]
// LLVM-NEXT: ^[[DONE]]:
// LLVM-NEXT:   llvm.call @GOMP_loop_end_nowait() : () -> ()
// LLVM-NEXT:   llvm.return
