// RUN: compiler-opt %s --split-input-file | filecheck %s
// RUN: compiler-opt %s --split-input-file | compiler-opt --split-input-file | filecheck %s
// RUN: compiler-opt %s --split-input-file --print-op-generic | compiler-opt --split-input-file | filecheck %s

// A matmul C[i,j] += A[i,k] * B[k,j] with a bias + relu epilogue nest.

func.func @matmul(%A: memref<64x32xf32>, %B: memref<32x48xf32>, %bias: memref<48xf32>, %C: memref<64x48xf32>) attributes {loop.kernel} {
  loop.for %i = 0 to 64 step 1 axis "i" parallel {
    loop.for %k = 0 to 32 step 1 axis "k" {
      loop.for %j = 0 to 48 step 1 axis "j" vectorize {
        %a = memref.load %A[%i, %k] : memref<64x32xf32>
        %b = memref.load %B[%k, %j] : memref<32x48xf32>
        %c = memref.load %C[%i, %j] : memref<64x48xf32>
        %p = arith.mulf %a, %b : f32
        %s = arith.addf %c, %p : f32
        memref.store %s, %C[%i, %j] : memref<64x48xf32>
      }
    }
  }
  loop.for %i2 = 0 to 64 step 1 axis "i2" {
    loop.for %j2 = 0 to 48 step 16 axis "j2" unroll {
      %c = memref.load %C[%i2, %j2] : memref<64x48xf32>
      %b = memref.load %bias[%j2] : memref<48xf32>
      %s = arith.addf %c, %b : f32
      %z = arith.constant 0.0 : f32
      %r = arith.maximumf %s, %z : f32
      memref.store %r, %C[%i2, %j2] : memref<64x48xf32>
    } attributes {note = "kept"}
  }
  func.return
}

// CHECK:      func.func @matmul(%A: memref<64x32xf32>, %B: memref<32x48xf32>, %bias: memref<48xf32>, %C: memref<64x48xf32>) attributes {loop.kernel} {
// CHECK-NEXT:   loop.for %i = 0 to 64 step 1 axis "i" parallel {
// CHECK-NEXT:     loop.for %k = 0 to 32 step 1 axis "k" {
// CHECK-NEXT:       loop.for %j = 0 to 48 step 1 axis "j" vectorize {
// CHECK-NEXT:         %a = memref.load %A[%i, %k] : memref<64x32xf32>
// CHECK:              memref.store %s, %C[%i, %j] : memref<64x48xf32>
// CHECK-NEXT:       }
// CHECK-NEXT:     }
// CHECK-NEXT:   }
// CHECK-NEXT:   loop.for %i2 = 0 to 64 step 1 axis "i2" {
// CHECK-NEXT:     loop.for %j2 = 0 to 48 step 16 axis "j2" unroll {
// CHECK:          } attributes {note = "kept"}
// CHECK-NEXT:   }
// CHECK-NEXT:   func.return

// -----
// GPU bindings, negative bounds and an empty loop.

func.func @gpu(%x: memref<256xf32>) attributes {loop.kernel} {
  loop.for %b = 0 to 4 step 1 axis "b" blockIdx.x {
    loop.for %t = 0 to 64 step 1 axis "t" threadIdx.x {
      %c64 = arith.constant 64 : index
      %o = arith.muli %b, %c64 : index
      %i = arith.addi %o, %t : index
      %v = memref.load %x[%i] : memref<256xf32>
      memref.store %v, %x[%i] : memref<256xf32>
    }
  }
  loop.for %n = -3 to 3 step 2 axis "n" {
  }
  func.return
}

// CHECK:      loop.for %b = 0 to 4 step 1 axis "b" blockIdx.x {
// CHECK-NEXT:   loop.for %t = 0 to 64 step 1 axis "t" threadIdx.x {
// CHECK:      loop.for %n = -3 to 3 step 2 axis "n" {
// CHECK-NEXT: }
