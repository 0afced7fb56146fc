// RUN: compiler-opt %s -p convert-math-to-llvm | filecheck %s
// RUN: compiler-opt %s -p 'convert-math-to-llvm{approximate=false}' | filecheck %s --check-prefix=EXACT

func.func @math(%x: f32, %v: vector<4xf32>, %d: f64) -> (f32, vector<4xf32>, f64, vector<4xf32>, f32, vector<4xf32>) {
  %s = math.sqrt %x : f32
  %r = math.rsqrt %v : vector<4xf32>
  %p = math.powf %d, %d : f64
  %t = math.tanh %v : vector<4xf32>
  %rn = math.roundeven %x : f32
  %e = math.erf %v : vector<4xf32>
  %l = math.log1p %x : f32
  %sum = arith.addf %s, %rn : f32
  %all = arith.addf %sum, %l : f32
  func.return %all, %r, %p, %t, %x, %e : f32, vector<4xf32>, f64, vector<4xf32>, f32, vector<4xf32>
}

// Intrinsics where LLVM has one; rsqrt is an exact division by sqrt.
// CHECK-LABEL: func.func @math
// CHECK:         %s = llvm.intr.sqrt(%x) : (f32) -> f32
// CHECK:         %[[ROOT:.*]] = llvm.intr.sqrt(%v) : (vector<4xf32>) -> vector<4xf32>
// CHECK-NEXT:    %[[ONE:.*]] = llvm.mlir.constant(dense<1.000000e+00> : vector<4xf32>) : vector<4xf32>
// CHECK-NEXT:    %r = llvm.fdiv %[[ONE]], %[[ROOT]] : vector<4xf32>
// CHECK-NEXT:    %p = llvm.intr.pow(%d, %d) : (f64, f64) -> f64
// f32 tanh is a polynomial (default): no call, a select between two ranges.
// CHECK-NOT:     llvm.intr.tanh
// CHECK:         llvm.fcmp "ogt" %{{.*}}, %{{.*}} : vector<4xf32>
// CHECK:         %t = llvm.select
// CHECK:         %rn = llvm.intr.roundeven(%x) : (f32) -> f32
// f32 erf: Eigen's rational approximation, clamped to [-1, 1].
// CHECK:         llvm.fdiv
// CHECK:         %e = llvm.select
// No intrinsic for log1p: a libm call.
// CHECK:         %l = llvm.call @log1pf(%x) : (f32) -> f32
// CHECK:       llvm.func @log1pf(f32) -> f32

// With approximate=false: tanh is the LLVM intrinsic, erf calls erff per lane.
// EXACT-LABEL: func.func @math
// EXACT:         %t = llvm.intr.tanh(%v) : (vector<4xf32>) -> vector<4xf32>
// EXACT:         %[[U:.*]] = llvm.mlir.undef : vector<4xf32>
// EXACT-COUNT-4: llvm.call @erff
// EXACT:         %e = llvm.insertelement
// EXACT:       llvm.func @erff(f32) -> f32
