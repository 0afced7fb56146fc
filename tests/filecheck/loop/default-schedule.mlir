// default-schedule only stores the schedule (JSON); apply-schedule applies it,
// keeps the attribute and marks the kernel `loop.scheduled`. A second
// default-schedule leaves a kernel that has a schedule alone, and a second
// apply-schedule does not apply it again.
// RUN: compiler-opt %s -p 'default-schedule{threads=2 min-parallel-work=1024}' | filecheck %s --check-prefix=JSON
// RUN: compiler-opt %s -p 'default-schedule{threads=2 min-parallel-work=1024},apply-schedule' | filecheck %s --check-prefix=LOOPS
// RUN: compiler-opt %s -p 'default-schedule{threads=2 min-parallel-work=1024},apply-schedule,convert-loop-to-scf' | filecheck %s --check-prefix=SCF
// RUN: compiler-opt %s -p 'default-schedule{threads=2 min-parallel-work=1024},apply-schedule,default-schedule{threads=1 vector-bits=256},apply-schedule' | filecheck %s --check-prefix=LOOPS
// RUN: compiler-opt %s -p 'default-schedule{threads=1 vector-bits=256 min-parallel-work=1024},apply-schedule' | filecheck %s --check-prefix=AVX2
// RUN: compiler-opt %s -p 'default-schedule{threads=2},apply-schedule' | filecheck %s --check-prefix=SMALL

// With the default min-parallel-work (2^19 body ops), the matmul nest
// (82K iterations of 8 ops) runs on threads, the epilogue nest stays serial.
// SMALL: axis "n.i.fused" parallel
// SMALL: loop.for %i2 = 0 to 64 step 1 axis "i2" {

// matmul (batch 1) with a bias + relu epilogue. The accumulation nest n,i,j,k is
// reordered so that j is innermost; j is split by 16 (f32 lanes of AVX-512),
// vectorized with its tail; n (extent 1) is fused with i for the threads.
func.func @matmul(%A: memref<1x64x32xf32>, %B: memref<32x40xf32>, %bias: memref<40xf32>, %C: memref<1x64x40xf32>) attributes {loop.kernel} {
  loop.for %n = 0 to 1 step 1 axis "n" {
    loop.for %i = 0 to 64 step 1 axis "i" {
      loop.for %j = 0 to 40 step 1 axis "j" {
        loop.for %k = 0 to 32 step 1 axis "k" {
          %a = memref.load %A[%n, %i, %k] : memref<1x64x32xf32>
          %b = memref.load %B[%k, %j] : memref<32x40xf32>
          %c = memref.load %C[%n, %i, %j] : memref<1x64x40xf32>
          %p = arith.mulf %a, %b : f32
          %s = arith.addf %c, %p : f32
          memref.store %s, %C[%n, %i, %j] : memref<1x64x40xf32>
        }
      }
    }
  }
  loop.for %i2 = 0 to 64 step 1 axis "i2" {
    loop.for %j2 = 0 to 40 step 1 axis "j2" {
      %c0 = arith.constant 0 : index
      %c = memref.load %C[%c0, %i2, %j2] : memref<1x64x40xf32>
      %b = memref.load %bias[%j2] : memref<40xf32>
      %s = arith.addf %c, %b : f32
      %z = arith.constant 0.0 : f32
      %r = arith.maximumf %s, %z : f32
      memref.store %r, %C[%c0, %i2, %j2] : memref<1x64x40xf32>
    }
  }
  func.return
}

// The kernel has no `loop.algorithm`: the generic rule.
// JSON-LABEL: func.func @matmul
// JSON-SAME: attributes {loop.kernel, loop.schedule = "[{\22primitive\22: \22reorder\22, \22axes\22: [\22k\22, \22j\22]}, {\22primitive\22: \22split\22, \22axis\22: \22j\22, \22factor\22: 16}, {\22primitive\22: \22vectorize\22, \22axis\22: \22j.inner\22}, {\22primitive\22: \22vectorize\22, \22axis\22: \22j.tail\22}, {\22primitive\22: \22split\22, \22axis\22: \22j2\22, \22factor\22: 16}, {\22primitive\22: \22vectorize\22, \22axis\22: \22j2.inner\22}, {\22primitive\22: \22vectorize\22, \22axis\22: \22j2.tail\22}, {\22primitive\22: \22fuse\22, \22outer\22: \22n\22, \22inner\22: \22i\22}, {\22primitive\22: \22parallel\22, \22axis\22: \22n.i.fused\22}, {\22primitive\22: \22parallel\22, \22axis\22: \22i2\22}]"} {
// JSON-NEXT:   loop.for %n = 0 to 1 step 1 axis "n" {
// JSON-NEXT:     loop.for %i = 0 to 64 step 1 axis "i" {
// JSON-NEXT:       loop.for %j = 0 to 40 step 1 axis "j" {
// JSON-NEXT:         loop.for %k = 0 to 32 step 1 axis "k" {
// JSON-NOT:  vectorize
// JSON-NOT:  parallel
// JSON-NOT:  loop.scheduled

// LOOPS:      func.func @matmul
// LOOPS-SAME:   loop.schedule = "[{\22primitive\22: \22reorder\22, {{.*}}\22factor\22: 16}{{.*}}", loop.scheduled} {
// LOOPS-NEXT: loop.for %n.i.fused = 0 to 64 step 1 axis "n.i.fused" parallel {
// LOOPS-NEXT:   %n = arith.constant 0 : index
// LOOPS-NEXT:   loop.for %k = 0 to 32 step 1 axis "k" {
// LOOPS-NEXT:     loop.for %j.outer = 0 to 2 step 1 axis "j.outer" {
// LOOPS-NEXT:       loop.for %j.inner = 0 to 16 step 1 axis "j.inner" vectorize {
// LOOPS:          loop.for %{{.*}} = 32 to 40 step 1 axis "j.tail" vectorize {
// LOOPS:      loop.for %i2 = 0 to 64 step 1 axis "i2" parallel {
// LOOPS-NEXT:   loop.for %j2.outer = 0 to 2 step 1 axis "j2.outer" {
// LOOPS-NEXT:     loop.for %j2.inner = 0 to 16 step 1 axis "j2.inner" vectorize {
// LOOPS:        loop.for %{{.*}} = 32 to 40 step 1 axis "j2.tail" vectorize {

// SCF:      "scf.parallel"
// SCF:        scf.for %k =
// SCF:          scf.for %j.outer =
// SCF:            vector.load %B
// SCF:            vector.load %C
// SCF:            vector.fma
// SCF:            vector.store
// SCF:          vector.load %B{{.*}} vector<8xf32>
// SCF:          vector.fma {{.*}} : vector<8xf32>
// SCF:      "scf.parallel"
// SCF:            arith.maximumf {{.*}} : vector<16xf32>
// SCF-NOT:  loop.for

// AVX2:      loop.schedule = "[{\22primitive\22: \22reorder\22, \22axes\22: [\22k\22, \22j\22]}, {\22primitive\22: \22split\22, \22axis\22: \22j\22, \22factor\22: 8}, {\22primitive\22: \22vectorize\22, \22axis\22: \22j.inner\22}, {\22primitive\22: \22split\22, \22axis\22: \22j2\22, \22factor\22: 8}, {\22primitive\22: \22vectorize\22, \22axis\22: \22j2.inner\22}]", loop.scheduled}
// AVX2-NOT:   parallel
// AVX2:       loop.for %j.outer = 0 to 5 step 1 axis "j.outer"
// AVX2-NEXT:    loop.for %j.inner = 0 to 8 step 1 axis "j.inner" vectorize
