// RUN: compiler-opt %s -p "widen-half-floats{native-f16=true}" | filecheck %s
// RUN: compiler-opt %s -p "widen-half-floats{native-f16=false}" | filecheck %s --check-prefix=SOFT

// 16-bit storage, f32 compute. With F16C (native-f16): f16 loads are followed
// by extf and stores preceded by truncf; bf16 (and f16 without F16C) memrefs
// become i16 bit patterns with integer conversions. The local accumulator
// becomes f32; a Cast to f16 still rounds (truncf then extf).
func.func @axpy(%x: memref<16xf16>, %y: memref<16xbf16>, %out: memref<16xf16>) {
  %c0 = arith.constant 0 : index
  %acc = memref.alloca() : memref<8xf16>
  %two = arith.constant 2.000000e+00 : f16
  %vx = vector.load %x[%c0] : memref<16xf16>, vector<8xf16>
  %vy = vector.load %y[%c0] : memref<16xbf16>, vector<8xbf16>
  %wy = arith.extf %vy : vector<8xbf16> to vector<8xf32>
  %n = arith.truncf %wy : vector<8xf32> to vector<8xf16>
  %s = vector.broadcast %two : f16 to vector<8xf16>
  %r = vector.fma %vx, %s, %n : vector<8xf16>
  vector.store %r, %acc[%c0] : memref<8xf16>, vector<8xf16>
  %a = vector.load %acc[%c0] : memref<8xf16>, vector<8xf16>
  vector.store %a, %out[%c0] : memref<16xf16>, vector<8xf16>
  func.return
}

// CHECK-LABEL: func.func @axpy(%x: memref<16xf16>, %y: memref<16xi16>, %out: memref<16xf16>)
// CHECK:         %acc = memref.alloca() : memref<8xf32>
// CHECK-NEXT:    %two = arith.constant 2.000000e+00 : f32
// CHECK-NEXT:    %vx = vector.load %x[%c0] : memref<16xf16>, vector<8xf16>
// CHECK-NEXT:    %vx_1 = arith.extf %vx : vector<8xf16> to vector<8xf32>
// CHECK-NEXT:    %vy = vector.load %y[%c0] : memref<16xi16>, vector<8xi16>
// CHECK-NEXT:    %0 = llvm.zext %vy : vector<8xi16> to vector<8xi32>
// CHECK-NEXT:    %1 = arith.constant dense<16> : vector<8xi32>
// CHECK-NEXT:    %2 = arith.shli %0, %1 : vector<8xi32>
// CHECK-NEXT:    %vy_1 = arith.bitcast %2 : vector<8xi32> to vector<8xf32>
// CHECK-NEXT:    %3 = arith.truncf %vy_1 : vector<8xf32> to vector<8xf16>
// CHECK-NEXT:    %n = arith.extf %3 : vector<8xf16> to vector<8xf32>
// CHECK-NEXT:    %s = vector.broadcast %two : f32 to vector<8xf32>
// CHECK-NEXT:    %r = vector.fma %vx_1, %s, %n : vector<8xf32>
// CHECK-NEXT:    vector.store %r, %acc[%c0] : memref<8xf32>, vector<8xf32>
// CHECK-NEXT:    %a = vector.load %acc[%c0] : memref<8xf32>, vector<8xf32>
// CHECK-NEXT:    %4 = arith.truncf %a : vector<8xf32> to vector<8xf16>
// CHECK-NEXT:    vector.store %4, %out[%c0] : memref<16xf16>, vector<8xf16>

// SOFT-LABEL: func.func @axpy(%x: memref<16xi16>, %y: memref<16xi16>, %out: memref<16xi16>)
// SOFT:         %acc = memref.alloca() : memref<8xf32>
// SOFT:         %vx = vector.load %x[%c0] : memref<16xi16>, vector<8xi16>
// SOFT-NEXT:    llvm.zext %vx : vector<8xi16> to vector<8xi32>
// SOFT:         arith.constant dense<5.19229686e+33> : vector<8xf32>
// SOFT:         %vx_1 = arith.bitcast %{{.*}} : vector<8xi32> to vector<8xf32>
// SOFT:         vector.store %r, %acc[%c0] : memref<8xf32>, vector<8xf32>
// SOFT-NEXT:    %a = vector.load %acc[%c0] : memref<8xf32>, vector<8xf32>
// SOFT-NEXT:    arith.bitcast %a : vector<8xf32> to vector<8xi32>
// SOFT:         %[[H:.*]] = llvm.trunc %{{.*}} : vector<8xi32> to vector<8xi16>
// SOFT-NEXT:    vector.store %[[H]], %out[%c0] : memref<16xi16>, vector<8xi16>
// SOFT-NOT:     f16
