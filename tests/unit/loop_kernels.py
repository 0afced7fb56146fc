"""Loop-level kernels with numpy oracles, shared by the test_loop_* tests.

Each kernel is MLIR text (one `func.func` over memrefs), a function that makes
seeded inputs, and a numpy reference for its outputs. Shapes are small and
deliberately not multiples of the vector length, so that tails are exercised.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser

from compiler.registry import make_context
from compiler.schedule.interpret import run_kernel


@dataclass
class Kernel:
    name: str
    source: str
    inputs: Callable[[np.random.Generator], list[np.ndarray]]
    reference: Callable[[list[np.ndarray]], list[np.ndarray]]
    outputs: tuple[int, ...]
    """Argument positions whose final contents are checked."""
    rtol: float = 1e-5
    atol: float = 1e-5

    def parse(self) -> ModuleOp:
        module = Parser(make_context(), self.source).parse_module()
        module.verify()
        return module

    def func(self, module: ModuleOp) -> func.FuncOp:
        return next(op for op in module.walk() if isinstance(op, func.FuncOp))

    def check(self, module: ModuleOp, seed: int = 0) -> None:
        """Run the module on seeded inputs and compare with the numpy reference."""
        rng = np.random.default_rng(seed)
        args = self.inputs(rng)
        expected = self.reference([a.copy() for a in args])
        run_kernel(module, args)
        for pos, want in zip(self.outputs, expected, strict=True):
            got = args[pos]
            if want.dtype.kind == "f":
                np.testing.assert_allclose(got, want, rtol=self.rtol, atol=self.atol)
            else:
                np.testing.assert_array_equal(got, want)


def f32(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


M, N, K = 6, 37, 5

MATMUL = Kernel(
    "matmul_bias_relu",
    f"""
func.func @matmul(%A: memref<{M}x{K}xf32>, %B: memref<{K}x{N}xf32>, %bias: memref<{N}xf32>,
                  %C: memref<{M}x{N}xf32>) attributes {{loop.kernel}} {{
  loop.for %i = 0 to {M} step 1 axis "i" {{
    loop.for %j = 0 to {N} step 1 axis "j" {{
      %zero = arith.constant 0.0 : f32
      memref.store %zero, %C[%i, %j] : memref<{M}x{N}xf32>
    }}
  }}
  loop.for %i1 = 0 to {M} step 1 axis "i1" {{
    loop.for %j1 = 0 to {N} step 1 axis "j1" {{
      loop.for %k = 0 to {K} step 1 axis "k" {{
        %a = memref.load %A[%i1, %k] : memref<{M}x{K}xf32>
        %b = memref.load %B[%k, %j1] : memref<{K}x{N}xf32>
        %c = memref.load %C[%i1, %j1] : memref<{M}x{N}xf32>
        %p = arith.mulf %a, %b : f32
        %s = arith.addf %c, %p : f32
        memref.store %s, %C[%i1, %j1] : memref<{M}x{N}xf32>
      }}
    }}
  }}
  loop.for %i2 = 0 to {M} step 1 axis "i2" {{
    loop.for %j2 = 0 to {N} step 1 axis "j2" {{
      %c = memref.load %C[%i2, %j2] : memref<{M}x{N}xf32>
      %b = memref.load %bias[%j2] : memref<{N}xf32>
      %s = arith.addf %c, %b : f32
      %z = arith.constant 0.0 : f32
      %r = arith.maximumf %s, %z : f32
      memref.store %r, %C[%i2, %j2] : memref<{M}x{N}xf32>
    }}
  }}
  func.return
}}
""",
    lambda rng: [f32(rng, M, K), f32(rng, K, N), f32(rng, N), np.zeros((M, N), np.float32)],
    lambda a: [np.maximum(a[0] @ a[1] + a[2], 0)],
    (3,),
)

# conv2d, NCHW, 3x3, stride 2: the input is read with stride 2 along ow (a gather).
CI, CO, H, W, R, S = 3, 4, 9, 21, 3, 3
OH, OW = (H - R) // 2 + 1, (W - S) // 2 + 1

CONV = Kernel(
    "conv2d_stride2",
    f"""
