// RUN: compiler-opt %s --split-input-file --parsing-diagnostics | filecheck %s

func.func @unknown_annotation(%x: memref<8xf32>) {
  loop.for %i = 0 to 8 step 1 axis "i" simd {
  }
  func.return
}
// CHECK: unknown loop annotation 'simd', expected one of serial, parallel, vectorize, unroll, blockIdx.x

// -----

func.func @missing_axis(%x: memref<8xf32>) {
  loop.for %i = 0 to 8 step 1 {
  }
  func.return
}
// CHECK: Expected 'axis'
