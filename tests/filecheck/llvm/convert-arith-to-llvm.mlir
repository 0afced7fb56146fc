// RUN: compiler-opt %s --split-input-file -p convert-arith-to-llvm | filecheck %s

// index arithmetic becomes i64, with casts at the not-yet-converted boundaries.
func.func @index_math(%a: index, %b: i32) -> index {
  %c4 = arith.constant 4 : index
  %s = arith.addi %a, %c4 : index
  %bi = arith.index_cast %b : i32 to index
  %t = arith.muli %s, %bi : index
  func.return %t : index
}

// CHECK-LABEL: func.func @index_math(%a: index, %b: i32) -> index {
// CHECK-NEXT:    %0 = llvm.mlir.constant(4) : i64
// CHECK-NEXT:    %c4 = builtin.unrealized_conversion_cast %0 : i64 to index
// CHECK-NEXT:    %1 = builtin.unrealized_conversion_cast %a : index to i64
// CHECK-NEXT:    %2 = llvm.add %1, %0 : i64
// CHECK-NEXT:    %s = builtin.unrealized_conversion_cast %2 : i64 to index
// CHECK-NEXT:    %3 = llvm.sext %b : i32 to i64
// CHECK-NEXT:    %bi = builtin.unrealized_conversion_cast %3 : i64 to index
// CHECK-NEXT:    %4 = llvm.mul %2, %3 : i64
// CHECK-NEXT:    %t = builtin.unrealized_conversion_cast %4 : i64 to index
// CHECK-NEXT:    func.return %t : index

// -----

// Float ops keep their (vector) types and their fastmath flags; maximumf is the
// NaN-propagating llvm.intr.maximum, maxnumf llvm.intr.maxnum.
func.func @floats(%x: f32, %v: vector<8xf32>, %w: vector<8xf32>) -> (f64, vector<8xf32>, f32) {
  %y = arith.mulf %x, %x fastmath<contract> : f32
  %n = arith.negf %y : f32
  %e = arith.extf %n : f32 to f64
  %m = arith.maximumf %v, %w : vector<8xf32>
  %k = arith.maxnumf %m, %w : vector<8xf32>
  %c = arith.constant dense<1.5> : vector<8xf32>
  %d = arith.divf %k, %c : vector<8xf32>
  %lt = arith.cmpf ult, %x, %y : f32
  %s = arith.select %lt, %x, %y : f32
  func.return %e, %d, %s : f64, vector<8xf32>, f32
}

// CHECK-LABEL: func.func @floats
// CHECK:         %y = llvm.fmul %x, %x {fastmathFlags = #llvm.fastmath<contract>} : f32
// CHECK-NEXT:    %n = llvm.fneg %y : f32
// CHECK-NEXT:    %e = llvm.fpext %n : f32 to f64
// CHECK-NEXT:    %m = llvm.intr.maximum(%v, %w) : (vector<8xf32>, vector<8xf32>) -> vector<8xf32>
// CHECK-NEXT:    %k = llvm.intr.maxnum(%m, %w) : (vector<8xf32>, vector<8xf32>) -> vector<8xf32>
// CHECK-NEXT:    %c = llvm.mlir.constant(dense<1.500000e+00> : vector<8xf32>) : vector<8xf32>
// CHECK-NEXT:    %d = llvm.fdiv %k, %c : vector<8xf32>
// CHECK-NEXT:    %lt = llvm.fcmp "ult" %x, %y : f32
// CHECK-NEXT:    %s = llvm.select %lt, %x, %y : i1, f32

// -----

// Integer ops, casts and comparisons.
func.func @ints(%a: i64, %b: i64, %f: f32, %u: i32) -> (i64, i64, i1, i32, f32, i8) {
  %q = arith.divsi %a, %b : i64
  %r = arith.remui %a, %b : i64
  %x = arith.shrsi %q, %r : i64
  %mn = arith.minsi %x, %a : i64
  %lt = arith.cmpi ult, %a, %b : i64
  %fi = arith.fptosi %f : f32 to i32
  %uf = arith.uitofp %u : i32 to f32
  %t = arith.trunci %a : i64 to i8
  func.return %mn, %r, %lt, %fi, %uf, %t : i64, i64, i1, i32, f32, i8
}

// CHECK-LABEL: func.func @ints
// CHECK-NEXT:    %q = llvm.sdiv %a, %b : i64
// CHECK-NEXT:    %r = llvm.urem %a, %b : i64
// CHECK-NEXT:    %x = llvm.ashr %q, %r : i64
// CHECK-NEXT:    %mn = llvm.intr.smin(%x, %a) : (i64, i64) -> i64
// CHECK-NEXT:    %lt = llvm.icmp "ult" %a, %b : i64
// CHECK-NEXT:    %fi = llvm.fptosi %f : f32 to i32
// CHECK-NEXT:    %uf = llvm.uitofp %u : i32 to f32
// CHECK-NEXT:    %t = llvm.trunc %a : i64 to i8

// -----

// floordivsi has no LLVM instruction: sdiv, then subtract one when the
// remainder is nonzero and has the opposite sign of the divisor.
func.func @floordiv(%a: i32, %b: i32) -> i32 {
  %q = arith.floordivsi %a, %b : i32
  func.return %q : i32
}

// CHECK-LABEL: func.func @floordiv
// CHECK-NEXT:    %0 = llvm.sdiv %a, %b : i32
// CHECK-NEXT:    %1 = llvm.srem %a, %b : i32
// CHECK-NEXT:    %2 = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT:    %3 = llvm.mlir.constant(1 : i32) : i32
// CHECK-NEXT:    %4 = llvm.icmp "ne" %1, %2 : i32
// CHECK-NEXT:    %5 = llvm.icmp "slt" %1, %2 : i32
// CHECK-NEXT:    %6 = llvm.icmp "slt" %b, %2 : i32
// CHECK-NEXT:    %7 = llvm.icmp "eq" %5, %6 : i1
// CHECK-NEXT:    %8 = llvm.mlir.constant(true) : i1
// CHECK-NEXT:    %9 = llvm.xor %7, %8 : i1
// CHECK-NEXT:    %10 = llvm.and %4, %9 : i1
// CHECK-NEXT:    %11 = llvm.sub %0, %3 : i32
// CHECK-NEXT:    %q = llvm.select %10, %11, %0 : i1, i32
// CHECK-NEXT:    func.return %q : i32
