// RUN: compiler-opt %s -p convert-to-llvm | filecheck %s

// The whole chain: a vectorized parallel kernel called from a model-level
// entry on views of the arena and the weights blob.
func.func private @relu(%x: memref<4x32xf32>, %y: memref<4x32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %zero = arith.constant dense<0.0> : vector<16xf32>
  "scf.parallel"(%c0, %c4, %c1) <{operandSegmentSizes = array<i32: 1, 1, 1, 0>}> ({
  ^bb0(%i: index):
    scf.for %j = %c0 to %c32 step %c16 {
      %v = vector.load %x[%i, %j] : memref<4x32xf32>, vector<16xf32>
      %r = arith.maximumf %v, %zero : vector<16xf32>
      vector.store %r, %y[%i, %j] : memref<4x32xf32>, vector<16xf32>
    }
    scf.reduce
  }) : (index, index, index) -> ()
  func.return
}

func.func @main(%arena: memref<1024xi8>, %params: memref<512xi8>) {
  %c0 = arith.constant 0 : index
  %c512 = arith.constant 512 : index
  %x = memref.view %params[%c0][] : memref<512xi8> to memref<4x32xf32>
  %y = memref.view %arena[%c512][] : memref<1024xi8> to memref<4x32xf32>
  func.call @relu(%x, %y) : (memref<4x32xf32>, memref<4x32xf32>) -> ()
  func.return
}

// Only llvm ops remain; no casts are left.
// CHECK-NOT:  unrealized_conversion_cast
// CHECK-NOT:  memref.
// CHECK-NOT:  scf.
// CHECK:      llvm.func internal @relu(%x: !llvm.ptr, %y: !llvm.ptr) attributes {no_unwind} {
// CHECK:        llvm.call @GOMP_parallel
// CHECK:      llvm.func internal @relu__parallel_0(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %begin: i64, %end: i64)
// CHECK:        llvm.load %{{.*}} {alignment = 4 : i64} : !llvm.ptr -> vector<16xf32>
// CHECK:        llvm.intr.maximum
// CHECK:        llvm.store %{{.*}}, %{{.*}} {alignment = 4 : i64} : vector<16xf32>, !llvm.ptr
// CHECK:      llvm.func internal @relu__parallel_0__omp(%data: !llvm.ptr)
// CHECK:        llvm.call @GOMP_loop_dynamic_start
// CHECK:      llvm.func @main(%arena: !llvm.ptr, %params: !llvm.ptr) attributes {no_unwind} {
// CHECK-NEXT:   %[[Y:.*]] = llvm.getelementptr inbounds %arena[512] : (!llvm.ptr) -> !llvm.ptr, i8
// CHECK-NEXT:   llvm.call @relu(%params, %[[Y]]) : (!llvm.ptr, !llvm.ptr) -> ()
// CHECK-NEXT:   llvm.return
// CHECK:      llvm.func @omp_get_num_threads() -> i32
// CHECK:      llvm.func @compiler_set_num_threads
