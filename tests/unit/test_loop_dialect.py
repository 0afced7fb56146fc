"""The loop dialect's Python API, the schedule data model and the access analysis."""

from __future__ import annotations

import json

import numpy as np
import pytest
from loop_kernels import CONV, MATMUL, ROW_SUM, Kernel
from xdsl.dialects import arith, func, memref
from xdsl.dialects.builtin import (
    FloatAttr,
    IndexType,
    IntAttr,
    MemRefType,
    ModuleOp,
    StringAttr,
    f32,
)
from xdsl.ir import Block, Region
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from compiler.dialects.loop import SCOPE_ATTR, ForOp, is_shared_buffer
from compiler.errors import CompilerError
from compiler.registry import make_context
from compiler.schedule import (
    PRIMITIVES,
    Bind,
    Fuse,
    Parallel,
    Primitive,
    Reorder,
    Schedule,
    ScheduleError,
    Split,
    Unroll,
    Vectorize,
    apply_schedule,
    find_loop,
)
from compiler.schedule.analysis import independence_problem


def _kernel_with_loop(loop: ForOp) -> ModuleOp:
    ty = MemRefType(f32, [16])
    block = Block(arg_types=[ty])
    block.add_op(loop)
    block.add_op(func.ReturnOp())
    f = func.FuncOp("k", ((ty,), ()), Region(block))
    return ModuleOp([f])


def test_build_and_print() -> None:
    loop = ForOp(0, 16, 2, "i", "vectorize")
    module = _kernel_with_loop(loop)
    buf = module.body.block.first_op.body.block.args[0]  # type: ignore[union-attr]
    c = arith.ConstantOp(FloatAttr(1.0, f32))
    loop.body.block.insert_ops_before([c, memref.StoreOp.get(c, buf, [loop.iv])], loop.body.block.last_op)
    module.verify()
    assert loop.trip_count == 8 and loop.kind == "vectorize" and loop.axis_name == "i"
    assert isinstance(loop.iv.type, IndexType)
    text = _print(module)
    assert 'loop.for %1 = 0 to 16 step 2 axis "i" vectorize {' in text
    loop.kind = "serial"
    assert "annotation" not in loop.properties
    assert 'axis "i" {' in _print(module)


def _print(op: ModuleOp) -> str:
    import io

    out = io.StringIO()
    Printer(stream=out).print_op(op)
    return out.getvalue()


@pytest.mark.parametrize(
    ("lb", "ub", "step", "annotation", "message"),
    [
        (0, 8, 0, "serial", "step must be positive"),
        (4, 2, 1, "serial", "upper bound 2 is below lower bound 4"),
        (0, 8, 1, "simd", "unknown annotation 'simd'"),
    ],
)
def test_verifier(lb: int, ub: int, step: int, annotation: str, message: str) -> None:
    module = _kernel_with_loop(ForOp(lb, ub, step, "i", annotation))
    with pytest.raises(VerifyException, match=message):
        module.verify()


def test_trip_counts() -> None:
    assert ForOp(0, 10, 3, "a").trip_count == 4
    assert ForOp(-3, 3, 2, "b").trip_count == 3
    assert ForOp(5, 5, 1, "c").trip_count == 0


# -- the schedule data model ------------------------------------------------


