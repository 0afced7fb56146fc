"""Integer (i64, i32, i8), bool (i1) and index arithmetic and casts on the CPU target."""

from __future__ import annotations

import numpy as np
from cpu_kernels import jit

INT64 = """
func.func @ints(%a: memref<64xi64>, %b: memref<64xi64>, %out: memref<9x64xi64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %r0 = arith.constant 0 : index
  %r1 = arith.constant 1 : index
  %r2 = arith.constant 2 : index
  %r3 = arith.constant 3 : index
  %r4 = arith.constant 4 : index
  %r5 = arith.constant 5 : index
  %r6 = arith.constant 6 : index
  %r7 = arith.constant 7 : index
  %r8 = arith.constant 8 : index
  %c3 = arith.constant 3 : i64
  scf.for %i = %c0 to %c64 step %c1 {
    %x = memref.load %a[%i] : memref<64xi64>
    %y = memref.load %b[%i] : memref<64xi64>
    %add = arith.addi %x, %y : i64
    %mul = arith.muli %x, %y : i64
    %div = arith.divsi %x, %y : i64
    %rem = arith.remsi %x, %y : i64
    %fdiv = arith.floordivsi %x, %y : i64
    %cdiv = arith.ceildivsi %x, %y : i64
    %mn = arith.minsi %x, %y : i64
    %sh = arith.shrsi %x, %c3 : i64
    %xo = arith.xori %x, %y : i64
    memref.store %add, %out[%r0, %i] : memref<9x64xi64>
    memref.store %mul, %out[%r1, %i] : memref<9x64xi64>
    memref.store %div, %out[%r2, %i] : memref<9x64xi64>
    memref.store %rem, %out[%r3, %i] : memref<9x64xi64>
    memref.store %fdiv, %out[%r4, %i] : memref<9x64xi64>
    memref.store %cdiv, %out[%r5, %i] : memref<9x64xi64>
    memref.store %mn, %out[%r6, %i] : memref<9x64xi64>
    memref.store %sh, %out[%r7, %i] : memref<9x64xi64>
    memref.store %xo, %out[%r8, %i] : memref<9x64xi64>
  }
  func.return
}
"""


def test_int64_arithmetic_matches_numpy() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(-(10**12), 10**12, 64, dtype=np.int64)
    b = rng.integers(-1000, 1000, 64, dtype=np.int64)
    b[b == 0] = 7
    a[:4] = [-7, 7, -7, 7]
    b[:4] = [2, -2, -2, 2]
    out = np.zeros((9, 64), np.int64)
    jit(INT64)["ints"](a, b, out)
    # C-style (truncating) division, computed exactly on integers.
    trunc_div = np.sign(a) * np.sign(b) * (np.abs(a) // np.abs(b))
    expected = [
        a + b,
        a * b,
        trunc_div,
        a - trunc_div * b,
        a // b,
        -(-a // b),
        np.minimum(a, b),
        a >> 3,
        a ^ b,
    ]
    for row, (got, want) in enumerate(zip(out, expected, strict=True)):
        np.testing.assert_array_equal(got, want, err_msg=f"row {row}")


BOOLS = """
func.func @bools(%a: memref<32xf32>, %b: memref<32xf32>, %m: memref<32xi1>, %lt: memref<32xi1>, %sel: memref<32xf32>, %cnt: memref<1xi64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %zero = arith.constant 0 : i64
  %total = scf.for %i = %c0 to %c32 step %c1 iter_args(%acc = %zero) -> (i64) {
    %x = memref.load %a[%i] : memref<32xf32>
    %y = memref.load %b[%i] : memref<32xf32>
    %mask = memref.load %m[%i] : memref<32xi1>
    %less = arith.cmpf olt, %x, %y : f32
    %both = arith.andi %less, %mask : i1
    memref.store %both, %lt[%i] : memref<32xi1>
    %s = arith.select %mask, %x, %y : f32
    memref.store %s, %sel[%i] : memref<32xf32>
    %ext = arith.extui %both : i1 to i64
    %next = arith.addi %acc, %ext : i64
    scf.yield %next : i64
  }
  memref.store %total, %cnt[%c0] : memref<1xi64>
  func.return
}
"""


def test_bool_loads_stores_compares_and_selects() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 32), dtype=np.float32)
    m = rng.random(32) < 0.5
    lt = np.zeros(32, np.bool_)
    sel = np.zeros(32, np.float32)
    cnt = np.zeros(1, np.int64)
    jit(BOOLS)["bools"](a, b, m, lt, sel, cnt)
    np.testing.assert_array_equal(lt, (a < b) & m)
    np.testing.assert_array_equal(sel, np.where(m, a, b))
    assert cnt[0] == ((a < b) & m).sum()