func.func @conv(%x: memref<1x{CI}x{H}x{W}xf32>, %w: memref<{CO}x{CI}x{R}x{S}xf32>,
                %bias: memref<{CO}xf32>, %y: memref<1x{CO}x{OH}x{OW}xf32>) attributes {{loop.kernel}} {{
  loop.for %n = 0 to 1 step 1 axis "n" {{
    loop.for %co = 0 to {CO} step 1 axis "co" {{
      loop.for %oh = 0 to {OH} step 1 axis "oh" {{
        loop.for %ow = 0 to {OW} step 1 axis "ow" {{
          %b = memref.load %bias[%co] : memref<{CO}xf32>
          memref.store %b, %y[%n, %co, %oh, %ow] : memref<1x{CO}x{OH}x{OW}xf32>
        }}
      }}
    }}
  }}
  loop.for %n1 = 0 to 1 step 1 axis "n1" {{
    loop.for %co1 = 0 to {CO} step 1 axis "co1" {{
      loop.for %oh1 = 0 to {OH} step 1 axis "oh1" {{
        loop.for %ow1 = 0 to {OW} step 1 axis "ow1" {{
          loop.for %ci = 0 to {CI} step 1 axis "ci" {{
            loop.for %kh = 0 to {R} step 1 axis "kh" {{
              loop.for %kw = 0 to {S} step 1 axis "kw" {{
                %c2 = arith.constant 2 : index
                %h0 = arith.muli %oh1, %c2 : index
                %h = arith.addi %h0, %kh : index
                %w0 = arith.muli %ow1, %c2 : index
                %ww = arith.addi %w0, %kw : index
                %xv = memref.load %x[%n1, %ci, %h, %ww] : memref<1x{CI}x{H}x{W}xf32>
                %wv = memref.load %w[%co1, %ci, %kh, %kw] : memref<{CO}x{CI}x{R}x{S}xf32>
                %acc = memref.load %y[%n1, %co1, %oh1, %ow1] : memref<1x{CO}x{OH}x{OW}xf32>
                %p = arith.mulf %xv, %wv : f32
                %s = arith.addf %acc, %p : f32
                memref.store %s, %y[%n1, %co1, %oh1, %ow1] : memref<1x{CO}x{OH}x{OW}xf32>
              }}
            }}
          }}
        }}
      }}
    }}
  }}
  func.return
}}
""",
    lambda rng: [
        f32(rng, 1, CI, H, W),
        f32(rng, CO, CI, R, S),
        f32(rng, CO),
        np.zeros((1, CO, OH, OW), np.float32),
    ],
    lambda a: [_conv_ref(a[0], a[1], a[2])],
    (3,),
    rtol=1e-4,
    atol=1e-4,
)


def _conv_ref(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    y = np.zeros((1, CO, OH, OW), np.float64)
    for kh in range(R):
        for kw in range(S):
            patch = x[0, :, kh : kh + 2 * OH : 2, kw : kw + 2 * OW : 2]  # ci, oh, ow
            y[0] += np.einsum("chw,oc->ohw", patch, w[:, :, kh, kw])
    return (y + b[None, :, None, None]).astype(np.float32)


TR, TC = 7, 19

TRANSPOSE = Kernel(
    "transpose_scale",
    f"""
func.func @transpose(%x: memref<{TR}x{TC}xf32>, %y: memref<{TC}x{TR}xf32>) attributes {{loop.kernel}} {{
  loop.for %i = 0 to {TR} step 1 axis "i" {{
    loop.for %j = 0 to {TC} step 1 axis "j" {{
      %v = memref.load %x[%i, %j] : memref<{TR}x{TC}xf32>
      %two = arith.constant 2.0 : f32
      %d = arith.mulf %v, %two : f32
      memref.store %d, %y[%j, %i] : memref<{TC}x{TR}xf32>
    }}
  }}
  func.return
}}
""",
    lambda rng: [f32(rng, TR, TC), np.zeros((TC, TR), np.float32)],
    lambda a: [(a[0] * 2).T.copy()],
    (1,),
)

E = 29

SELECT_F64 = Kernel(
    "select_f64_mask_i1",
    f"""
