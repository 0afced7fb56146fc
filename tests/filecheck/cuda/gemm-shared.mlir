// The GEMM class on a GPU (compiler/schedule/rules/gpu_gemm.py): a block
// computes a 32 x 64 tile of C with 16 x 16 threads, each a 2 x 4 register
// tile (a thread-local array); at each step of k by 8, the block copies the
// 32 x 8 tile of A and the 8 x 64 tile of B into shared memory (B, a weight,
// as float4: 16-byte aligned), waits at a barrier, multiplies, and waits
// again before the next copy. The bias epilogue runs in the write-back.
// RUN: compiler-opt %s -p 'default-schedule{target=cuda}' | filecheck %s --check-prefix=SCHED
// RUN: compiler-opt %s -p 'default-schedule{target=cuda},apply-schedule' | filecheck %s --check-prefix=LOOP
// RUN: compiler-opt %s -t cuda | filecheck %s

// SCHED: \22primitive\22: \22cache_write\22, \22axis\22: \22n.outer\22, \22position\22: \22inside\22, \22scope\22: \22local\22
// SCHED: \22primitive\22: \22cache_read\22, \22axis\22: \22k.outer\22, \22operand\22: 0, \22scope\22: \22shared\22, \22vector\22: 4
// SCHED: \22primitive\22: \22cache_read\22, \22axis\22: \22k.outer\22, \22operand\22: 1, \22scope\22: \22shared\22, \22vector\22: 4

// In the loops, the phases of a block are sibling thread-bound nests:
// LOOP: loop.for %{{.*}} axis "n.outer" blockIdx.x {
// LOOP: %acc = memref.alloca() {loop.scope = "local", loop.thread_dims = 2 : i64} : memref<16x16x2x4xf32>
// LOOP: axis "m.inner.outer.init" threadIdx.y
// LOOP: %shared0 = memref.alloca() {loop.scope = "shared"} : memref<32x8xf32>
// LOOP: %shared1 = memref.alloca() {loop.scope = "shared"} : memref<8x64xf32>
// LOOP: loop.for %{{.*}} axis "k.outer" {
// LOOP: axis "k.outer.copy0.y" threadIdx.y
// LOOP: axis "k.outer.copy1.y" threadIdx.y
// LOOP: loop.barrier
// LOOP: axis "m.inner.outer" threadIdx.y
// LOOP: loop.barrier
// LOOP-NEXT: }
// LOOP: axis "m.inner.outer.wb" threadIdx.y

// CHECK: // launch mm_0 grid=(1, 1, 1) block=(16, 16, 1)
// CHECK-LABEL: __launch_bounds__(256) mm_0(
// The register tile: 2 x 4 per thread, not 16 x 16 x 2 x 4.
// CHECK: float [[ACC:v[0-9]+]][8];
// CHECK: [[Z:v[0-9]+]] = 0x0.0p+0f;
// CHECK-NEXT: [[ACC]][{{.*}}] = [[Z]];
// CHECK: __shared__ __align__(16) float [[A:v[0-9]+]][256];
// CHECK: __shared__ __align__(16) float [[B:v[0-9]+]][512];
// CHECK: for (long long [[KO:v[0-9]+]] = 0LL; [[KO]] < 2LL; [[KO]] += 1LL) {
// A (an activation) is copied one float at a time: its base is not known to be aligned.
// CHECK: [[A]][{{.*}}] = {{v[0-9]+}};
// CHECK: *reinterpret_cast<float4*>(&[[B]][{{.*}}]) = {{v[0-9]+}};
// CHECK: __syncthreads();
// CHECK: = [[A]][
// CHECK: = [[B]][
// CHECK: __syncthreads();
// CHECK-NEXT: }
// CHECK: a3[{{.*}}] = {{v[0-9]+}};
func.func @mm(%A: memref<32x16xf32>, %B: memref<16x64xf32>, %bias: memref<64xf32>, %C: memref<32x64xf32>) attributes {loop.kernel, loop.algorithm = "matmul", loop.constant_operands = array<i64: 1, 2>} {
  loop.for %i = 0 to 32 step 1 axis "m.init" stage "init" {
    loop.for %j = 0 to 64 step 1 axis "n.init" {
      %z = arith.constant 0.0 : f32
      memref.store %z, %C[%i, %j] : memref<32x64xf32>
    }
  }
  loop.for %m = 0 to 32 step 1 axis "m" stage "compute" {
    loop.for %n = 0 to 64 step 1 axis "n" {
      loop.for %k = 0 to 16 step 1 axis "k" {
        %a = memref.load %A[%m, %k] : memref<32x16xf32>
        %b = memref.load %B[%k, %n] : memref<16x64xf32>
        %c = memref.load %C[%m, %n] : memref<32x64xf32>
        %p = arith.mulf %a, %b : f32
        %s = arith.addf %c, %p : f32
        memref.store %s, %C[%m, %n] : memref<32x64xf32>
      }
    }
  }
  loop.for %i = 0 to 32 step 1 axis "m.epi" stage "epilogue" {
    loop.for %j = 0 to 64 step 1 axis "n.epi" {
      %c = memref.load %C[%i, %j] : memref<32x64xf32>
      %b = memref.load %bias[%j] : memref<64xf32>
      %s = arith.addf %c, %b : f32
      memref.store %s, %C[%i, %j] : memref<32x64xf32>
    }
  }
  func.return
}
