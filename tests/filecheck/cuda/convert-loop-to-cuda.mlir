// convert-loop-to-cuda (`-t cuda`): each top-level nest of a GPU-scheduled
// kernel is one __global__ function, launched with its bound loops' trip
// counts as grid and block; what the threads do not cover stays a C loop.
// RUN: compiler-opt %s -p 'default-schedule{target=cuda},apply-schedule' -t cuda | filecheck %s
// RUN: compiler-opt %s -t cuda | filecheck %s
// RUN: compiler-opt %s -p 'default-schedule{target=cuda}' | filecheck %s --check-prefix=SCHED

// A row-wise reduction: an init nest, then the update nest whose `j` is not
// independent, so its data-parallel prefix is the 96 rows: they fit one block
// (threads), and each thread loops over its row's 40 columns.
// SCHED-LABEL: func.func @rowsum
// SCHED-SAME: \22primitive\22: \22bind\22, \22axis\22: \22i\22, \22thread\22: \22threadIdx.x\22
// CHECK: // launch rowsum_0 grid=(1, 1, 1) block=(96, 1, 1)
// CHECK: // launch rowsum_1 grid=(1, 1, 1) block=(96, 1, 1)
// An element-wise 8 x 300: the 300 columns exceed a block of 256, so they are
// split by the largest divisor up to 256 (150, no remainder nest): threads x
// blockIdx.y; the rows are blockIdx.x.
// CHECK: // launch scale_0 grid=(8, 2, 1) block=(150, 1, 1)
// CHECK-LABEL: extern "C" __global__ void __launch_bounds__(96) rowsum_0(float* __restrict__ a0, float* __restrict__ a1) {
// CHECK: const long long [[I:v[0-9]+]] = 0LL + (long long)threadIdx.x * 1LL;
// CHECK: const float [[Z:v[0-9]+]] = 0x0.0p+0f;
// CHECK: a1[[[I]]] = [[Z]];
// CHECK-LABEL: rowsum_1(
// CHECK: const long long [[R:v[0-9]+]] = 0LL + (long long)threadIdx.x * 1LL;
// CHECK: for (long long [[J:v[0-9]+]] = 0LL; [[J]] < 40LL; [[J]] += 1LL) {
// CHECK: const float [[X:v[0-9]+]] = a0[[[R]] * 40LL + [[J]]];
// CHECK: a1[[[R]]] = {{v[0-9]+}};
// CHECK-LABEL: __launch_bounds__(150) scale_0(
// CHECK: (long long)blockIdx.x
// CHECK: (long long)blockIdx.y
// CHECK: (long long)threadIdx.x
// CHECK: maximumf(
func.func @rowsum(%A: memref<96x40xf32>, %S: memref<96xf32>) attributes {loop.kernel} {
  loop.for %i = 0 to 96 step 1 axis "i" stage "init" {
    %z = arith.constant 0.0 : f32
    memref.store %z, %S[%i] : memref<96xf32>
  }
  loop.for %r = 0 to 96 step 1 axis "r" stage "compute" {
    loop.for %j = 0 to 40 step 1 axis "j" {
      %a = memref.load %A[%r, %j] : memref<96x40xf32>
      %s = memref.load %S[%r] : memref<96xf32>
      %t = arith.addf %s, %a : f32
      memref.store %t, %S[%r] : memref<96xf32>
    }
  }
  func.return
}

func.func @scale(%A: memref<8x300xf32>, %B: memref<8x300xf32>) attributes {loop.kernel} {
  loop.for %i = 0 to 8 step 1 axis "i" {
    loop.for %j = 0 to 300 step 1 axis "j" {
      %a = memref.load %A[%i, %j] : memref<8x300xf32>
      %two = arith.constant 2.0 : f32
      %m = arith.mulf %a, %two : f32
      %r = arith.maximumf %m, %a : f32
      memref.store %r, %B[%i, %j] : memref<8x300xf32>
    }
  }
  func.return
}