func.func @sel(%x: memref<{E}xf64>, %y: memref<{E}xf64>, %out: memref<{E}xf64>,
               %mask: memref<{E}xi1>) attributes {{loop.kernel}} {{
  loop.for %i = 0 to {E} step 1 axis "i" {{
    %a = memref.load %x[%i] : memref<{E}xf64>
    %b = memref.load %y[%i] : memref<{E}xf64>
    %gt = arith.cmpf ogt, %a, %b : f64
    %two = arith.constant 2.0 : f64
    %a2 = arith.mulf %a, %two : f64
    %r = arith.select %gt, %a2, %b : f64
    %zero = arith.constant 0.0 : f64
    %pos = arith.cmpf oge, %r, %zero : f64
    %clamped = arith.select %pos, %r, %zero : f64
    %e = math.exp %clamped : f64
    memref.store %e, %out[%i] : memref<{E}xf64>
    memref.store %gt, %mask[%i] : memref<{E}xi1>
  }}
  func.return
}}
""",
    lambda rng: [
        rng.standard_normal(E),
        rng.standard_normal(E),
        np.zeros(E),
        np.zeros(E, np.bool_),
    ],
    lambda a: [
        np.exp(np.maximum(np.where(a[0] > a[1], 2 * a[0], a[1]), 0)),
        a[0] > a[1],
    ],
    (2, 3),
    rtol=1e-12,
    atol=1e-12,
)

IR_ROWS, IR_COLS = 3, 23

INDEX_MATH = Kernel(
    "index_math_i64",
    f"""
func.func @iota(%out: memref<{IR_ROWS}x{IR_COLS}xi64>, %f: memref<{IR_ROWS}x{IR_COLS}xf32>,
                %lut: memref<72xi64>) attributes {{loop.kernel}} {{
  loop.for %r = 0 to {IR_ROWS} step 1 axis "r" {{
    loop.for %c = 0 to {IR_COLS} step 1 axis "c" {{
      %c3 = arith.constant 3 : index
      %t = arith.muli %c, %c3 : index
      %rr = arith.addi %t, %r : index
      %v = arith.index_cast %rr : index to i64
      %c7 = arith.constant 7 : i64
      %m = arith.remsi %v, %c7 : i64
      %l = memref.load %lut[%rr] : memref<72xi64>
      %s = arith.addi %m, %l : i64
      %k = arith.constant 2 : i64
      %sh = arith.muli %s, %k : i64
      memref.store %sh, %out[%r, %c] : memref<{IR_ROWS}x{IR_COLS}xi64>
      %fv = arith.sitofp %sh : i64 to f32
      memref.store %fv, %f[%r, %c] : memref<{IR_ROWS}x{IR_COLS}xf32>
    }}
  }}
  func.return
}}
""",
    lambda rng: [
        np.zeros((IR_ROWS, IR_COLS), np.int64),
        np.zeros((IR_ROWS, IR_COLS), np.float32),
        rng.integers(-50, 50, 72).astype(np.int64),
    ],
    lambda a: [
        _index_ref(a[2]),
        _index_ref(a[2]).astype(np.float32),
    ],
    (0, 1),
)


def _index_ref(lut: np.ndarray) -> np.ndarray:
    r = np.arange(IR_ROWS)[:, None]
    c = np.arange(IR_COLS)[None, :]
    idx = c * 3 + r
    return ((np.fmod(idx, 7) + lut[idx]) * 2).astype(np.int64)


RS_R, RS_C = 5, 33

ROW_SUM = Kernel(
    "row_sum",
    f"""
