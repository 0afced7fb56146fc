// Row reductions on the GPU (compiler/schedule/rules/gpu_rows.py): a row per
// block, its reductions across the block's threads (bind_reduce: a partial
// per thread, combined by warp shuffles, then across warps through shared
// memory; every thread gets the result) and its element-wise phases spread
// over the same threads (bind_strided).
// RUN: compiler-opt %s -p 'default-schedule{target=cuda}' | filecheck %s --check-prefix=SCHED
// RUN: compiler-opt %s -p 'default-schedule{target=cuda},apply-schedule' -t cuda | filecheck %s

// Softmax over rows of 300: 128 threads (about four elements each), four warps.
// SCHED-LABEL: func.func @softmax
// SCHED-SAME: \22primitive\22: \22bind\22, \22axis\22: \22d0\22, \22thread\22: \22blockIdx.x\22
// SCHED-SAME: \22primitive\22: \22bind_reduce\22, \22axis\22: \22max\22, \22threads\22: 128
// SCHED-SAME: \22primitive\22: \22bind_reduce\22, \22axis\22: \22exp\22, \22threads\22: 128
// SCHED-SAME: \22primitive\22: \22bind_strided\22, \22axis\22: \22norm\22, \22threads\22: 128
// Rows of 20 (shorter than a warp): one warp per row, 20 of its lanes busy.
// SCHED-LABEL: func.func @rowsum
// SCHED-SAME: \22primitive\22: \22bind_reduce\22, \22axis\22: \22j\22, \22threads\22: 32

// CHECK: // launch softmax_0 grid=(4, 1, 1) block=(128, 1, 1)
// CHECK: // launch rowsum_1 grid=(6, 1, 1) block=(32, 1, 1)
// 2048 rows of 16: four rows (a warp each) per block, one per threadIdx.y.
// CHECK: // launch rowmax_1 grid=(512, 1, 1) block=(32, 4, 1)
// CHECK-LABEL: __launch_bounds__(128) softmax_0(
// CHECK: const long long [[ROW:v[0-9]+]] = 0LL + (long long)blockIdx.x * 1LL;
// CHECK: const long long [[T:v[0-9]+]] = 0LL + (long long)threadIdx.x * 1LL;
// CHECK: maximumf(
// The remainder of 300 = 2 x 128 + 44: the first 44 threads take one more element.
// CHECK: if (threadIdx.x < 44) {
// CHECK: float [[M:r[0-9]+]] = {{v[0-9]+}}[0];
// CHECK: [[M]] = maximumf([[M]], __shfl_xor_sync(0xffffffffu, [[M]], {{o[0-9]+}}));
// CHECK: __shared__ float [[S:s[0-9]+]][4];
// CHECK: if ((threadIdx.x & 31) == 0) [[S]][threadIdx.x / 32] = [[M]];
// CHECK-NEXT: __syncthreads();
// CHECK-NEXT: [[M]] = (threadIdx.x & 31) < 4 ? [[S]][(threadIdx.x & 31)] : __int_as_float(0xff800000);
// CHECK: expf(
// CHECK: __shfl_xor_sync
// CHECK: __shared__ float
// CHECK-LABEL: __launch_bounds__(32) rowsum_1(
// CHECK: float [[P:v[0-9]+]][1];
// CHECK: if (threadIdx.x < 20) {
// CHECK: [[P]][0] =
// CHECK: float [[R:r[0-9]+]] = (threadIdx.x < 20) ? [[P]][0] : 0x0.0p+0f;
// CHECK: [[R]] = [[R]] + __shfl_xor_sync(0xffffffffu, [[R]], {{o[0-9]+}});
// CHECK-NOT: __shared__
// The accumulator is in global memory: thread 0 stores it, between barriers.
// CHECK: __syncthreads();
// CHECK-NEXT: if (threadIdx.x == 0) a1[{{.*}}] = {{r[0-9]+}}_acc + [[R]];
// CHECK-NEXT: __syncthreads();

