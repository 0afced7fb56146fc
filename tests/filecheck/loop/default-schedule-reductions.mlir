// RUN: compiler-opt %s -p 'default-schedule{threads=1}' | filecheck %s
// RUN: compiler-opt %s -p 'default-schedule{threads=1},apply-schedule,convert-loop-to-scf' | filecheck %s --check-prefix=SCF

// A float reduction along a contiguous row (a softmax's max) is vectorized
// as it is, unsplit: the vectorizer keeps its lanes' partials and reduces
// them once after the loop (a split would reduce them per outer iteration).
// CHECK-LABEL: func.func @row_max
// CHECK-SAME:  loop.schedule = "[{\22primitive\22: \22vectorize\22, \22axis\22: \22max\22}]"
// SCF-LABEL:   func.func @row_max
// SCF:         arith.maximumf %{{.*}}, %{{.*}} : vector<16xf32>
// SCF:         vector.reduction <maximumf>
func.func @row_max(%x: memref<4x64xf32>, %m: memref<4xf32>) attributes {loop.kernel} {
  loop.for %r = 0 to 4 step 1 axis "r" {
    %lo = arith.constant 0xff800000 : f32
    memref.store %lo, %m[%r] : memref<4xf32>
    loop.for %c = 0 to 64 step 1 axis "max" {
      %v = memref.load %x[%r, %c] : memref<4x64xf32>
      %a = memref.load %m[%r] : memref<4xf32>
      %b = arith.maximumf %a, %v : f32
      memref.store %b, %m[%r] : memref<4xf32>
    }
  }
  func.return
}

// A reduction shorter than half a vector (a 3-wide pooling window) stays
// scalar: no schedule step for it.
// CHECK-LABEL: func.func @window
// CHECK-SAME:  loop.schedule = "[]"
func.func @window(%x: memref<4x3xf32>, %s: memref<4xf32>) attributes {loop.kernel} {
  loop.for %r = 0 to 4 step 1 axis "r" {
    %z = arith.constant 0.0 : f32
    memref.store %z, %s[%r] : memref<4xf32>
    loop.for %c = 0 to 3 step 1 axis "kw" {
      %v = memref.load %x[%r, %c] : memref<4x3xf32>
      %a = memref.load %s[%r] : memref<4xf32>
      %b = arith.addf %a, %v : f32
      memref.store %b, %s[%r] : memref<4xf32>
    }
  }
  func.return
}
