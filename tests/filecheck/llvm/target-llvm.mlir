// RUN: compiler-opt %s -t llvm | filecheck %s
// RUN: compiler-opt %s -t llvm-opt | filecheck %s --check-prefix=OPT

// -t llvm prints LLVM IR, including the ops xDSL's llvm dialect lacks, with
// intrinsic names mangled by type.
llvm.func @f(%x: !llvm.ptr, %v: vector<16xf32>, %s: f32, %m: vector<16xi1>) -> f32 {
  %t = llvm.intr.tanh(%v) : (vector<16xf32>) -> vector<16xf32>
  %ts = llvm.intr.tanh(%s) : (f32) -> f32
  %c = llvm.fcmp "olt" %t, %v : vector<16xf32>
  %sel = llvm.select %c, %t, %v : vector<16xi1>, vector<16xf32>
  %i = llvm.fptosi %ts : f32 to i32
  %u = llvm.uitofp %i : i32 to f32
  %zero = llvm.mlir.constant(0) : i64
  %e = llvm.extractelement %sel[%zero : i64] : vector<16xf32>
  %l = llvm.intr.masked.load %x, %m, %v {alignment = 4 : i32} : (!llvm.ptr, vector<16xi1>, vector<16xf32>) -> vector<16xf32>
  llvm.intr.masked.store %l, %x, %m {alignment = 4 : i32} : vector<16xf32>, vector<16xi1> into !llvm.ptr
  %mx = llvm.intr.vector.reduce.fmaximum(%l) : (vector<16xf32>) -> f32
  %sum = llvm.fadd %e, %u : f32
  %r = llvm.fadd %sum, %mx : f32
  llvm.return %r : f32
}

// CHECK:      define float @"f"(ptr %".1", <16 x float> %".2", float %".3", <16 x i1> %".4")
// CHECK:        call <16 x float> @"llvm.tanh.v16f32"(<16 x float> %".2")
// CHECK-NEXT:   call float @"llvm.tanh.f32"(float %".3")
// CHECK-NEXT:   fcmp olt <16 x float>
// CHECK-NEXT:   select <16 x i1>
// CHECK-NEXT:   fptosi float %{{.*}} to i32
// CHECK-NEXT:   uitofp i32 %{{.*}} to float
// CHECK-NEXT:   extractelement <16 x float>
// CHECK-NEXT:   call <16 x float> @"llvm.masked.load.v16f32.p0"(ptr %".1", i32 4, <16 x i1> %".4", <16 x float> %".2")
// CHECK-NEXT:   call void @"llvm.masked.store.v16f32.p0"(<16 x float> %{{.*}}, ptr %".1", i32 4, <16 x i1> %".4")
// CHECK-NEXT:   call float @"llvm.vector.reduce.fmaximum.v16f32"(<16 x float>
// CHECK:      declare <16 x float> @"llvm.tanh.v16f32"(<16 x float> %{{.*}})
// CHECK:      declare float @"llvm.tanh.f32"(float %{{.*}})

// LLVM accepts the IR (upgrading the masked-load alignment operand to an
// attribute) and optimizes it for the host.
// OPT:        define float @f(ptr {{.*}}, <16 x float> %{{.*}}, float %{{.*}}, <16 x i1> %{{.*}})
// OPT:        call <16 x float> @llvm.masked.load.v16f32.p0(ptr align 4
