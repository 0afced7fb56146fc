// RUN: compiler-opt %s -p convert-parallel-to-gomp | filecheck %s

llvm.func internal @k__parallel_0(%p: !llvm.ptr, %n: i64, %v: vector<16xf32>, %begin: i64, %end: i64) {
  llvm.return
}
llvm.func @k(%p: !llvm.ptr, %n: i64, %v: vector<16xf32>) {
  %zero = llvm.mlir.constant(0) : i64
  %trips = llvm.mlir.constant(10) : i64
  llvm.call @k__parallel_0(%p, %n, %v, %zero, %trips) {compiler.parallel} : (!llvm.ptr, i64, vector<16xf32>, i64, i64) -> ()
  llvm.return
}

// The wrapper unpacks the captures and the range, and calls the outlined
// function on each chunk that libgomp hands out; without `compiler.chunks`
// the range is cut into 4 chunks per thread of the team.
// CHECK:      llvm.func internal @k__parallel_0__omp(%data: !llvm.ptr) attributes {no_unwind} {
// CHECK-NEXT:   %{{.*}} = llvm.getelementptr inbounds %data[0, 0]
// CHECK-NEXT:   %[[A:.*]] = llvm.load %{{.*}} : !llvm.ptr -> !llvm.ptr
// CHECK:        %[[C:.*]] = llvm.load %{{.*}} : !llvm.ptr -> vector<16xf32>
// CHECK:        %[[T:.*]] = llvm.call @omp_get_num_threads() : () -> i32
// CHECK-NEXT:   %[[TW:.*]] = llvm.sext %[[T]] : i32 to i64
// CHECK-NEXT:   %[[PER:.*]] = llvm.mlir.constant(4) : i64
// CHECK-NEXT:   %{{.*}} = llvm.mul %[[TW]], %[[PER]] : i64
// CHECK:        llvm.call @GOMP_loop_dynamic_start
// CHECK:        llvm.call @k__parallel_0(%[[A]], %{{.*}}, %[[C]], %{{.*}}, %{{.*}}) : (!llvm.ptr, i64, vector<16xf32>, i64, i64) -> ()
// CHECK-NEXT:   llvm.call @GOMP_loop_dynamic_next
// CHECK:        llvm.call @GOMP_loop_end_nowait() : () -> ()
// CHECK-NEXT:   llvm.return

// The captures travel in a struct on the caller's stack (entry block);
// GOMP_parallel runs the wrapper on compiler_num_threads threads.
// CHECK:      llvm.func @k(%[[P:.*]]: !llvm.ptr, %{{.*}}: i64, %[[V:.*]]: vector<16xf32>) {
// CHECK-NEXT:   %[[ONE:.*]] = llvm.mlir.constant(1) : i64
// CHECK-NEXT:   %[[S:.*]] = llvm.alloca %[[ONE]] x !llvm.struct<(!llvm.ptr, i64, vector<16xf32>, i64, i64)> {alignment = 64 : i64} : (i64) -> !llvm.ptr
// CHECK:        %[[F0:.*]] = llvm.getelementptr inbounds %[[S]][0, 0] : (!llvm.ptr) -> !llvm.ptr, !llvm.struct<(!llvm.ptr, i64, vector<16xf32>, i64, i64)>
// CHECK-NEXT:   llvm.store %[[P]], %[[F0]] : !llvm.ptr, !llvm.ptr
// CHECK:        llvm.store %[[V]], %{{.*}} : vector<16xf32>, !llvm.ptr
// CHECK:        llvm.store %{{.*}}, %{{.*}} : i64, !llvm.ptr
// CHECK:        llvm.store %{{.*}}, %{{.*}} : i64, !llvm.ptr
// CHECK-NEXT:   %[[G:.*]] = llvm.mlir.addressof @compiler_num_threads : !llvm.ptr
// CHECK-NEXT:   %[[T:.*]] = llvm.load %[[G]] {alignment = 4 : i64} : !llvm.ptr -> i32
// CHECK-NEXT:   %[[FN:.*]] = llvm.mlir.addressof @k__parallel_0__omp : !llvm.ptr
// CHECK-NEXT:   %[[Z:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT:   llvm.call @GOMP_parallel(%[[FN]], %[[S]], %[[T]], %[[Z]]) : (!llvm.ptr, !llvm.ptr, i32, i32) -> ()
// CHECK-NEXT:   llvm.return
// CHECK:      llvm.func @GOMP_parallel(!llvm.ptr, !llvm.ptr, i32, i32)
// CHECK-NEXT: llvm.func @GOMP_loop_dynamic_start(i64, i64, i64, i64, !llvm.ptr, !llvm.ptr) -> i8
// CHECK-NEXT: llvm.func @GOMP_loop_dynamic_next(!llvm.ptr, !llvm.ptr) -> i8
// CHECK-NEXT: llvm.func @GOMP_loop_end_nowait()
// CHECK-NEXT: llvm.func @omp_get_num_threads() -> i32
// CHECK:      llvm.mlir.global internal @compiler_num_threads(0 : i32) {addr_space = 0 : i32, alignment = 4 : i64} : i32
// CHECK:      llvm.func @compiler_set_num_threads(%{{.*}}: i32) {
