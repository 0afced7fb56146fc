"""Vector kernels through convert-to-llvm and the JIT, checked against numpy."""

from __future__ import annotations

import numpy as np
from cpu_kernels import jit

VADD = """
func.func @vadd(%a: memref<100xf32>, %b: memref<100xf32>, %c: memref<100xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c96 = arith.constant 96 : index
  %c100 = arith.constant 100 : index
  scf.for %i = %c0 to %c96 step %c16 {
    %va = vector.load %a[%i] : memref<100xf32>, vector<16xf32>
    %vb = vector.load %b[%i] : memref<100xf32>, vector<16xf32>
    %s = arith.addf %va, %vb : vector<16xf32>
    vector.store %s, %c[%i] : memref<100xf32>, vector<16xf32>
  }
  scf.for %i = %c96 to %c100 step %c1 {
    %x = memref.load %a[%i] : memref<100xf32>
    %y = memref.load %b[%i] : memref<100xf32>
    %s = arith.addf %x, %y : f32
    memref.store %s, %c[%i] : memref<100xf32>
  }
  func.return
}
"""


def test_vector_add_with_scalar_tail() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 100), dtype=np.float32)
    c = np.zeros(100, np.float32)
    jit(VADD)["vadd"](a, b, c)
    np.testing.assert_array_equal(c, a + b)


def test_misaligned_vector_load_is_legal() -> None:
    # vector loads carry element alignment: a view starting one float into the
    # buffer must not fault (an ABI-aligned <16 x float> load would).
    rng = np.random.default_rng(1)
    buf = rng.standard_normal(101, dtype=np.float32)
    a = buf[1:]
    assert a.ctypes.data % 64 != 0
    b = np.ones(100, np.float32)
    c = np.zeros(100, np.float32)
    jit(VADD)["vadd"](a, b, c)
    np.testing.assert_array_equal(c, a + 1)


LANES = """
func.func @lanes(%x: memref<16xf32>, %out: memref<16xf32>, %s: memref<4xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %v = vector.load %x[%c0] : memref<16xf32>, vector<16xf32>
  %two = arith.constant 2.0 : f32
  %b = vector.broadcast %two : f32 to vector<16xf32>
  %f = vector.fma %v, %b, %v : vector<16xf32>
  %r = vector.shuffle %f, %f [15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0] : vector<16xf32>, vector<16xf32>
  %e = vector.extract %r[3] : f32 from vector<16xf32>
  %ins = vector.insert %e, %r[0] : f32 into vector<16xf32>
  vector.store %ins, %out[%c0] : memref<16xf32>, vector<16xf32>
  %sum = vector.reduction <add>, %v : vector<16xf32> into f32
  %mx = vector.reduction <maximumf>, %v : vector<16xf32> into f32
  %mn = vector.reduction <minnumf>, %v : vector<16xf32> into f32
  %acc = arith.constant 10.0 : f32
  %mul = vector.reduction <mul>, %b, %acc : vector<16xf32> into f32
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  memref.store %sum, %s[%c0] : memref<4xf32>
  memref.store %mx, %s[%c1] : memref<4xf32>
  memref.store %mn, %s[%c2] : memref<4xf32>
  memref.store %mul, %s[%c3] : memref<4xf32>
  func.return
}
"""


def test_broadcast_fma_shuffle_extract_insert_reductions() -> None:
    x = np.arange(16, dtype=np.float32) - 5
    out = np.zeros(16, np.float32)
    s = np.zeros(4, np.float32)
    jit(LANES)["lanes"](x, out, s, 0)
    f = (x * 2 + x)[::-1].copy()
    f[0] = f[3]
    np.testing.assert_array_equal(out, f)
    np.testing.assert_array_equal(s, [x.sum(), x.max(), x.min(), 10 * 2.0**16])


MASKED = """
func.func @masked(%x: memref<20xf32>, %y: memref<20xf32>) {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c4 = arith.constant 4 : index
  %mask = vector.create_mask %c4 : vector<16xi1>
  %pass = arith.constant dense<-1.0> : vector<16xf32>
  %v = vector.maskedload %x[%c16], %mask, %pass : memref<20xf32>, vector<16xi1>, vector<16xf32> into vector<16xf32>
  %w = arith.addf %v, %v : vector<16xf32>
  vector.maskedstore %y[%c16], %mask, %w : memref<20xf32>, vector<16xi1>, vector<16xf32>
  %first = vector.load %x[%c0] : memref<20xf32>, vector<16xf32>
  vector.store %first, %y[%c0] : memref<20xf32>, vector<16xf32>
  func.return
}
"""


def test_masked_tail_load_store() -> None:
    x = np.arange(20, dtype=np.float32)
    y = np.full(20, 7, np.float32)
    jit(MASKED)["masked"](x, y)
    expected = x.copy()
    expected[16:] = 2 * x[16:]
    np.testing.assert_array_equal(y, expected)


INT_VECTOR = """
func.func @ivec(%a: memref<8xi64>, %b: memref<8xi64>, %out: memref<8xi64>, %r: memref<2xi64>) {
  %c0 = arith.constant 0 : index
  %va = vector.load %a[%c0] : memref<8xi64>, vector<8xi64>
  %vb = vector.load %b[%c0] : memref<8xi64>, vector<8xi64>
  %m = arith.muli %va, %vb : vector<8xi64>
  %x = arith.maxsi %m, %vb : vector<8xi64>
  vector.store %x, %out[%c0] : memref<8xi64>, vector<8xi64>
  %s = vector.reduction <add>, %m : vector<8xi64> into i64
  %mx = vector.reduction <maxsi>, %m : vector<8xi64> into i64
  %c1 = arith.constant 1 : index
  memref.store %s, %r[%c0] : memref<2xi64>
  memref.store %mx, %r[%c1] : memref<2xi64>
  func.return
}
"""


def test_int64_vectors_and_reductions() -> None:
    rng = np.random.default_rng(2)
    a = rng.integers(-(2**31), 2**31, 8, dtype=np.int64)
    b = rng.integers(-1000, 1000, 8, dtype=np.int64)
    out = np.zeros(8, np.int64)
    r = np.zeros(2, np.int64)
    jit(INT_VECTOR)["ivec"](a, b, out, r)
    np.testing.assert_array_equal(out, np.maximum(a * b, b))
    np.testing.assert_array_equal(r, [(a * b).sum(), (a * b).max()])
