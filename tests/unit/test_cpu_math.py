"""math ops on the CPU target vs numpy: the f32 polynomial approximations, libm, intrinsics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from cpu_kernels import jit

N = 4096


def _unary_kernel(op: str, dtype: str, width: int) -> str:
    """y = op(x) over N elements, `width` lanes at a time (1: scalar loads)."""
    if width == 1:
        body = f"""
    %v = memref.load %x[%i] : memref<{N}x{dtype}>
    %r = math.{op} %v : {dtype}
    memref.store %r, %y[%i] : memref<{N}x{dtype}>"""
    else:
        vt = f"vector<{width}x{dtype}>"
        body = f"""
    %v = vector.load %x[%i] : memref<{N}x{dtype}>, {vt}
    %r = math.{op} %v : {vt}
    vector.store %r, %y[%i] : memref<{N}x{dtype}>, {vt}"""
    return f"""
func.func @k(%x: memref<{N}x{dtype}>, %y: memref<{N}x{dtype}>) {{
  %c0 = arith.constant 0 : index
  %n = arith.constant {N} : index
  %step = arith.constant {width} : index
  scf.for %i = %c0 to %n step %step {{{body}
  }}
  func.return
}}
"""


def _run(op: str, x: np.ndarray, width: int, **options: bool) -> np.ndarray:
    dtype = {np.float32: "f32", np.float64: "f64"}[x.dtype.type]
    y = np.zeros_like(x)
    jit(_unary_kernel(op, dtype, width), **options)["k"](x, y)
    return y


_erf = np.vectorize(math.erf)

REFERENCES = {
    "exp": np.exp,
    "tanh": np.tanh,
    "erf": _erf,
}

# Inputs covering the interesting ranges: tiny, around the approximation
# switch points (tanh 0.625, erf 4), overflow/underflow of exp.
GRIDS = {
    "exp": np.concatenate([np.linspace(-104, 89, N - 96), np.linspace(-1e-3, 1e-3, 96)]),
    "tanh": np.concatenate([np.linspace(-10, 10, N - 128), np.geomspace(1e-30, 0.7, 128)]),
    "erf": np.concatenate([np.linspace(-5, 5, N - 128), np.geomspace(1e-30, 1, 128)]),
}


@pytest.mark.parametrize("approximate", [True, False], ids=["poly", "libm"])
@pytest.mark.parametrize("width", [16, 1], ids=["vector", "scalar"])
@pytest.mark.parametrize("op", ["exp", "tanh", "erf"])
def test_f32_exp_tanh_erf_are_accurate(op: str, width: int, approximate: bool) -> None:
    x = GRIDS[op].astype(np.float32)
    y = _run(op, x, width, approximate_math=approximate)
    reference = REFERENCES[op](x.astype(np.float64))
    with np.errstate(over="ignore"):
        rounded = reference.astype(np.float32)
    # Relative error within 1e-6, except where the f32 result overflows or is subnormal.
    normal = np.isfinite(rounded) & (np.abs(rounded) > 1.2e-38)
    relative = np.abs(y[normal] - reference[normal]) / np.abs(reference[normal])
    assert relative.max() < 1e-6, (op, x[normal][np.argmax(relative)], relative.max())
    np.testing.assert_allclose(y[~normal], rounded[~normal], rtol=1e-6, atol=1e-44)


def test_exp_special_values() -> None:
    x = np.zeros(N, np.float32)
    x[:5] = [np.inf, -np.inf, np.nan, 89.0, -200.0]
    y = _run("exp", x, 16)
    assert y[0] == np.inf and y[1] == 0 and np.isnan(y[2]) and y[3] == np.inf and y[4] == 0
    t = _run("tanh", x, 16)
    assert t[0] == 1 and t[1] == -1 and np.isnan(t[2])
    e = _run("erf", x, 16)
    assert e[0] == 1 and e[1] == -1 and np.isnan(e[2])


SIMPLE = {
    "sqrt": (np.sqrt, (0, 100)),
    "rsqrt": (lambda v: 1 / np.sqrt(v), (0.01, 100)),
    "log": (np.log, (0.001, 100)),
    "log2": (np.log2, (0.001, 100)),
    "absf": (np.abs, (-5, 5)),
    "floor": (np.floor, (-5, 5)),
    "ceil": (np.ceil, (-5, 5)),
    "roundeven": (np.round, (-5, 5)),
    "sin": (np.sin, (-5, 5)),
    "cos": (np.cos, (-5, 5)),
    "exp2": (np.exp2, (-20, 20)),
    "log1p": (np.log1p, (-0.5, 5)),
    "expm1": (np.expm1, (-5, 5)),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", sorted(SIMPLE))
def test_intrinsics_and_libm_calls(op: str, dtype: type) -> None:
    reference, (lo, hi) = SIMPLE[op]
    x = np.linspace(lo, hi, N).astype(dtype)
    width = 16 if dtype is np.float32 else 8
    y = _run(op, x, width)
    rtol = 2e-6 if dtype is np.float32 else 1e-13
    np.testing.assert_allclose(y, reference(x.astype(np.float64)), rtol=rtol, atol=1e-6)


F64 = """
func.func @k(%x: memref<64xf64>, %y: memref<64xf64>) {
  %c0 = arith.constant 0 : index
  %c64 = arith.constant 64 : index
  %c8 = arith.constant 8 : index
  %three = arith.constant dense<3.0> : vector<8xf64>
  scf.for %i = %c0 to %c64 step %c8 {
    %v = vector.load %x[%i] : memref<64xf64>, vector<8xf64>
    %e = math.exp %v : vector<8xf64>
    %t = math.tanh %v : vector<8xf64>
    %p = math.powf %v, %three : vector<8xf64>
    %f = math.fma %e, %t, %p : vector<8xf64>
    vector.store %f, %y[%i] : memref<64xf64>, vector<8xf64>
  }
  func.return
}
"""


def test_f64_keeps_exact_routes() -> None:
    x = np.linspace(0.1, 3, 64)
    y = np.zeros(64)
    jit(F64)["k"](x, y)
    np.testing.assert_allclose(y, np.exp(x) * np.tanh(x) + x**3, rtol=1e-14)


MISC = """
func.func @misc(%x: memref<8xf32>, %out: memref<7x8xf32>, %ints: memref<8xi32>, %iout: memref<2x8xi32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %r0 = arith.constant 0 : index
  %r1 = arith.constant 1 : index
  %r2 = arith.constant 2 : index
  %r3 = arith.constant 3 : index
  %r4 = arith.constant 4 : index
  %r5 = arith.constant 5 : index
  %r6 = arith.constant 6 : index
  %three = arith.constant 3 : i32
  %half = arith.constant -0.5 : f32
  scf.for %i = %c0 to %c8 step %c1 {
    %v = memref.load %x[%i] : memref<8xf32>
    %p = math.fpowi %v, %three : f32, i32
    %t = math.trunc %v : f32
    %rd = math.round %v : f32
    %cs = math.copysign %v, %half : f32
    %at = math.atan2 %v, %half : f32
    %cb = math.cbrt %v : f32
    %fm = math.fma %v, %v, %half : f32
    memref.store %p, %out[%r0, %i] : memref<7x8xf32>
    memref.store %t, %out[%r1, %i] : memref<7x8xf32>
    memref.store %rd, %out[%r2, %i] : memref<7x8xf32>
    memref.store %cs, %out[%r3, %i] : memref<7x8xf32>
    memref.store %at, %out[%r4, %i] : memref<7x8xf32>
    memref.store %cb, %out[%r5, %i] : memref<7x8xf32>
    memref.store %fm, %out[%r6, %i] : memref<7x8xf32>
    %n = memref.load %ints[%i] : memref<8xi32>
    %a = math.absi %n : i32
    %c = math.ctpop %n : i32
    memref.store %a, %iout[%r0, %i] : memref<2x8xi32>
    memref.store %c, %iout[%r1, %i] : memref<2x8xi32>
  }
  func.return
}
"""


def test_other_math_ops() -> None:
    x = np.array([-2.5, -1.5, -0.3, 0.0, 0.5, 1.5, 2.5, 8.0], np.float32)
    out = np.zeros((7, 8), np.float32)
    ints = np.array([-7, -1, 0, 1, 5, 255, -(2**31), 2**31 - 1], np.int32)
    iout = np.zeros((2, 8), np.int32)
    jit(MISC)["misc"](x, out, ints, iout)
    x64 = x.astype(np.float64)
    expected = [
        x64**3,
        np.trunc(x64),
        np.where(x64 >= 0, np.floor(x64 + 0.5), np.ceil(x64 - 0.5)),  # half away from zero
        -np.abs(x64),
        np.arctan2(x64, -0.5),
        np.cbrt(x64),
        x64 * x64 - 0.5,
    ]
    for row, want in enumerate(expected):
        np.testing.assert_allclose(out[row], want, rtol=1e-6, atol=1e-7, err_msg=f"row {row}")
    np.testing.assert_array_equal(iout[0], np.abs(ints))  # INT_MIN wraps, as in C
    np.testing.assert_array_equal(iout[1], [bin(v & 0xFFFFFFFF).count("1") for v in ints.tolist()])
