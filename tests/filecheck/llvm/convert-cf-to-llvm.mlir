// RUN: compiler-opt %s --split-input-file -p convert-cf-to-llvm | filecheck %s

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

// -----

// cf.switch: a chain of compare-and-branch blocks, default last.
// cf.assert: a branch to a block that aborts.
func.func @sw(%flag: i32, %x: f32) -> f32 {
  cf.switch %flag : i32, [
    default: ^d(%x : f32),
    4: ^a(%x : f32),
    7: ^b
  ]
^a(%p: f32):
  cf.br ^d(%p : f32)
^b:
  %ok = arith.constant true
  cf.assert %ok, "boom"
  cf.br ^d(%x : f32)
^d(%r: f32):
  func.return %r : f32
}

// CHECK-LABEL: func.func @sw(%flag: i32, %x: f32) -> f32 {
// CHECK-NEXT:    %0 = llvm.mlir.constant(4 : i32) : i32
// CHECK-NEXT:    %1 = llvm.icmp "eq" %flag, %0 : i32
// CHECK-NEXT:    llvm.cond_br %1, ^a(%x : f32), ^[[C7:bb[0-9]+]]
// CHECK-NEXT:  ^[[C7]]:
// CHECK-NEXT:    %2 = llvm.mlir.constant(7 : i32) : i32
// CHECK-NEXT:    %3 = llvm.icmp "eq" %flag, %2 : i32
// CHECK-NEXT:    llvm.cond_br %3, ^b, ^[[DEF:bb[0-9]+]]
// CHECK-NEXT:  ^[[DEF]]:
// CHECK-NEXT:    llvm.br ^d(%x : f32)
// CHECK-NEXT:  ^a(%p: f32):
// CHECK-NEXT:    llvm.br ^d(%p : f32)
// CHECK-NEXT:  ^b:
// CHECK-NEXT:    %ok = arith.constant true
// CHECK-NEXT:    llvm.cond_br %ok, ^[[OK:bb[0-9]+]], ^[[FAIL:bb[0-9]+]]
// CHECK-NEXT:  ^[[OK]]:
// CHECK-NEXT:    llvm.br ^d(%x : f32)
// CHECK-NEXT:  ^[[FAIL]]:
// CHECK-NEXT:    llvm.call @abort() : () -> ()
// CHECK-NEXT:    llvm.unreachable
// CHECK-NEXT:  ^d(%r: f32):
// CHECK-NEXT:    func.return %r : f32
// CHECK:       llvm.func @abort()
