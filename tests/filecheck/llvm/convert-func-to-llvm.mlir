// RUN: compiler-opt %s -p convert-func-to-llvm | filecheck %s

// memref arguments become bare pointers, index becomes i64; private
// definitions are internal, declarations external. Attributes of calls
// (here compiler.parallel) survive.
func.func private @helper(%m: memref<4xf32>, %n: index) -> index {
  func.return %n : index
}
func.func private @sinf(f32) -> f32
func.func @kernel(%m: memref<4xf32>, %n: index, %x: f32) -> f32 {
  %r = func.call @helper(%m, %n) {compiler.parallel} : (memref<4xf32>, index) -> index
  %y = func.call @sinf(%x) : (f32) -> f32
  func.return %y : f32
}

// CHECK:      llvm.func internal @helper(%m: !llvm.ptr, %n: i64) -> i64 attributes {no_unwind} {
// CHECK-NEXT:   %n_1 = builtin.unrealized_conversion_cast %n : i64 to index
// CHECK-NEXT:   llvm.return %n : i64
// CHECK-NEXT: }
// CHECK-NEXT: llvm.func @sinf(f32) -> f32 attributes {no_unwind}
// CHECK-NEXT: llvm.func @kernel(%m_1: !llvm.ptr, %n_2: i64, %x: f32) -> f32 attributes {no_unwind} {
// CHECK-NEXT:   %n_3 = builtin.unrealized_conversion_cast %n_2 : i64 to index
// CHECK-NEXT:   %m_2 = builtin.unrealized_conversion_cast %m_1 : !llvm.ptr to memref<4xf32>
// CHECK-NEXT:   %0 = llvm.call @helper(%m_1, %n_2) {compiler.parallel} : (!llvm.ptr, i64) -> i64
// CHECK-NEXT:   %r = builtin.unrealized_conversion_cast %0 : i64 to index
// CHECK-NEXT:   %y = llvm.call @sinf(%x) : (f32) -> f32
// CHECK-NEXT:   llvm.return %y : f32
// CHECK-NEXT: }
