// Thread-bound nests inside the block loops are phases of the block: every
// thread runs each in turn, loop.barrier is __syncthreads(), the launch's
// block is the longest phase, and a shorter phase is guarded by the thread
// index. A shared buffer is one __shared__ array per block; a local one with
// thread dims keeps only the thread's own slice.
// RUN: compiler-opt %s -t cuda | filecheck %s

// CHECK: // launch pairs_0 grid=(4, 1, 1) block=(64, 1, 1)
// CHECK-LABEL: __launch_bounds__(64) pairs_0(
// CHECK: const long long [[B:v[0-9]+]] = 0LL + (long long)blockIdx.x * 1LL;
// CHECK-NEXT: __shared__ __align__(16) float [[S:v[0-9]+]][64];
// CHECK-NEXT: float [[L:v[0-9]+]][2];
// CHECK-NEXT: const long long [[T:v[0-9]+]] = 0LL + (long long)threadIdx.x * 1LL;
// CHECK: [[S]][[[T]]] = {{v[0-9]+}};
// CHECK-NEXT: __syncthreads();
// CHECK-NEXT: if (threadIdx.x < 32) {
// CHECK-NEXT: const long long [[U:v[0-9]+]] = 0LL + (long long)threadIdx.x * 1LL;
// CHECK: [[L]][{{v[0-9]+}}] = {{v[0-9]+}};
// CHECK: a1[[[B]] * 32LL + [[U]]] = {{v[0-9]+}};
// CHECK-NEXT: }
// CHECK-NEXT: }
func.func @pairs(%A: memref<4x64xf32>, %B: memref<4x32xf32>) attributes {loop.kernel} {
  loop.for %b = 0 to 4 step 1 axis "b" blockIdx.x {
    %s = memref.alloca() {loop.scope = "shared"} : memref<64xf32>
    %l = memref.alloca() {loop.scope = "local", loop.thread_dims = 1 : i64} : memref<32x2xf32>
    loop.for %t = 0 to 64 step 1 axis "t" threadIdx.x {
      %a = memref.load %A[%b, %t] : memref<4x64xf32>
      memref.store %a, %s[%t] : memref<64xf32>
    }
    loop.barrier
    loop.for %u = 0 to 32 step 1 axis "u" threadIdx.x {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c32 = arith.constant 32 : index
      %u2 = arith.addi %u, %c32 : index
      %x = memref.load %s[%u] : memref<64xf32>
      %y = memref.load %s[%u2] : memref<64xf32>
      memref.store %x, %l[%u, %c0] : memref<32x2xf32>
      memref.store %y, %l[%u, %c1] : memref<32x2xf32>
      %p = memref.load %l[%u, %c0] : memref<32x2xf32>
      %q = memref.load %l[%u, %c1] : memref<32x2xf32>
      %r = arith.addf %p, %q : f32
      memref.store %r, %B[%b, %u] : memref<4x32xf32>
    }
  }
  func.return
}