func.func @rowsum(%x: memref<{RS_R}x{RS_C}xf32>, %y: memref<{RS_R}xf32>) attributes {{loop.kernel}} {{
  loop.for %i = 0 to {RS_R} step 1 axis "i" {{
    %z = arith.constant 0.0 : f32
    memref.store %z, %y[%i] : memref<{RS_R}xf32>
    loop.for %j = 0 to {RS_C} step 1 axis "j" {{
      %v = memref.load %x[%i, %j] : memref<{RS_R}x{RS_C}xf32>
      %acc = memref.load %y[%i] : memref<{RS_R}xf32>
      %s = arith.addf %acc, %v : f32
      memref.store %s, %y[%i] : memref<{RS_R}xf32>
    }}
  }}
  func.return
}}
""",
    lambda rng: [f32(rng, RS_R, RS_C), np.zeros(RS_R, np.float32)],
    lambda a: [a[0].sum(axis=1)],
    (1,),
    rtol=1e-5,
    atol=1e-5,
)

ALL_KERNELS = [MATMUL, CONV, TRANSPOSE, SELECT_F64, INDEX_MATH, ROW_SUM]

MX = 24

MISC = Kernel(
    "misc_vectorize_edges",
    f"""
func.func @misc(%x: memref<4x{MX}xf32>, %y: memref<{MX}xf32>, %r: memref<{MX}xf32>,
                %q: memref<{MX}xf32>, %idx: memref<{MX}xindex>) attributes {{loop.kernel}} {{
  // An unrolled inner loop inside a vectorized loop; y is updated in place.
  loop.for %j = 0 to {MX} step 1 axis "j" vectorize {{
    %z = arith.constant 0.0 : f32
    memref.store %z, %y[%j] : memref<{MX}xf32>
    loop.for %u = 0 to 4 step 1 axis "u" unroll {{
      %v = memref.load %x[%u, %j] : memref<4x{MX}xf32>
      %acc = memref.load %y[%j] : memref<{MX}xf32>
      %s = arith.addf %acc, %v : f32
      memref.store %s, %y[%j] : memref<{MX}xf32>
    }}
  }}
  // lb 1, step 2: odd elements (a stride-2 gather/scatter); a reversed read (stride -1).
  loop.for %k = 1 to {MX} step 2 axis "k" vectorize {{
    %c = arith.constant {MX - 1} : index
    %rev = arith.subi %c, %k : index
    %a = memref.load %y[%rev] : memref<{MX}xf32>
    %kf = arith.index_cast %k : index to i64
    %f = arith.sitofp %kf : i64 to f32
    %p = arith.mulf %a, %f : f32
    memref.store %p, %r[%k] : memref<{MX}xf32>
  }}
  loop.for %e = 0 to {MX} step 2 axis "e" vectorize {{
    %z = arith.constant -1.0 : f32
    memref.store %z, %r[%e] : memref<{MX}xf32>
  }}
  // An indirect (non-affine) gather through an index buffer, and a division.
  loop.for %g = 0 to {MX} step 1 axis "g" vectorize {{
    %i = memref.load %idx[%g] : memref<{MX}xindex>
    %v = memref.load %y[%i] : memref<{MX}xf32>
    %c3 = arith.constant 3 : index
    %h = arith.divui %g, %c3 : index
    %w = memref.load %y[%h] : memref<{MX}xf32>
    %s = arith.subf %v, %w : f32
    %n = arith.negf %s : f32
    memref.store %n, %q[%g] : memref<{MX}xf32>
  }}
  func.return
}}
""",
    lambda rng: [
        f32(rng, 4, MX),
        np.zeros(MX, np.float32),
        np.zeros(MX, np.float32),
        np.zeros(MX, np.float32),
        rng.permutation(MX).astype(np.int64),
    ],
    lambda a: _misc_ref(a),
    (1, 2, 3),
)


def _misc_ref(a: list[np.ndarray]) -> list[np.ndarray]:
    x, idx = a[0], a[4]
    y = x.astype(np.float32).sum(axis=0, dtype=np.float32)
    y = ((x[0] + x[1]) + x[2]) + x[3]
    r = np.full(MX, -1.0, np.float32)
    k = np.arange(1, MX, 2)
    r[k] = y[MX - 1 - k] * k.astype(np.float32)
    g = np.arange(MX)
    q = -(y[idx] - y[g // 3])
    return [y, r, q.astype(np.float32)]


ALL_KERNELS.append(MISC)
