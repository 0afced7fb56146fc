// What the CUDA emitter does not translate is one line naming the kernel, and exit 1.
// RUN: not compiler-opt %s -t cuda 2>&1 | filecheck %s
// CHECK: compiler-opt: error: kernel @half: 16-bit floats are not emitted for CUDA yet; compile the model in fp32
// CHECK-NOT: Traceback
func.func @half(%A: memref<8xf16>, %B: memref<8xf16>) attributes {loop.kernel} {
  loop.for %i = 0 to 8 step 1 axis "i" {
    %a = memref.load %A[%i] : memref<8xf16>
    memref.store %a, %B[%i] : memref<8xf16>
  }
  func.return
}
