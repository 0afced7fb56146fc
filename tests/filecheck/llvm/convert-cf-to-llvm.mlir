// RUN: compiler-opt %s -p convert-cf-to-llvm | filecheck %s

// Branch targets get llvm-typed block arguments (index -> i64); a cast at
// the top of the block keeps the rest of the body valid until it is converted.
func.func @loop(%n: index) {
  %c0 = arith.constant 0 : index
  cf.br ^head(%c0 : index)
^head(%i: index):
  %done = arith.cmpi sge, %i, %n : index
  cf.cond_br %done, ^exit, ^body
^body:
  %c1 = arith.constant 1 : index
  %next = arith.addi %i, %c1 : index
  cf.br ^head(%next : index)
^exit:
  func.return
}

// CHECK:      func.func @loop(%n: index) {
// CHECK-NEXT:   %c0 = arith.constant 0 : index
// CHECK-NEXT:   %0 = builtin.unrealized_conversion_cast %c0 : index to i64
// CHECK-NEXT:   llvm.br ^head(%0 : i64)
// CHECK-NEXT: ^head(%i: i64):
// CHECK-NEXT:   %i_1 = builtin.unrealized_conversion_cast %i : i64 to index
// CHECK-NEXT:   %done = arith.cmpi sge, %i_1, %n : index
// CHECK-NEXT:   llvm.cond_br %done, ^exit, ^body
// CHECK-NEXT: ^body:
// CHECK-NEXT:   %c1 = arith.constant 1 : index
// CHECK-NEXT:   %next = arith.addi %i_1, %c1 : index
// CHECK-NEXT:   %1 = builtin.unrealized_conversion_cast %next : index to i64
// CHECK-NEXT:   llvm.br ^head(%1 : i64)
// CHECK-NEXT: ^exit:
// CHECK-NEXT:   func.return
