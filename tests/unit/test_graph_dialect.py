"""Invariants of the graph dialect that the lit tests cannot state once for all ops:
every op has a fusion kind and an interpreter kernel, and graph.constant keeps
its exact bytes through print and parse for every element type."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
from xdsl.dialects.builtin import ModuleOp

import compiler
from compiler import dtypes
from compiler.dialects import graph as g
from compiler.interpreter import KERNELS

OPS = [op for op in g.GRAPH_OPS if op is not g.YieldOp]


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_every_op_has_a_kernel_and_a_fusion_kind(op: type) -> None:
    assert op in KERNELS, f"the interpreter has no kernel for {op.name}"
    assert isinstance(op.FUSION_KIND, g.FusionKind)


def test_fusion_kinds_follow_tvm() -> None:
    kinds = {op.name: op.FUSION_KIND.label for op in OPS}
    for name in ("graph.add", "graph.relu", "graph.where", "graph.cast", "graph.reshape",
                 "graph.transpose", "graph.slice", "graph.concat", "graph.pad", "graph.batch_norm"):
        assert kinds[name] == "injective", name
    for name in ("graph.reduce_sum", "graph.argmax", "graph.softmax", "graph.layer_norm"):
        assert kinds[name] == "reduction", name
    for name in ("graph.conv", "graph.matmul", "graph.max_pool", "graph.avg_pool"):
        assert kinds[name] == "complex-out-fusable", name
    for name in ("graph.constant", "graph.fused", "graph.lrn"):
        assert kinds[name] == "opaque", name


def _roundtrip(array: np.ndarray) -> tuple[str, np.ndarray]:
    op = g.ConstantOp.from_numpy(array)
    text = compiler.print_mlir(ModuleOp([op]))
    parsed = compiler.parse_mlir(text)
    (back,) = [o for o in parsed.walk() if isinstance(o, g.ConstantOp)]
    return text, back.to_numpy()


_rng = np.random.default_rng(7)
ARRAYS = {
    "f32-values": _rng.standard_normal((3, 4)).astype(np.float32),
    "f32-specials": np.asarray([np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-45, 3.4e38], np.float32),
    "f32-negative-zero-splat": np.full((5,), -0.0, np.float32),
    "f32-nan-splat": np.full((2, 2), np.nan, np.float32),
    "f32-big": _rng.standard_normal(1000).astype(np.float32),
    "f64-values": _rng.standard_normal(7),
    "f64-thirds": np.asarray([1 / 3, 2 / 3, 1e-300, -1e300]),
    "f16-values": _rng.standard_normal(9).astype(np.float16),
    "f16-specials": np.asarray([np.nan, np.inf, 65504, -0.0], np.float16),
    "bf16-values": _rng.standard_normal(9).astype(ml_dtypes.bfloat16),
    "bf16-specials": np.asarray([np.nan, np.inf, 3.0e38, -0.0, 1e-40], ml_dtypes.bfloat16),
    "i64-extremes": np.asarray([np.iinfo(np.int64).min, np.iinfo(np.int64).max, 0, -1]),
    "i32": _rng.integers(-(2**31), 2**31 - 1, 10).astype(np.int32),
    "i16": np.asarray([-32768, 32767], np.int16),
    "i8": np.asarray([-128, 127, 0], np.int8),
    "ui8": np.asarray([0, 255, 128], np.uint8),
    "bool": _rng.integers(0, 2, (4, 3)).astype(np.bool_),
    "bool-big": _rng.integers(0, 2, 300).astype(np.bool_),
    "rank0": np.asarray(2.5, np.float32),
    "empty": np.zeros((0, 3), np.float32),
}


@pytest.mark.parametrize("name", sorted(ARRAYS))
def test_constant_bytes_survive_print_and_parse(name: str) -> None:
    array = ARRAYS[name]
    text, back = _roundtrip(array)
    assert back.dtype == array.dtype and back.shape == array.shape, text
    assert np.ascontiguousarray(back).tobytes() == array.tobytes(), text


def test_splat_constants_print_one_value_and_stay_small() -> None:
    # A ConstantOfShape placeholder of 100M floats is stored, printed and
    # parsed as one element.
    f32 = dtypes.from_numpy_dtype(np.float32)
    op = g.ConstantOp(dtypes.dense_splat(np.asarray([0.5], np.float32), [10000, 10000], f32))
    assert len(op.value.data.data) == 4
    text = compiler.print_mlir(ModuleOp([op]))
    assert "dense<5.000000e-01> : tensor<10000x10000xf32>" in text
    assert len(text) < 300


def test_make_infers_what_verify_checks() -> None:
    x = g.ConstantOp.from_numpy(np.ones((2, 3, 4), np.float32))
    ops = [
        g.TransposeOp.make([x.result], perm=[2, 0, 1]),
        g.ReduceSumOp.make([x.result], axes=[1], keepdims=False),
        g.SoftmaxOp.make([x.result], axis=2),
        g.PadOp.make([x.result], pads=[0, 1, 0, 0, 1, 0], mode="edge", value=0.0),
        g.ArgMaxOp.make([x.result], axis=0, keepdims=True, select_last_index=False),
    ]
    for op in ops:
        op.verify()
    assert [g.shape_of(op.results[0]) for op in ops] == [
        (4, 2, 3), (2, 4), (2, 3, 4), (2, 5, 4), (1, 3, 4)
    ]


def test_make_refuses_bad_properties_with_a_diagnostic() -> None:
    from xdsl.utils.exceptions import VerifyException

    x = g.ConstantOp.from_numpy(np.ones((2, 3), np.float32))
    with pytest.raises(VerifyException, match="not a permutation"):
        g.TransposeOp.make([x.result], perm=[0, 0])
    with pytest.raises(VerifyException, match="property 'axes' must be an array"):
        g.ReduceSumOp.make([x.result], keepdims=True)
