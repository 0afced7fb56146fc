// A row of 1009 (a prime) is longer than a block: the baseline GPU rule splits
// it by 256 threads with tail "guard" (4 blocks, the last one's 15 extra
// threads idle) instead of by a divisor (1009 has none but 1). The guard is
// an `if` around the thread's accesses in the __global__ function.
// RUN: compiler-opt %s -p 'default-schedule{target=cuda}' | filecheck %s --check-prefix=SCHED
// RUN: compiler-opt %s -p 'default-schedule{target=cuda},apply-schedule' -t cuda | filecheck %s
// SCHED: \22primitive\22: \22split\22, \22axis\22: \22j\22, \22factor\22: 256, \22tail\22: \22guard\22
// CHECK: // launch scale_0 grid=(2, 4, 1) block=(256, 1, 1)
// CHECK-LABEL: __launch_bounds__(256) scale_0(
// CHECK: const long long [[B:v[0-9]+]] = 0LL + (long long)blockIdx.y * 1LL;
// CHECK: const long long [[T:v[0-9]+]] = 0LL + (long long)threadIdx.x * 1LL;
// CHECK: const long long [[J:v[0-9]+]] = {{v[0-9]+}} + [[T]];
// CHECK: const bool [[IN:v[0-9]+]] = (unsigned long long)[[J]] < (unsigned long long){{v[0-9]+}};
// CHECK-NEXT: if ([[IN]]) {
// CHECK-NEXT: const float {{v[0-9]+}} = a0[{{v[0-9]+}} * 1009LL + [[J]]];
// CHECK: a1[{{v[0-9]+}} * 1009LL + [[J]]] = {{v[0-9]+}};
// CHECK-NEXT: }
func.func @scale(%x: memref<2x1009xf32>, %y: memref<2x1009xf32>) attributes {loop.kernel} {
  loop.for %i = 0 to 2 step 1 axis "i" {
    loop.for %j = 0 to 1009 step 1 axis "j" {
      %v = memref.load %x[%i, %j] : memref<2x1009xf32>
      %w = arith.mulf %v, %v : f32
      memref.store %w, %y[%i, %j] : memref<2x1009xf32>
    }
  }
  func.return
}