def test_json_round_trip() -> None:
    schedule = Schedule(
        [
            Split("ow", 16),
            Vectorize("ow.inner"),
            Parallel("co"),
            Reorder(("a", "b", "c")),
            Fuse("n", "co"),
            Unroll("kw"),
            Bind("b", "threadIdx.y"),
        ]
    )
    text = schedule.to_json()
    data = json.loads(text)
    assert data[0] == {"primitive": "split", "axis": "ow", "factor": 16}
    assert data[3] == {"primitive": "reorder", "axes": ["a", "b", "c"]}
    assert data[6] == {"primitive": "bind", "axis": "b", "thread": "threadIdx.y"}
    again = Schedule.from_json(text)
    assert again == schedule
    assert set(PRIMITIVES) == {
        "split", "reorder", "fuse", "vectorize", "unroll", "parallel", "bind", "cache_write", "compute_at", "dot", "pack",
        "cache_read", "bind_reduce", "bind_strided",
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([{"primitive": "tile"}], "unknown schedule primitive 'tile'"),
        ([{"primitive": "split", "axis": "i"}], "missing parameter"),
        ([{"primitive": "split", "axis": "i", "factor": 2, "x": 1}], "unknown parameter"),
        ([{"primitive": "split", "axis": "i", "factor": -2}], "positive integer"),
        ([{"primitive": "split", "axis": "i", "factor": 2.5}], "positive integer"),
        ([{"primitive": "reorder", "axes": ["i"]}], "at least two axes"),
        ([{"primitive": "reorder", "axes": ["i", "i"]}], "repeat"),
        ([{"primitive": "bind", "axis": "i", "thread": "warp"}], "thread must be one of"),
        ([["split"]], "must be an object"),
        ({"primitive": "split"}, "JSON list"),
    ],
)
def test_bad_schedule_data(data: object, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        Schedule.from_json(json.dumps(data))


def test_schedule_error_is_a_compiler_error() -> None:
    assert issubclass(ScheduleError, CompilerError)
    module = MATMUL.parse()
    with pytest.raises(ScheduleError) as info:
        apply_schedule(MATMUL.func(module), [Split("j1", 4), Split("nope", 2)])
    text = str(info.value)
    assert "kernel @matmul, step 1 (split)" in text and "no loop named 'nope'" in text
    assert "'j1.outer'" in text  # the loops that do exist are listed


def _loop(kernel: Kernel, axis: str) -> ForOp:
    return find_loop(kernel.func(kernel.parse()), axis)


# -- primitives refuse what is illegal ----------------------------------------


@pytest.mark.parametrize(
    ("kernel", "primitive", "message"),
    [
        (MATMUL, Parallel("k"), "a reduction over it"),
        (ROW_SUM, Parallel("j"), "a reduction over it"),
        (ROW_SUM, Vectorize("i"), "its body holds the loop 'j'"),
        (MATMUL, Split("k", 6), "exceeds the loop's 5 iterations"),
        (MATMUL, Reorder(("i", "j1")), "not perfectly nested"),
        (ROW_SUM, Reorder(("i", "j")), "not perfectly nested"),
        (MATMUL, Fuse("i1", "k"), "must be the only op"),
        (CONV, Bind("ci", "threadIdx.x"), "reduction"),
    ],
)
def test_illegal_primitives(kernel: Kernel, primitive: Primitive, message: str) -> None:
    module = kernel.parse()
    with pytest.raises(ScheduleError, match=message):
        primitive.apply(kernel.func(module))


def test_annotation_rules_apply_to_primitives() -> None:
    module = MATMUL.parse()
    f = MATMUL.func(module)
    Parallel("i1").apply(f)
    with pytest.raises(ScheduleError, match="nested parallel loops"):
        Parallel("j1").apply(f)
    assert find_loop(f, "j1").kind == "serial"  # the failed primitive changed nothing
    Split("j", 8).apply(f)
    with pytest.raises(ScheduleError, match="already parallel"):
        Split("i1", 2).apply(f)
    with pytest.raises(ScheduleError, match="more than 1024"):
        Unroll("k").apply(_big_loop_kernel())


def _big_loop_kernel() -> func.FuncOp:
    loop = ForOp(0, 4096, 1, "k")
    module = _kernel_with_loop(loop)
    return module.body.block.first_op  # type: ignore[return-value]


# -- the analysis -------------------------------------------------------------


def test_independence() -> None:
    assert independence_problem(_loop(MATMUL, "i1")) is None
    assert independence_problem(_loop(MATMUL, "j1")) is None
    assert "reduction" in (independence_problem(_loop(MATMUL, "k")) or "")
    assert independence_problem(_loop(CONV, "ow1")) is None
    assert "reduction" in (independence_problem(_loop(CONV, "kh")) or "")


def test_schedules_do_not_change_results_on_a_copy() -> None:
    """apply_schedule works in place; a clone keeps the original intact."""
    module = MATMUL.parse()
    f = MATMUL.func(module)
    copy = f.clone()
    apply_schedule(copy, [Split("j2", 4), Vectorize("j2.inner")])
    assert find_loop(f, "j2").trip_count == MATMUL.inputs(np.random.default_rng(0))[1].shape[1]
    assert find_loop(copy, "j2.inner").kind == "vectorize"
    MATMUL.check(module)


def test_loop_features() -> None:
    from compiler.schedule.features import loop_features

    module = MATMUL.parse()
    f = MATMUL.func(module)
    apply_schedule(f, [Split("j2", 16), Vectorize("j2.inner"), Parallel("i2")])
    feats = {x.axis: x for x in loop_features(f)}
    # A is 6x5, B 5x37, C 6x37 f32: the whole of each is touched by the i1 nest.
    assert feats["i1"].bytes_touched == {"A": 120, "B": 740, "C": 888}
    # One k loop reads a row of A, a column of B and one element of C.
    assert feats["k"].bytes_touched == {"A": 20, "B": 20, "C": 4}
    assert (feats["j2.inner"].extent, feats["j2.inner"].annotation) == (16, "vectorize")
    assert feats["j2.inner"].bytes_touched == {"C": 64, "bias": 64}
    assert feats["i2"].annotation == "parallel" and feats["i2"].depth == 0
    assert feats["j2.outer"].depth == 1


def test_shared_buffer_spellings() -> None:
    """A block's shared buffer is an alloca of scope `shared` (cache_read) or one in a non-default
    memory space (the row emitter's older spelling); a `local` scope or a plain alloca is per thread."""
    plain = memref.AllocaOp.get(f32, shape=[4])
    scoped = memref.AllocaOp.get(f32, shape=[4])
    scoped.attributes[SCOPE_ATTR] = StringAttr("shared")
    local = memref.AllocaOp.get(f32, shape=[4])
    local.attributes[SCOPE_ATTR] = StringAttr("local")
    spaced = memref.AllocaOp.get(f32, shape=[4], memory_space=IntAttr(3))
    assert [is_shared_buffer(op.memref) for op in (plain, scoped, local, spaced)] == [False, True, False, True]



def _grouped_stores(tile: int, tail_at: int, tail: int, unknown_offset: bool = False) -> ForOp:
    """`for g < 4: buf[g*8 + i] (i < tile); buf[g*8 + tail_at + j] (+ %n) (j < tail)`:
    a grouped conv's output channels, written by a register tile and its tail."""
    tail_index = "%b2" if unknown_offset else "%b1"
    source = f"""
func.func @k(%buf: memref<64xf32>, %n: index) attributes {{loop.kernel}} {{
  loop.for %g = 0 to 4 step 1 axis "g" {{
    %one = arith.constant 1.0 : f32
    %c8 = arith.constant 8 : index
    %base = arith.muli %g, %c8 : index
    loop.for %i = 0 to {tile} step 1 axis "i" {{
      %a = arith.addi %base, %i : index
      memref.store %one, %buf[%a] : memref<64xf32>
    }}
    loop.for %j = 0 to {tail} step 1 axis "j" {{
      %at = arith.constant {tail_at} : index
      %b0 = arith.addi %base, %at : index
      %b1 = arith.addi %b0, %j : index
      %b2 = arith.addi %b1, %n : index
      memref.store %one, %buf[{tail_index}] : memref<64xf32>
    }}
  }}
  func.return
}}"""
    module = Parser(make_context(), source).parse_module()
    return next(op for op in module.walk() if isinstance(op, ForOp) and op.axis_name == "g")


def test_independence_of_slices_with_constant_offsets() -> None:
    """Iterations of `g` write disjoint slices when every access's constant offset
    plus its inner range stays within the g*8 stride; the same offsets spanning
    more than 8, or an offset that is not a constant, are refused."""
    assert independence_problem(_grouped_stores(6, 6, 2)) is None
    assert "different addresses" in (independence_problem(_grouped_stores(8, 7, 2)) or "")
    assert independence_problem(_grouped_stores(6, 6, 2, unknown_offset=True)) is not None