func.func @softmax(%x: memref<4x300xf32>, %y: memref<4x300xf32>) attributes {loop.kernel, loop.workload = "{\22op\22:\22graph.softmax\22}"} {
  %c0 = arith.constant 0 : index
  loop.for %r = 0 to 4 step 1 axis "d0" {
    %m = memref.alloca() : memref<1xf32>
    %s = memref.alloca() : memref<1xf32>
    %ninf = arith.constant 0xff800000 : f32
    memref.store %ninf, %m[%c0] : memref<1xf32>
    loop.for %k = 0 to 300 step 1 axis "max" {
      %a = memref.load %x[%r, %k] : memref<4x300xf32>
      %b = memref.load %m[%c0] : memref<1xf32>
      %c = arith.maximumf %b, %a : f32
      memref.store %c, %m[%c0] : memref<1xf32>
    }
    %zero = arith.constant 0.0 : f32
    memref.store %zero, %s[%c0] : memref<1xf32>
    loop.for %k = 0 to 300 step 1 axis "exp" {
      %a = memref.load %x[%r, %k] : memref<4x300xf32>
      %b = memref.load %m[%c0] : memref<1xf32>
      %d = arith.subf %a, %b : f32
      %e = math.exp %d : f32
      %t = memref.load %s[%c0] : memref<1xf32>
      %u = arith.addf %t, %e : f32
      memref.store %u, %s[%c0] : memref<1xf32>
      memref.store %e, %y[%r, %k] : memref<4x300xf32>
    }
    loop.for %k = 0 to 300 step 1 axis "norm" {
      %a = memref.load %y[%r, %k] : memref<4x300xf32>
      %t = memref.load %s[%c0] : memref<1xf32>
      %q = arith.divf %a, %t : f32
      memref.store %q, %y[%r, %k] : memref<4x300xf32>
    }
  }
  func.return
}

// ReduceSum over rows of 20 into a global accumulator (init nest, then the reduction).
func.func @rowsum(%x: memref<6x20xf32>, %y: memref<6xf32>) attributes {loop.kernel, loop.workload = "{\22op\22:\22graph.reduce_sum\22}"} {
  loop.for %i = 0 to 6 step 1 axis "i.init" {
    %z = arith.constant 0.0 : f32
    memref.store %z, %y[%i] : memref<6xf32>
  }
  loop.for %i = 0 to 6 step 1 axis "i" {
    loop.for %j = 0 to 20 step 1 axis "j" {
      %a = memref.load %x[%i, %j] : memref<6x20xf32>
      %b = memref.load %y[%i] : memref<6xf32>
      %c = arith.addf %b, %a : f32
      memref.store %c, %y[%i] : memref<6xf32>
    }
  }
  func.return
}

// ReduceMax over 2048 rows of 16: short rows share a block (rows_per_block).
// SCHED-LABEL: func.func @rowmax
// SCHED-SAME: \22primitive\22: \22split\22, \22axis\22: \22i\22, \22factor\22: 4
// SCHED-SAME: \22primitive\22: \22bind\22, \22axis\22: \22i.inner\22, \22thread\22: \22threadIdx.y\22
// SCHED-SAME: \22primitive\22: \22bind_reduce\22, \22axis\22: \22j\22, \22threads\22: 32
// CHECK-LABEL: __launch_bounds__(128) rowmax_1(
// CHECK: (long long)blockIdx.x
// CHECK: (long long)threadIdx.y
// CHECK: if (threadIdx.x < 16) {
// CHECK: maximumf({{r[0-9]+}}, __shfl_xor_sync(0xffffffffu,
// CHECK-NOT: __shared__
// CHECK: if (threadIdx.x == 0) a1[
func.func @rowmax(%x: memref<2048x16xf32>, %y: memref<2048xf32>) attributes {loop.kernel, loop.workload = "{\22op\22:\22graph.reduce_max\22}"} {
  loop.for %i = 0 to 2048 step 1 axis "i.init" {
    %z = arith.constant 0xff800000 : f32
    memref.store %z, %y[%i] : memref<2048xf32>
  }
  loop.for %i = 0 to 2048 step 1 axis "i" {
    loop.for %j = 0 to 16 step 1 axis "j" {
      %a = memref.load %x[%i, %j] : memref<2048x16xf32>
      %b = memref.load %y[%i] : memref<2048xf32>
      %c = arith.maximumf %b, %a : f32
      memref.store %c, %y[%i] : memref<2048xf32>
    }
  }
  func.return
}
