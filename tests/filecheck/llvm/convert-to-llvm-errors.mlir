// RUN: compiler-opt %s -p convert-to-llvm --verify-diagnostics --split-input-file | filecheck %s

// An op without a lowering is reported by name instead of reaching LLVM.
func.func @print(%v: vector<4xf32>) {
  "vector.print"(%v) : (vector<4xf32>) -> ()
  func.return
}

// CHECK: no lowering to the llvm dialect for 'vector.print'

// -----

// Reductions in parallel loops are rejected, not silently run in parallel.
func.func @sum(%x: memref<8xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %z = arith.constant 0.0 : f32
  %r = "scf.parallel"(%c0, %c8, %c1, %z) <{operandSegmentSizes = array<i32: 1, 1, 1, 1>}> ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<8xf32>
    scf.reduce(%v : f32) {
    ^bb1(%a: f32, %b: f32):
      %s = arith.addf %a, %b : f32
      scf.reduce.return %s : f32
    }
  }) : (index, index, index, f32) -> f32
  func.return %r : f32
}

// CHECK: scf.parallel with reductions is not supported
