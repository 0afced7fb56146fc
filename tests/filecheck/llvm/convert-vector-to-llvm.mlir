// RUN: compiler-opt %s --split-input-file -p convert-vector-to-llvm | filecheck %s

// vector.load/store: one GEP over the linearized index, element alignment.
func.func @rows(%m: memref<8x64xf32>, %i: index, %j: index) {
  %v = vector.load %m[%i, %j] : memref<8x64xf32>, vector<16xf32>
  %c2 = arith.constant 2 : index
  vector.store %v, %m[%c2, %j] : memref<8x64xf32>, vector<16xf32>
  func.return
}

// CHECK-LABEL: func.func @rows
// CHECK:         %[[P:.*]] = builtin.unrealized_conversion_cast %m : memref<8x64xf32> to !llvm.ptr
// CHECK:         %[[S:.*]] = llvm.mlir.constant(64) : i64
// CHECK-NEXT:    %[[R:.*]] = llvm.mul %{{.*}}, %[[S]] : i64
// CHECK:         %[[L:.*]] = llvm.add %[[R]], %{{.*}} : i64
// CHECK-NEXT:    %[[A:.*]] = llvm.getelementptr inbounds %[[P]][%[[L]]] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK-NEXT:    %v = llvm.load %[[A]] {alignment = 4 : i64} : !llvm.ptr -> vector<16xf32>
// Constant row index 2 folds into the GEP as 128 elements:
// CHECK:         llvm.mlir.constant(128) : i64
// CHECK:         llvm.store %v, %{{.*}} {alignment = 4 : i64} : vector<16xf32>, !llvm.ptr

// -----

// Broadcast is insertelement + a zero shufflevector; fma, extract, insert map 1:1.
func.func @lanes(%x: f32, %v: vector<8xf32>, %k: index) -> f32 {
  %b = vector.broadcast %x : f32 to vector<8xf32>
  %f = vector.fma %b, %v, %v : vector<8xf32>
  %e = vector.extract %f[%k] : f32 from vector<8xf32>
  %i = vector.insert %e, %f[3] : f32 into vector<8xf32>
  %s = vector.reduction <add>, %i : vector<8xf32> into f32
  func.return %s : f32
}

// CHECK-LABEL: func.func @lanes
// CHECK-NEXT:    %0 = llvm.mlir.undef : vector<8xf32>
// CHECK-NEXT:    %1 = llvm.mlir.constant(0) : i64
// CHECK-NEXT:    %2 = llvm.insertelement %x, %0[%1 : i64] : vector<8xf32>
// CHECK-NEXT:    %b = llvm.shufflevector %2, %2 [0, 0, 0, 0, 0, 0, 0, 0] : vector<8xf32>
// CHECK-NEXT:    %f = llvm.intr.fma(%b, %v, %v) : (vector<8xf32>, vector<8xf32>, vector<8xf32>) -> vector<8xf32>
// CHECK-NEXT:    %3 = builtin.unrealized_conversion_cast %k : index to i64
// CHECK-NEXT:    %e = llvm.extractelement %f[%3 : i64] : vector<8xf32>
// CHECK-NEXT:    %4 = llvm.mlir.constant(3) : i64
// CHECK-NEXT:    %i = llvm.insertelement %e, %f[%4 : i64] : vector<8xf32>
// An ordered fadd reduction starts from -0.0, the neutral element:
// CHECK-NEXT:    %5 = llvm.mlir.constant(-0.000000e+00 : f32) : f32
// CHECK-NEXT:    %s = "llvm.intr.vector.reduce.fadd"(%5, %i) <{fastmathFlags = #llvm.fastmath<none>}> : (f32, vector<8xf32>) -> f32

// -----

// Integer reductions with an accumulator, shuffles, masks.
func.func @more(%v: vector<8xi32>, %acc: i32, %n: index, %m: memref<20xi32>) -> (i32, vector<8xi32>) {
  %r = vector.reduction <maxsi>, %v, %acc : vector<8xi32> into i32
  %s = vector.shuffle %v, %v [7, 6, 5, 4, 3, 2, 1, 0] : vector<8xi32>, vector<8xi32>
  %mask = vector.create_mask %n : vector<8xi1>
  %c16 = arith.constant 16 : index
  %l = vector.maskedload %m[%c16], %mask, %s : memref<20xi32>, vector<8xi1>, vector<8xi32> into vector<8xi32>
  func.return %r, %l : i32, vector<8xi32>
}

// CHECK-LABEL: func.func @more
// CHECK-NEXT:    %0 = llvm.intr.vector.reduce.smax(%v) : (vector<8xi32>) -> i32
// CHECK-NEXT:    %r = llvm.intr.smax(%0, %acc) : (i32, i32) -> i32
// CHECK-NEXT:    %s = llvm.shufflevector %v, %v [7, 6, 5, 4, 3, 2, 1, 0] : vector<8xi32>
// CHECK-NEXT:    %1 = llvm.mlir.constant(dense<[0, 1, 2, 3, 4, 5, 6, 7]> : vector<8xi64>) : vector<8xi64>
// CHECK:         %mask = llvm.icmp "slt" %1, %{{.*}} : vector<8xi64>
// CHECK:         %[[A:.*]] = llvm.getelementptr inbounds %{{.*}}[16] : (!llvm.ptr) -> !llvm.ptr, i32
// CHECK-NEXT:    %l = llvm.intr.masked.load %[[A]], %mask, %s {alignment = 4 : i32} : (!llvm.ptr, vector<8xi1>, vector<8xi32>) -> vector<8xi32>
