"""A numpy-backed reference interpreter for kernels at the loop and scf levels.

It runs a `func.func` whose body is made of loop.for / scf.for / scf.parallel / scf.if,
arith, math, memref and vector ops, on numpy arrays passed for its memref
arguments (updated in place). It is the oracle that checks that schedules and
`convert-loop-to-scf` preserve a kernel's meaning, and the tuner's numerical
check at the loop level.

Loops whose iterations are claimed independent (parallel, vectorize, GPU
bindings, scf.parallel) run in reverse order by default, so that a schedule
that wrongly marks a loop with a cross-iteration dependence gives a different
answer in tests instead of passing by luck.

Scalars are numpy scalars of the element type (f32 math rounds as f32);
vectors are 1-D numpy arrays. Slow (one Python call per op): meant for small
shapes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    AnyFloat,
    BFloat16Type,
    DenseIntOrFPElementsAttr,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    ModuleOp,
    VectorType,
)
from xdsl.ir import Attribute, Block, Operation, SSAValue

from compiler.dialects.loop import ForOp, is_gpu_binding

Value = Any


class InterpretError(Exception):
    """The interpreter met an op or a situation it does not handle."""


def np_dtype(t: Attribute) -> np.dtype:
    if isinstance(t, IndexType):
        return np.dtype(np.int64)
    if isinstance(t, IntegerType):
        width = t.width.data
        if width == 1:
            return np.dtype(np.bool_)
        unsigned = t.signedness.data.name == "UNSIGNED" if hasattr(t.signedness.data, "name") else False
        return np.dtype(f"{'u' if unsigned else ''}int{width}")
    if isinstance(t, BFloat16Type):
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    if isinstance(t, AnyFloat):
        return np.dtype(f"float{t.bitwidth}")
    if isinstance(t, VectorType | MemRefType):
        return np_dtype(t.get_element_type())
    raise InterpretError(f"no numpy dtype for {t}")


def _scalar(value: Value, t: Attribute) -> Value:
    return np_dtype(t).type(value)


_CMPI: dict[int, Callable[[Any, Any], Any]] = {
    0: np.equal, 1: np.not_equal, 2: np.less, 3: np.less_equal, 4: np.greater,
    5: np.greater_equal, 6: np.less, 7: np.less_equal, 8: np.greater, 9: np.greater_equal,
}


def _cmpf(pred: int, a: Any, b: Any) -> Any:
    unordered = np.isnan(a) | np.isnan(b)
    base = {
        1: np.equal, 2: np.greater, 3: np.greater_equal, 4: np.less, 5: np.less_equal,
        6: np.not_equal,
    }
    if pred == 0:
        return np.zeros_like(unordered)
    if pred == 15:
        return np.ones_like(unordered)
    if pred == 7:
        return ~unordered
    if pred == 14:
        return unordered
    if 1 <= pred <= 6:
        with np.errstate(invalid="ignore"):
            return base[pred](a, b) & ~unordered
    ordered_pred = pred - 7  # ueq 8 -> oeq 1, ..., une 13 -> one 6
    with np.errstate(invalid="ignore"):
        return base[ordered_pred](a, b) | unordered


def _unsigned(x: Any) -> Any:
    arr = np.asarray(x)
    if arr.dtype.kind == "i":
        return arr.astype(arr.dtype.str.replace("i", "u"))
    return arr


def _trunc_div(a: Any, b: Any) -> Any:
    q = np.abs(a) // np.abs(b)
    return np.where((a < 0) != (b < 0), -q, q).astype(np.asarray(a).dtype)


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "arith.addf": np.add, "arith.subf": np.subtract, "arith.mulf": np.multiply,
    "arith.divf": np.divide, "arith.addi": np.add, "arith.subi": np.subtract,
    "arith.muli": np.multiply, "arith.divsi": _trunc_div,
    "arith.divui": lambda a, b: (_unsigned(a) // _unsigned(b)).astype(np.asarray(a).dtype),
    "arith.remui": lambda a, b: (_unsigned(a) % _unsigned(b)).astype(np.asarray(a).dtype),
    "arith.remsi": lambda a, b: np.fmod(a, b), "arith.floordivsi": np.floor_divide,
    "arith.ceildivsi": lambda a, b: -(-a // b),
    "arith.andi": np.bitwise_and, "arith.ori": np.bitwise_or, "arith.xori": np.bitwise_xor,
    "arith.shli": np.left_shift, "arith.shrsi": np.right_shift,
    "arith.maxsi": np.maximum, "arith.minsi": np.minimum,
    "arith.maxui": np.maximum, "arith.minui": np.minimum,
    "arith.maximumf": np.maximum, "arith.minimumf": np.minimum,
    "arith.maxnumf": np.fmax, "arith.minnumf": np.fmin,
    "math.powf": np.power, "math.atan2": np.arctan2, "math.copysign": np.copysign,
}

_UNARY: dict[str, Callable[[Any], Any]] = {
    "arith.negf": np.negative, "math.exp": np.exp, "math.log": np.log, "math.sqrt": np.sqrt,
    "math.tanh": np.tanh, "math.sin": np.sin, "math.cos": np.cos, "math.absf": np.abs,
    "math.absi": np.abs, "math.floor": np.floor, "math.ceil": np.ceil, "math.log2": np.log2,
    "math.log10": np.log10, "math.exp2": np.exp2, "math.tan": np.tan, "math.atan": np.arctan,
    "math.rsqrt": lambda x: 1 / np.sqrt(x), "math.round": np.round,
    "math.roundeven": np.round, "math.trunc": np.trunc, "math.log1p": np.log1p,
    "math.expm1": np.expm1, "math.erf": np.vectorize(math.erf), "math.acos": np.arccos,
    "math.asin": np.arcsin, "math.sinh": np.sinh, "math.cosh": np.cosh, "math.cbrt": np.cbrt,
    "math.asinh": np.arcsinh, "math.acosh": np.arccosh, "math.atanh": np.arctanh,
}

_CASTS = (
    "arith.index_cast", "arith.index_castui", "arith.sitofp", "arith.uitofp", "arith.fptosi",
    "arith.fptoui", "arith.extf", "arith.truncf", "arith.extsi", "arith.extui", "arith.trunci",
)


class Interpreter:
    """Runs one function; `env` maps SSA values to numpy values."""

    def __init__(self, *, reverse_independent: bool = True) -> None:
        self.env: dict[SSAValue, Value] = {}
        self.reverse_independent = reverse_independent

    def get(self, v: SSAValue) -> Value:
        try:
            return self.env[v]
        except KeyError:
            raise InterpretError(f"value {v} used before it is defined") from None

    def run_function(self, f: func.FuncOp, args: Sequence[Value]) -> None:
        block = f.body.block
        if len(args) != len(block.args):
            raise InterpretError(f"@{f.sym_name.data} takes {len(block.args)} arguments, got {len(args)}")
        for arg, value in zip(block.args, args, strict=True):
            if isinstance(arg.type, MemRefType):
                shape = tuple(arg.type.get_shape())
                if not isinstance(value, np.ndarray) or value.shape != shape:
                    raise InterpretError(f"argument {arg.name_hint} should be an array of shape {shape}")
                if value.dtype != np_dtype(arg.type):
                    raise InterpretError(f"argument {arg.name_hint} should be {np_dtype(arg.type)}")
            self.env[arg] = value
        self.run_block(block)

    def run_block(self, block: Block) -> None:
        for op in block.ops:
            self.run_op(op)

    def _loop(self, block: Block, indices: range, reverse: bool) -> None:
        iv = block.args[0]
        order = reversed(indices) if reverse else indices
        for i in order:
            self.env[iv] = np.int64(i)
            self.run_block(block)

    def run_op(self, op: Operation) -> None:
        name = op.name
        env = self.env
        if name in ("func.return", "loop.yield", "scf.yield", "scf.reduce", "loop.barrier"):
            # loop.barrier: thread-bound nests run to their end one after the
            # other here, so the phases it separates are already in sequence.
            return
        if isinstance(op, ForOp):
            independent = op.kind in ("parallel", "vectorize") or is_gpu_binding(op.kind)
            self._loop(
                op.body.block,
                range(op.lower, op.upper, op.stride),
                self.reverse_independent and independent,
            )
            return
        if name == "scf.for":
            lb, ub, step = (int(self.get(o)) for o in op.operands[:3])
            if len(op.operands) > 3:
                raise InterpretError("scf.for with iter_args is not supported")
            self._loop(op.regions[0].block, range(lb, ub, step), False)
            return
        if name == "scf.if":  # a guarded split's tail guard (no results, no else in loop kernels)
            if op.results:
                raise InterpretError("scf.if with results is not supported")
            if bool(self.get(op.operands[0])):
                self.run_block(op.regions[0].block)
            elif op.regions[1].blocks:
                self.run_block(op.regions[1].block)
            return
        if name == "scf.parallel":
            n = (len(op.operands)) // 3
            if n != 1:
                raise InterpretError("only one-dimensional scf.parallel is supported")
            lb, ub, step = (int(self.get(o)) for o in op.operands[:3])
            self._loop(op.regions[0].block, range(lb, ub, step), self.reverse_independent)
            return
        operands = [self.get(o) for o in op.operands]
        result = self._compute(op, operands)
        if len(op.results) == 1:
            env[op.results[0]] = result
        elif op.results:
            raise InterpretError(f"'{name}' with several results is not supported")

    def _compute(self, op: Operation, xs: list[Value]) -> Value:
        name = op.name
        rtype = op.results[0].type if op.results else None
        if name == "arith.constant":
            attr = op.properties["value"]
            if isinstance(attr, IntegerAttr | FloatAttr):
                return _scalar(attr.value.data, attr.type)
            if isinstance(attr, DenseIntOrFPElementsAttr):
                values = np.array(attr.get_values(), dtype=np_dtype(attr.type))
                return values.reshape(tuple(attr.type.get_shape()))
            raise InterpretError(f"constant {attr} is not supported")
        if name in _BINARY:
            with np.errstate(all="ignore"):
                out = _BINARY[name](xs[0], xs[1])
            return self._as(out, rtype)
        if name in _UNARY:
            with np.errstate(all="ignore"):
                return self._as(_UNARY[name](xs[0]), rtype)
        if name in ("math.fma", "vector.fma"):
            return self._as(xs[0] * xs[1] + xs[2], rtype)
        if name == "arith.cmpi":
            pred = op.properties["predicate"].value.data
            a, b = xs
            if pred >= 6:
                a, b = _unsigned(a), _unsigned(b)
            return self._as(_CMPI[pred](a, b), rtype)
        if name == "arith.cmpf":
            return self._as(_cmpf(op.properties["predicate"].value.data, xs[0], xs[1]), rtype)
        if name == "arith.select":
            return self._as(np.where(xs[0], xs[1], xs[2]), rtype)
        if name in _CASTS:
            with np.errstate(all="ignore"):
                return self._as(np.asarray(xs[0]).astype(np_dtype(rtype)), rtype)
        if name == "arith.bitcast":
            return self._as(np.asarray(xs[0]).view(np_dtype(rtype)), rtype)
        if name == "memref.load":
            return xs[0][tuple(int(i) for i in xs[1:])]
        if name == "memref.store":
            xs[1][tuple(int(i) for i in xs[2:])] = xs[0]
            return None
        if name in ("memref.alloca", "memref.alloc"):
            assert isinstance(rtype, MemRefType)
            dtype = np_dtype(rtype)
            # Poison fresh buffers so that reading before writing shows.
            fill = np.nan if dtype.kind == "f" else 0x5A
            return np.full(tuple(rtype.get_shape()), fill, dtype=dtype)
        if name == "memref.dealloc":
            return None
        if name == "loop.allreduce":
            combine = _BINARY[f"arith.{op.properties['combiner'].data}"]
            partial, acc, idx = xs[0], xs[1], tuple(int(i) for i in xs[2:])
            value = acc[idx]
            with np.errstate(all="ignore"):
                for p in partial:
                    value = combine(value, p)
            acc[idx] = value
            return None
        if name == "vector.load":
            idx = [int(i) for i in xs[1:]]
            n = rtype.get_shape()[0]
            return xs[0][(*idx[:-1], slice(idx[-1], idx[-1] + n))].copy()
        if name == "vector.store":
            idx = [int(i) for i in xs[2:]]
            n = len(xs[0])
            xs[1][(*idx[:-1], slice(idx[-1], idx[-1] + n))] = xs[0]
            return None
        if name == "vector.broadcast":
            return np.full(tuple(rtype.get_shape()), xs[0], dtype=np_dtype(rtype))
        if name == "vector.insert":
            pos = op.properties["static_position"].get_values()
            out = np.array(xs[1], copy=True)
            out[tuple(pos)] = xs[0]
            return out
        if name == "vector.extract":
            pos = op.properties["static_position"].get_values()
            return xs[0][tuple(pos)]
        if name == "vector.shuffle":
            mask = list(op.properties["mask"].get_values())
            return np.concatenate([xs[0], xs[1]])[mask]
        if name == "vector.reduction":
            kind = str(op.properties["kind"].data)
            fn = {"add": np.sum, "mul": np.prod, "maxnumf": np.max, "minnumf": np.min,
                  "maximumf": np.max, "minimumf": np.min, "maxsi": np.max, "minsi": np.min}[kind]
            out = fn(xs[0])
            if len(xs) > 1:
                out = _BINARY["arith.addf" if kind == "add" else "arith.mulf"](out, xs[1])
            return self._as(out, rtype)
        raise InterpretError(f"the interpreter does not handle '{name}'")

    @staticmethod
    def _as(value: Value, t: Attribute | None) -> Value:
        if t is None:
            return value
        dtype = np_dtype(t)
        if isinstance(t, VectorType):
            return np.asarray(value).astype(dtype, copy=False)
        return dtype.type(value)


def run_kernel(
    module_or_func: ModuleOp | func.FuncOp,
    args: Sequence[np.ndarray],
    *,
    name: str | None = None,
    reverse_independent: bool = True,
) -> None:
    """Run a kernel on numpy arrays (its memref arguments), updating them in place."""
    if isinstance(module_or_func, func.FuncOp):
        f = module_or_func
    else:
        funcs = [op for op in module_or_func.walk() if isinstance(op, func.FuncOp)]
        if name is not None:
            funcs = [f for f in funcs if f.sym_name.data == name]
        if len(funcs) != 1:
            raise InterpretError(f"expected one function{f' named {name}' if name else ''}, found {len(funcs)}")
        f = funcs[0]
    Interpreter(reverse_independent=reverse_independent).run_function(f, args)
