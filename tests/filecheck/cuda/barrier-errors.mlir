// The loop interpreter runs a block's phases one after the other, so it
// cannot see a missing barrier; the emitter refuses phases that hand data
// through shared memory with no loop.barrier between them.
// RUN: compiler-opt %s -t cuda | filecheck %s --check-prefix=OK
// OK: __syncthreads();
// OK: __syncthreads();

// Without the first barrier, the reading phase may run before the copy.
// RUN: sed -e '/BARRIER1/d' %s | not compiler-opt -t cuda 2>&1 | filecheck %s --check-prefix=RAW
// RAW: compiler-opt: error: kernel @steps: thread loop 'use' uses shared memory that an earlier phase of the block uses, with no loop.barrier between them

// Without the last, the next step's copy may overwrite the tile while slower threads still read it.
// RUN: sed -e '/BARRIER2/d' %s | not compiler-opt -t cuda 2>&1 | filecheck %s --check-prefix=WAR
// WAR: compiler-opt: error: kernel @steps: thread loop 'copy' uses shared memory that an earlier phase of the block uses, with no loop.barrier between them
func.func @steps(%A: memref<4x64xf32>, %B: memref<4x32xf32>) attributes {loop.kernel} {
  loop.for %b = 0 to 4 step 1 axis "b" blockIdx.x {
    %s = memref.alloca() {loop.scope = "shared"} : memref<32xf32>
    loop.for %k = 0 to 2 step 1 axis "k" {
      loop.for %t = 0 to 32 step 1 axis "copy" threadIdx.x {
        %c32 = arith.constant 32 : index
        %o = arith.muli %k, %c32 : index
        %i = arith.addi %o, %t : index
        %a = memref.load %A[%b, %i] : memref<4x64xf32>
        memref.store %a, %s[%t] : memref<32xf32>
      }
      loop.barrier // BARRIER1
      loop.for %u = 0 to 32 step 1 axis "use" threadIdx.x {
        %c31 = arith.constant 31 : index
        %r = arith.subi %c31, %u : index
        %x = memref.load %s[%r] : memref<32xf32>
        %y = memref.load %B[%b, %u] : memref<4x32xf32>
        %z = arith.addf %x, %y : f32
        memref.store %z, %B[%b, %u] : memref<4x32xf32>
      }
      loop.barrier // BARRIER2
    }
  }
  func.return
}
