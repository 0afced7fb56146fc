"""Computing one element of an injective expression (TVM's compute_inline).

`ElementEmitter.emit(value, idx)` emits, at the kernel builder's insertion
point, the scalar ops that compute `value[idx]` from kernel buffers: loads of
the group's inputs at the indices each injective op maps `idx` to (broadcast,
transpose, reshape, slice, concat, gather, pad, layout transforms), then the
elementwise arithmetic. Nothing is materialized between fused ops.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from xdsl.dialects import arith
from xdsl.ir import Block, SSAValue

from compiler import dtypes
from compiler.compute.builder import Buffer, KernelBuilder, index, row_major_strides
from compiler.compute.scalar import emit_scalar, is_scalar_op
from compiler.dialects import graph as g

Source = Buffer | float | int | bool | Callable[[list[SSAValue]], SSAValue]


def broadcast_index(
    kb: KernelBuilder, src_shape: Sequence[int], out_shape: Sequence[int], idx: Sequence[SSAValue]
) -> list[SSAValue]:
    """Numpy broadcasting: right-aligned, size-1 source dims read index 0."""
    offset = len(out_shape) - len(src_shape)
    out: list[SSAValue] = []
    for d, n in enumerate(src_shape):
        if n == 1 and out_shape[offset + d] != 1:
            out.append(kb.index(0))
        else:
            out.append(idx[offset + d])
    return out


def reshape_index(
    kb: KernelBuilder, in_shape: Sequence[int], out_shape: Sequence[int], idx: Sequence[SSAValue]
) -> list[SSAValue]:
    """Maps an index of the reshaped result to the input, dim group by dim group.

    Groups of dims with equal products map without div/mod when they are 1:1
    (the common squeeze/unsqueeze/flatten cases stay affine for the vectorizer).
    """
    in_dims = [(d, n) for d, n in enumerate(in_shape) if n != 1]
    out_dims = [(d, n) for d, n in enumerate(out_shape) if n != 1]
    result: list[SSAValue | None] = [None] * len(in_shape)
    i = j = 0
    while i < len(in_dims) or j < len(out_dims):
        gi, gj = [in_dims[i]], [out_dims[j]]
        pi, pj = in_dims[i][1], out_dims[j][1]
        i, j = i + 1, j + 1
        while pi != pj:
            if pi < pj:
                gi.append(in_dims[i])
                pi *= in_dims[i][1]
                i += 1
            else:
                gj.append(out_dims[j])
                pj *= out_dims[j][1]
                j += 1
        if len(gi) == 1 and len(gj) == 1:
            result[gi[0][0]] = idx[gj[0][0]]
            continue
        flat = kb.affine(
            [(idx[d], s) for (d, _), s in zip(gj, row_major_strides([n for _, n in gj]), strict=True)]
        )
        parts = kb.delinearize(flat, [n for _, n in gi])
        for (d, _), v in zip(gi, parts, strict=True):
            result[d] = v
    return [v if v is not None else kb.index(0) for v in result]


class ElementEmitter:
    """Emits `value[idx]` for values of one fused group (or one op)."""

    def __init__(self, kb: KernelBuilder, sources: dict[SSAValue, Source]):
        self.kb = kb
        self.sources = sources
        self.overrides: dict[SSAValue, Callable[[list[SSAValue]], SSAValue]] = {}
        self._cache: dict[tuple[SSAValue, tuple[SSAValue, ...]], tuple[SSAValue, Block]] = {}

    def reset(self) -> None:
        """Forget emitted values (call when moving to another loop body)."""
        self._cache.clear()

    def emit(self, value: SSAValue, idx: Sequence[SSAValue]) -> SSAValue:
        key = (value, tuple(idx))
        hit = self._cache.get(key)
        here = self.kb.ip.block
        if hit is not None and _encloses(hit[1], here):
            return hit[0]
        result = self._emit(value, list(idx))
        self._cache[key] = (result, here)
        return result

    def _emit(self, value: SSAValue, idx: list[SSAValue]) -> SSAValue:
        kb = self.kb
        if value in self.overrides:
            return self.overrides[value](idx)
        src = self.sources.get(value)
        if src is not None:
            if isinstance(src, Buffer):
                return kb.load(src, idx)
            if callable(src):
                return src(idx)
            return kb.const(src, g.elem_of(value))
        op = value.owner
        if isinstance(op, g.ConstantOp):
            array = op.to_numpy()
            flat = array.reshape(-1)
            if flat.size and (flat == flat[0]).all():
                return kb.const(flat[0].item(), g.elem_of(value))
            raise ValueError("a non-splat constant must be a kernel input")
        if not isinstance(op, g.GraphOp):
            raise ValueError(f"cannot compute elements of {value}")
        out_shape = g.shape_of(op.results[0])
        if is_scalar_op(op):
            args = [self.emit(o, broadcast_index(kb, g.shape_of(o), out_shape, idx)) for o in op.operands]
            return emit_scalar(kb, op, args)
        match op:
            case g.BroadcastToOp():
                return self.emit(op.input, broadcast_index(kb, g.shape_of(op.input), out_shape, idx))
            case g.ReshapeOp():
                return self.emit(op.input, reshape_index(kb, g.shape_of(op.input), out_shape, idx))
            case g.TransposeOp():
                perm = op.ints("perm")
                src_idx: list[SSAValue] = [idx[0]] * len(perm)
                for i, p in enumerate(perm):
                    src_idx[p] = idx[i]
                return self.emit(op.input, src_idx)
            case g.SliceOp():
                offsets, strides = op.ints("offsets"), op.ints("strides")
                return self.emit(
                    op.input,
                    [kb.affine([(i, s)], o) for i, o, s in zip(idx, offsets, strides, strict=True)],
                )
            case g.ConcatOp():
                return self._concat(op, idx)
            case g.GatherOp():
                return self._gather(op, idx)
            case g.PadOp():
                return self._pad(op, idx)
            case g.BatchNormOp():
                return self._batch_norm(op, idx)
        lowered = _extra_element_rules.get(type(op))
        if lowered is not None:
            return lowered(self, op, idx)
        raise NotImplementedError(f"{op.name} cannot be computed elementwise")

    def _concat(self, op: g.ConcatOp, idx: list[SSAValue]) -> SSAValue:
        kb = self.kb
        axis = op.int_prop("axis")
        pos = idx[axis]
        pieces: list[tuple[int, int, SSAValue]] = []
        start = 0
        for operand in op.inputs:
            size = g.shape_of(operand)[axis]
            pieces.append((start, size, operand))
            start += size
        known = _constant_index(pos)
        if known is not None:
            for begin, size, operand in pieces:
                if begin <= known < begin + size:
                    local = list(idx)
                    local[axis] = kb.index(known - begin)
                    return self.emit(operand, local)
        # Each piece is read at a clamped position; selects keep the right one.
        result: SSAValue | None = None
        for begin, size, operand in reversed(pieces):
            local = list(idx)
            shifted = kb.add(pos, -begin)
            local[axis] = kb.clamp_index(shifted, 0, size - 1) if len(pieces) > 1 else shifted
            v = self.emit(operand, local)
            if result is None:
                result = v
            else:
                inside = kb.value(arith.CmpiOp(pos, kb.index(begin + size), "slt"))
                result = kb.value(arith.SelectOp(inside, v, result))
        assert result is not None
        return result

    def _gather(self, op: g.GatherOp, idx: list[SSAValue]) -> SSAValue:
        kb = self.kb
        axis = op.int_prop("axis")
        ri = len(g.shape_of(op.indices))
        n = g.shape_of(op.data)[axis]
        raw = self.emit(op.indices, idx[axis : axis + ri])
        pos = kb.value(arith.IndexCastOp(raw, index))
        negative = kb.value(arith.CmpiOp(pos, kb.index(0), "slt"))
        pos = kb.value(arith.SelectOp(negative, kb.add(pos, n), pos))
        # Out-of-range ids are undefined in ONNX; clamping keeps the load in bounds.
        pos = kb.clamp_index(pos, 0, n - 1)
        return self.emit(op.data, [*idx[:axis], pos, *idx[axis + ri :]])

    def _pad(self, op: g.PadOp, idx: list[SSAValue]) -> SSAValue:
        kb = self.kb
        shape = g.shape_of(op.input)
        r = len(shape)
        pads = op.ints("pads")
        mode = op.str_prop("mode")
        src: list[SSAValue] = []
        valid: SSAValue | None = None
        for d in range(r):
            if pads[d] == 0 and pads[r + d] == 0:
                src.append(idx[d])
                continue
            i = kb.add(idx[d], -pads[d])
            n = shape[d]
            if mode == "constant":
                ok = kb.in_range(i, 0, n)
                valid = ok if valid is None else kb.value(arith.AndIOp(valid, ok))
                src.append(kb.clamp_index(i, 0, n - 1))
            elif mode == "edge":
                src.append(kb.clamp_index(i, 0, n - 1))
            else:  # reflect: -i below 0, 2(n-1)-i above n-1
                low = kb.value(arith.CmpiOp(i, kb.index(0), "slt"))
                neg = kb.value(arith.SubiOp(kb.index(0), i))
                i = kb.value(arith.SelectOp(low, neg, i))
                high = kb.value(arith.CmpiOp(i, kb.index(n - 1), "sgt"))
                mirrored = kb.value(arith.SubiOp(kb.index(2 * (n - 1)), i))
                src.append(kb.clamp_index(kb.value(arith.SelectOp(high, mirrored, i)), 0, n - 1))
        v = self.emit(op.input, src)
        if valid is None:
            return v
        return kb.value(arith.SelectOp(valid, v, pad_value(kb, op)))

    def _batch_norm(self, op: g.BatchNormOp, idx: list[SSAValue]) -> SSAValue:
        kb = self.kb
        elem = g.elem_of(op.input)
        x = self.emit(op.input, idx)
        c = [idx[1]]
        scale, bias, mean, var = (self.emit(v, c) for v in (op.scale, op.bias, op.mean, op.var))
        eps = kb.const(op.float_prop("epsilon"), elem)
        from xdsl.dialects import math

        inv = kb.value(math.RsqrtOp(kb.value(arith.AddfOp(var, eps))))
        y = kb.value(arith.MulfOp(kb.value(arith.SubfOp(x, mean)), kb.value(arith.MulfOp(inv, scale))))
        return kb.value(arith.AddfOp(y, bias))


def pad_value(kb: KernelBuilder, op: g.PadOp) -> SSAValue:
    """A constant pad's value as a constant of the padded element type."""
    elem = g.elem_of(op.input)
    value = op.float_prop("value")
    return kb.const(value if dtypes.is_float(elem) else int(value), elem)


# Element rules for ops defined after this module (e.g. layout transforms):
# op class -> fn(emitter, op, idx) -> value.
_extra_element_rules: dict[type, Callable[[ElementEmitter, g.GraphOp, list[SSAValue]], SSAValue]] = {}


def element_rule(op_type: type) -> Callable:
    def register(fn: Callable[[ElementEmitter, g.GraphOp, list[SSAValue]], SSAValue]) -> Callable:
        _extra_element_rules[op_type] = fn
        return fn

    return register


def _encloses(outer: Block, inner: Block) -> bool:
    """Whether values defined in `outer` are visible in `inner` (same or nested block)."""
    block: Block | None = inner
    while block is not None:
        if block is outer:
            return True
        parent = block.parent_op()
        block = parent.parent_block() if parent is not None else None
    return False


def _constant_index(v: SSAValue) -> int | None:
    owner = v.owner
    if isinstance(owner, arith.ConstantOp):
        from xdsl.dialects.builtin import IntegerAttr

        attr = owner.value
        if isinstance(attr, IntegerAttr):
            return attr.value.data
    return None


def is_injective(op: g.GraphOp) -> bool:
    return g.fusion_kind(op) <= g.FusionKind.INJECTIVE
