// RUN: compiler-opt %s --split-input-file -p finalize-memref-to-llvm | filecheck %s

// Views into the i8 arena are byte GEPs; loads/stores one GEP on the element.
func.func @arena(%arena: memref<1024xi8>, %i: index) -> f32 {
  %off = arith.constant 256 : index
  %v = memref.view %arena[%off][] : memref<1024xi8> to memref<4x16xf32>
  %c1 = arith.constant 1 : index
  %x = memref.load %v[%c1, %i] : memref<4x16xf32>
  memref.store %x, %v[%i, %i] : memref<4x16xf32>
  func.return %x : f32
}

// CHECK-LABEL: func.func @arena
// CHECK:         %[[A:.*]] = builtin.unrealized_conversion_cast %arena : memref<1024xi8> to !llvm.ptr
// CHECK-NEXT:    %[[V:.*]] = llvm.getelementptr inbounds %[[A]][256] : (!llvm.ptr) -> !llvm.ptr, i8
// CHECK-NEXT:    %v = builtin.unrealized_conversion_cast %[[V]] : !llvm.ptr to memref<4x16xf32>
// CHECK:         %[[I:.*]] = llvm.add %{{.*}}, %{{.*}} : i64
// CHECK-NEXT:    %[[P:.*]] = llvm.getelementptr inbounds %[[V]][%[[I]]] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK-NEXT:    %x = llvm.load %[[P]] : !llvm.ptr -> f32
// CHECK:         %[[R:.*]] = llvm.mul %{{.*}}, %{{.*}} : i64
// CHECK:         %[[I2:.*]] = llvm.add %[[R]], %{{.*}} : i64
// CHECK-NEXT:    %[[Q:.*]] = llvm.getelementptr inbounds %[[V]][%[[I2]]] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK-NEXT:    llvm.store %x, %[[Q]] : f32, !llvm.ptr

// -----

// A subview moves the pointer to its first element; its strided type keeps
// the source strides for the accesses.
func.func @sub(%m: memref<6x8xf32>, %i: index) -> f32 {
  %s = memref.subview %m[1, 2] [4, 4] [1, 1] : memref<6x8xf32> to memref<4x4xf32, strided<[8, 1], offset: 10>>
  %c0 = arith.constant 0 : index
  %x = memref.load %s[%i, %c0] : memref<4x4xf32, strided<[8, 1], offset: 10>>
  func.return %x : f32
}

// CHECK-LABEL: func.func @sub
// CHECK:         %[[S:.*]] = llvm.getelementptr inbounds %{{.*}}[10] : (!llvm.ptr) -> !llvm.ptr, f32
// CHECK:         %[[M:.*]] = llvm.mul %{{.*}}, %{{.*}} : i64
// CHECK-NEXT:    %[[P:.*]] = llvm.getelementptr inbounds %[[S]][%[[M]]] : (!llvm.ptr, i64) -> !llvm.ptr, f32

// -----

// Allocas are hoisted to the entry block (a loop must not grow the stack).
func.func @scratch(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {
    %tmp = memref.alloca() : memref<16xf32>
    %z = arith.constant 0.0 : f32
    memref.store %z, %tmp[%i] : memref<16xf32>
  }
  func.return
}

// CHECK-LABEL: func.func @scratch
// CHECK-NEXT:    %0 = llvm.mlir.constant(16) : i64
// CHECK-NEXT:    %1 = llvm.alloca %0 x f32 {alignment = 64 : i64} : (i64) -> !llvm.ptr
// CHECK:         scf.for
// CHECK-NOT:     llvm.alloca
// CHECK:         llvm.store

// -----

// Heap buffers, reinterpret_cast, copies and globals.
"memref.global"() <{sym_name = "table", sym_visibility = "private", type = memref<4xf32>, initial_value = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>, constant}> : () -> ()
func.func @misc(%m: memref<6x8xf32>) {
  %h = memref.alloc() : memref<4xf32>
  %r = memref.reinterpret_cast %m to offset: [40], sizes: [4], strides: [1] : memref<6x8xf32> to memref<4xf32, strided<[1], offset: 40>>
  %t = memref.get_global @table : memref<4xf32>
  "memref.copy"(%t, %h) : (memref<4xf32>, memref<4xf32>) -> ()
  "memref.copy"(%r, %h) : (memref<4xf32, strided<[1], offset: 40>>, memref<4xf32>) -> ()
  memref.dealloc %h : memref<4xf32>
  func.return
}

// CHECK:         llvm.mlir.global internal constant @table(dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]> : tensor<4xf32>) {addr_space = 0 : i32, alignment = 64 : i64} : !llvm.array<4 x f32>
// CHECK-LABEL: func.func @misc
// CHECK:         %[[H:.*]] = llvm.call @aligned_alloc(%{{.*}}, %{{.*}}) : (i64, i64) -> !llvm.ptr
// CHECK:         %[[R:.*]] = llvm.getelementptr inbounds %{{.*}}[40] : (!llvm.ptr) -> !llvm.ptr, f32
// CHECK:         %[[T:.*]] = llvm.mlir.addressof @table : !llvm.ptr
// CHECK:         llvm.intr.memcpy %[[H]], %[[T]], %{{.*}} : !llvm.ptr, !llvm.ptr, i64
// CHECK:         llvm.intr.memcpy %[[H]], %[[R]], %{{.*}} : !llvm.ptr, !llvm.ptr, i64
// CHECK:         llvm.call @free(%[[H]]) : (!llvm.ptr) -> ()
// CHECK:       llvm.func @aligned_alloc(i64, i64) -> !llvm.ptr
// CHECK:       llvm.func @free(!llvm.ptr)