CASTS = """
func.func @casts(%x: memref<16xf32>, %i32: memref<16xi32>, %u8: memref<16xi8>, %back: memref<16xf32>, %n: index) -> i64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  scf.for %i = %c0 to %c16 step %c1 {
    %v = memref.load %x[%i] : memref<16xf32>
    %s = arith.fptosi %v : f32 to i32
    memref.store %s, %i32[%i] : memref<16xi32>
    %t = arith.trunci %s : i32 to i8
    memref.store %t, %u8[%i] : memref<16xi8>
    %z = arith.extui %t : i8 to i32
    %f = arith.uitofp %z : i32 to f32
    %ii = arith.index_cast %i : index to i64
    %fi = arith.sitofp %ii : i64 to f32
    %sum = arith.addf %f, %fi : f32
    memref.store %sum, %back[%i] : memref<16xf32>
  }
  %n64 = arith.index_cast %n : index to i64
  %n2 = arith.muli %n64, %n64 : i64
  func.return %n2 : i64
}
"""


def test_int_float_casts_and_index_results() -> None:
    x = np.linspace(-300, 300, 16).astype(np.float32)
    i32 = np.zeros(16, np.int32)
    u8 = np.zeros(16, np.int8)
    back = np.zeros(16, np.float32)
    result = jit(CASTS)["casts"](x, i32, u8, back, 12)
    assert result == 144
    np.testing.assert_array_equal(i32, np.trunc(x).astype(np.int32))
    np.testing.assert_array_equal(u8, i32.astype(np.int8))
    np.testing.assert_array_equal(back, u8.view(np.uint8).astype(np.float32) + np.arange(16))


BOOL_VECTORS = """
func.func @bvec(%a: memref<32xi1>, %m: memref<32xi1>, %out: memref<32xi1>) {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  scf.for %i = %c0 to %c32 step %c16 {
    %p = vector.load %a[%i] : memref<32xi1>, vector<16xi1>
    %k = vector.load %m[%i] : memref<32xi1>, vector<16xi1>
    %both = arith.xori %p, %k : vector<16xi1>
    vector.store %both, %out[%i] : memref<32xi1>, vector<16xi1>
  }
  func.return
}
"""


def test_bool_vectors_are_one_byte_per_lane_in_memory() -> None:
    rng = np.random.default_rng(3)
    a = rng.random(32) < 0.5
    m = rng.random(32) < 0.5
    out = np.zeros(32, np.bool_)
    jit(BOOL_VECTORS)["bvec"](a, m, out)
    np.testing.assert_array_equal(out.view(np.uint8), (a ^ m).astype(np.uint8))


SWITCH = """
func.func @pick(%k: index, %x: f32) -> f32 {
  %r = scf.index_switch %k -> f32
  case 0 {
    %a = arith.addf %x, %x : f32
    scf.yield %a : f32
  }
  case 2 {
    %m = arith.mulf %x, %x : f32
    scf.yield %m : f32
  }
  default {
    scf.yield %x : f32
  }
  %ok = arith.constant true
  cf.assert %ok, "unreachable"
  func.return %r : f32
}
"""


def test_index_switch_and_assert() -> None:
    pick = jit(SWITCH)["pick"]
    assert [pick(k, 3.0) for k in range(4)] == [6.0, 3.0, 9.0, 3.0]
