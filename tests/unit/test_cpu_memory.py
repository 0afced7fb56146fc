"""Matmuls and memory ops (views into an arena, subviews, allocas, globals) on the CPU target."""

from __future__ import annotations

import numpy as np
from cpu_kernels import jit

MATMUL = """
func.func @matmul(%A: memref<13x17xf32>, %B: memref<17x11xf32>, %C: memref<13x11xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %M = arith.constant 13 : index
  %N = arith.constant 11 : index
  %K = arith.constant 17 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c0 to %M step %c1 {
    scf.for %j = %c0 to %N step %c1 {
      %acc = scf.for %k = %c0 to %K step %c1 iter_args(%s = %zero) -> (f32) {
        %a = memref.load %A[%i, %k] : memref<13x17xf32>
        %b = memref.load %B[%k, %j] : memref<17x11xf32>
        %p = arith.mulf %a, %b : f32
        %t = arith.addf %s, %p : f32
        scf.yield %t : f32
      }
      memref.store %acc, %C[%i, %j] : memref<13x11xf32>
    }
  }
  func.return
}
"""


def test_scalar_matmul() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((13, 17), dtype=np.float32)
    b = rng.standard_normal((17, 11), dtype=np.float32)
    c = np.zeros((13, 11), np.float32)
    jit(MATMUL)["matmul"](a, b, c)
    np.testing.assert_allclose(c, a @ b, rtol=1e-5, atol=1e-5)


# A model-level entry: the kernel reads its operands from views of the weights
# blob and writes into a view of the arena, as the compiled model does.
ARENA = """
func.func private @kernel(%A: memref<8x32xf32>, %B: memref<32x64xf32>, %C: memref<8x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant dense<0.0> : vector<16xf32>
  scf.for %i = %c0 to %c8 step %c1 {
    scf.for %j = %c0 to %c64 step %c16 {
      %acc = scf.for %k = %c0 to %c32 step %c1 iter_args(%v = %zero) -> (vector<16xf32>) {
        %a = memref.load %A[%i, %k] : memref<8x32xf32>
        %av = vector.broadcast %a : f32 to vector<16xf32>
        %bv = vector.load %B[%k, %j] : memref<32x64xf32>, vector<16xf32>
        %r = vector.fma %av, %bv, %v : vector<16xf32>
        scf.yield %r : vector<16xf32>
      }
      vector.store %acc, %C[%i, %j] : memref<8x64xf32>, vector<16xf32>
    }
  }
  func.return
}

func.func @main(%arena: memref<4096xi8>, %params: memref<9216xi8>) {
  %off_a = arith.constant 0 : index
  %off_b = arith.constant 1024 : index
  %off_c = arith.constant 2048 : index
  %A = memref.view %params[%off_a][] : memref<9216xi8> to memref<8x32xf32>
  %B = memref.view %params[%off_b][] : memref<9216xi8> to memref<32x64xf32>
  %C = memref.view %arena[%off_c][] : memref<4096xi8> to memref<8x64xf32>
  func.call @kernel(%A, %B, %C) : (memref<8x32xf32>, memref<32x64xf32>, memref<8x64xf32>) -> ()
  func.return
}
"""


def test_vectorized_matmul_on_views_of_arena_and_params() -> None:
    rng = np.random.default_rng(1)
    a = rng.standard_normal((8, 32), dtype=np.float32)
    b = rng.standard_normal((32, 64), dtype=np.float32)
    params = np.zeros(9216, np.uint8)
    params[:1024] = a.view(np.uint8).ravel()
    params[1024 : 1024 + 8192] = b.view(np.uint8).ravel()
    arena = np.zeros(4096, np.uint8)
    handle = jit(ARENA)
    assert "kernel" not in handle  # private: internal linkage, inlined away
    handle["main"](arena, params)
    c = arena[2048:].view(np.float32).reshape(8, 64)
    np.testing.assert_allclose(c, a @ b, rtol=1e-5, atol=1e-5)


VIEWS = """
"memref.global"() <{sym_name = "table", sym_visibility = "private", type = memref<4xf32>, initial_value = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>, constant}> : () -> ()

func.func @views(%x: memref<6x8xf32>, %out: memref<4x4xf32>, %flat: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %sub = memref.subview %x[1, 2] [4, 4] [1, 1] : memref<6x8xf32> to memref<4x4xf32, strided<[8, 1], offset: 10>>
  %tmp = memref.alloca() : memref<4xf32>
  %t = memref.get_global @table : memref<4xf32>
  scf.for %i = %c0 to %c4 step %c1 {
    scf.for %j = %c0 to %c4 step %c1 {
      %v = memref.load %sub[%i, %j] : memref<4x4xf32, strided<[8, 1], offset: 10>>
      %w = memref.load %t[%j] : memref<4xf32>
      %p = arith.mulf %v, %w : f32
      memref.store %p, %tmp[%j] : memref<4xf32>
    }
    scf.for %j = %c0 to %c4 step %c1 {
      %v = memref.load %tmp[%j] : memref<4xf32>
      memref.store %v, %out[%i, %j] : memref<4x4xf32>
    }
  }
  %row = memref.reinterpret_cast %x to offset: [40], sizes: [4], strides: [1] : memref<6x8xf32> to memref<4xf32, strided<[1], offset: 40>>
  %dst = memref.alloca() : memref<4xf32>
  "memref.copy"(%row, %dst) : (memref<4xf32, strided<[1], offset: 40>>, memref<4xf32>) -> ()
  scf.for %j = %c0 to %c4 step %c1 {
    %v = memref.load %dst[%j] : memref<4xf32>
    memref.store %v, %flat[%j] : memref<4xf32>
  }
  func.return
}
"""


def test_subview_alloca_in_loop_global_reinterpret_cast_and_copy() -> None:
    x = np.arange(48, dtype=np.float32).reshape(6, 8)
    out = np.zeros((4, 4), np.float32)
    flat = np.zeros(4, np.float32)
    jit(VIEWS)["views"](x, out, flat)
    np.testing.assert_array_equal(out, x[1:5, 2:6] * np.array([1, 2, 3, 4], np.float32))
    np.testing.assert_array_equal(flat, x.ravel()[40:44])


CONTROL = """
func.func @relu_or_neg(%x: memref<10xf32>, %y: memref<10xf32>, %neg: i1) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c10 = arith.constant 10 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c10 step %c1 {
    %v = memref.load %x[%i] : memref<10xf32>
    %r = scf.if %neg -> (f32) {
      %n = arith.negf %v : f32
      scf.yield %n : f32
    } else {
      %m = arith.maximumf %v, %zero : f32
      scf.yield %m : f32
    }
    memref.store %r, %y[%i] : memref<10xf32>
  }
  func.return
}
"""


def test_scf_if_with_results() -> None:
    x = np.linspace(-2, 2, 10, dtype=np.float32)
    y = np.zeros(10, np.float32)
    handle = jit(CONTROL)
    handle["relu_or_neg"](x, y, False)
    np.testing.assert_array_equal(y, np.maximum(x, 0))
    handle["relu_or_neg"](x, y, True)
    np.testing.assert_array_equal(y, -x)
