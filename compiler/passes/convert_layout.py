"""`convert-layout{layout=NCHW16c}`: blocked channel layouts for conv regions.

TVM's AlterOpLayout plus layout propagation (topi's conv2d_NCHWc): every
convertible `graph.conv` computes in NCHW{c}c with its weight packed to
OIHW{i}i{o}o at compile time, and the layout flows through the
layout-agnostic ops after it, so that a conv-heavy region pays for one
`graph.layout_transform` at each of its edges instead of one per conv.

The walk goes over a function's block in order, tracking for every logical
(NCHW) value whether a blocked form of it exists:

- Convs (with a constant weight, and no layouts yet):
  * O divides by c, group 1: the result is blocked (NCHW{c}c). Input side:
    C divides by c: data NCHW{c}c, weight OIHW{c}i{c}o; C does not (the
    first conv's C = 3): the data stays NCHW and the weight is packed as a
    single input block, OIHW{C}i{c}o. TVM uses ic_bn = 3 with an NCHW3c
    input instead; reading NCHW directly saves that transform of the image,
    and with so few input channels the inner loop is over the c output
    channels either way.
  * O does not divide by c (SqueezeNet's 1000-class conv, Inception's
    24-channel reduce convs): converted only when its input arrives blocked;
    it reads it as is and writes NCHW, with the largest o-block dividing O
    (TVM's oc_bn choice; a multiple of c/2 when one divides), so the region ends without transforming its
    usually wider input.
  * Depthwise (group = C = O): data NCHW{c}c, weight OIHW1i{c}o, only when
    its input arrives blocked (it does too little work to pay for
    transforms of its own). Other grouped convs stay NCHW: their channel
    groups need not align with blocks.
  The bias stays [O] (the lowering indexes it by ob * c + oc).
- Layout-agnostic ops follow a blocked operand (one produced by a converted
  op, with the op's full result shape, or one already transformed to blocked
  for another consumer when the op's result feeds a blocked conv):
  elementwise and broadcast ops (their constant operands are re-laid-out at
  compile time: a [C, 1, 1] scale becomes [1, C/c, 1, 1, c], a scalar stays
  broadcastable), pools (`layout`), pads of H and W only, concats (on the channel axis only when
  every operand's C divides by c: the blocks of the result are then the
  blocks of the operands, in order), slices whose channel range is whole
  blocks (how `fuse-horizontal` splits a wide conv's result; such a slice of
  [N, C/c, H, W, c] is a contiguous view), reductions over H and W with
  keepdims, and inference batch norms with constant parameters, which
  become `x * a + b` on blocked per-channel vectors.
- Every other use of a blocked value (reshape, matmul, softmax, LRN, a
  function return, an unconverted conv) reads an NCHW form, made by one
  `graph.layout_transform` before its first such use and shared by the rest;
  likewise an NCHW value that a blocked op needs is transformed once.

The pass works on graph ops before `fuse-ops` (a `graph.fused` op is opaque
to it) and leaves convs that already carry layouts alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.dialects import layouts
from compiler.errors import PipelineError

_LAYOUT_PROPS = ("data_layout", "kernel_layout", "out_layout")


def _shape(value: SSAValue) -> tuple[int, ...]:
    return g.shape_of(value)


def _tensor(shape: tuple[int, ...], like: SSAValue) -> TensorType:
    return TensorType(g.elem_of(like), list(shape))


def _constant(value: SSAValue) -> g.ConstantOp | None:
    owner = value.owner
    return owner if isinstance(owner, g.ConstantOp) else None


def _is_agnostic_elementwise(op: Operation) -> bool:
    """Elementwise and broadcast graph ops whose result shape is their operands'
    broadcast: they compute the same thing on any consistent layout.

    broadcast_to takes its shape from the result type and batch_norm reads
    dim 1 as the channel, so both are handled apart (batch_norm) or not at all.
    """
    return (
        isinstance(op, g.GraphOp)
        and g.fusion_kind(op) <= g.FusionKind.BROADCAST
        and not isinstance(op, g.BroadcastToOp | g.BatchNormOp)
    )


def _spatial_pad(op: Operation) -> bool:
    """A 4-D pad of H and W only (what `narrow-integer-conv` puts before a u8 conv)."""
    if not isinstance(op, g.PadOp) or len(_shape(op.input)) != 4:
        return False
    p = op.ints("pads")
    return p[0] == p[1] == p[4] == p[5] == 0


@dataclass
class _FunctionConverter:
    """Converts one function body; see the module docstring."""

    block: Block
    c: int
    #: logical value -> its blocked form
    blocked: dict[SSAValue, SSAValue] = field(default_factory=dict[SSAValue, SSAValue])
    #: logical value -> its NCHW form, for values whose producer was converted
    plain: dict[SSAValue, SSAValue] = field(default_factory=dict[SSAValue, SSAValue])
    #: logical values whose producer was converted: only the blocked form exists
    native: set[SSAValue] = field(default_factory=set[SSAValue])
    #: values that feed a blocked conv's data through agnostic ops
    wants: set[SSAValue] = field(default_factory=set[SSAValue])
    converted: list[Operation] = field(default_factory=list[Operation])
    replaced_constants: list[g.ConstantOp] = field(default_factory=list[g.ConstantOp])
    #: (constant, new shape, name suffix) -> re-laid-out constant
    constant_cache: dict[tuple[SSAValue, tuple[int, ...], str], SSAValue] = field(
        default_factory=dict[tuple[SSAValue, tuple[int, ...], str], SSAValue]
    )

    @property
    def layout(self) -> str:
        return layouts.blocked_layout(self.c)

    # --- forms of a value ------------------------------------------------------

    def get_plain(self, value: SSAValue, before: Operation) -> SSAValue:
        if value not in self.native:
            return value
        if value not in self.plain:
            t = g.LayoutTransformOp.make(
                [self.blocked[value]], src_layout=self.layout, dst_layout=layouts.NCHW
            )
            Rewriter.insert_op(t, InsertPoint.before(before))
            self.plain[value] = t.result
        return self.plain[value]

    def get_blocked(self, value: SSAValue, before: Operation) -> SSAValue:
        """The blocked form of a full [N, C, H, W] value (C divisible by c)."""
        if value in self.blocked:
            return self.blocked[value]
        const = _constant(value)
        if const is not None:
            packed = layouts.pack_data(const.to_numpy(), self.c)
            return self._new_constant(const, packed, "_" + self.layout)
        t = g.LayoutTransformOp.make([value], src_layout=layouts.NCHW, dst_layout=self.layout)
        Rewriter.insert_op(t, InsertPoint.before(before))
        self.blocked[value] = t.result
        return t.result

    def _new_constant(self, const: g.ConstantOp, array: np.ndarray, suffix: str) -> SSAValue:
        key = (const.result, tuple(array.shape), suffix)
        if key not in self.constant_cache:
            new = g.ConstantOp(dtypes.dense_from_numpy(np.ascontiguousarray(array), g.elem_of(const.result)))
            hint = const.result.name_hint
            new.result.name_hint = hint + suffix if hint else None
            # Beside the original, so that it dominates every use of it.
            Rewriter.insert_op(new, InsertPoint.after(const))
            self.constant_cache[key] = new.result
            self.replaced_constants.append(const)
        return self.constant_cache[key]

    @staticmethod
    def broadcast_ok(value: SSAValue, channels: int) -> bool:
        """Whether an operand of an elementwise op with C = channels has a blocked form.

        Constants of any broadcastable shape are re-laid-out; other values
        must be full-channel 4-D tensors (they get a layout transform).
        """
        shape = _shape(value)
        if _constant(value) is None:
            return len(shape) == 4 and shape[1] == channels
        return len(shape) <= 4 and ((1,) * (4 - len(shape)) + shape)[1] in (1, channels)

    def broadcast_operand(self, value: SSAValue, channels: int, before: Operation) -> SSAValue:
        """The blocked form of an operand that `broadcast_ok` accepts."""
        const = _constant(value)
        if const is None:
            return self.get_blocked(value, before)
        shape = _shape(value)
        full = (1,) * (4 - len(shape)) + shape
        array = const.to_numpy().reshape(full)
        if full[1] == channels:
            return self._new_constant(const, layouts.pack_data(array, self.c), "_" + self.layout)
        return self._new_constant(const, array.reshape(*full, 1), "_" + self.layout)

    # --- rewriting -------------------------------------------------------------

    def replace(self, old: Operation, new: Operation) -> None:
        """Records `new` (blocked) as the form of `old`'s logical result."""
        Rewriter.insert_op(new, InsertPoint.before(old))
        new.attributes.update(old.attributes)
        new.results[0].name_hint = old.results[0].name_hint
        self.blocked[old.results[0]] = new.results[0]
        self.native.add(old.results[0])
        self.converted.append(old)

    def blockable(self, value: SSAValue) -> bool:
        shape = _shape(value)
        return len(shape) == 4 and shape[1] % self.c == 0

    def conv_plan(self, op: g.ConvOp) -> tuple[bool, int, int, bool] | None:
        """(blocked data?, i, o, blocked result?) for a conv, or None to leave it.

        A conv whose O does not divide by c keeps an NCHW result; it is
        converted only when its input is blocked already, with the largest
        o-block that divides O (TVM's oc_bn choice), so that the region's
        edge costs no transform of its (usually wider) input. Grouped convs
        other than depthwise stay NCHW (their channel groups need not align
        with blocks).
        """
        if any(name in op.properties for name in _LAYOUT_PROPS) or _constant(op.weight) is None:
            return None
        (out_c, in_per_group, _, _), in_c = _shape(op.weight), _shape(op.input)[1]
        group = op.int_prop("group")
        if group == in_c == out_c and in_per_group == 1:
            # A depthwise conv does too little work to pay for transforms of
            # its own: it joins a region that reaches it blocked, or none.
            blocked = in_c % self.c == 0 and op.input in self.blocked
            return (True, 1, self.c, True) if blocked else None
        if group != 1:
            return None
        if out_c % self.c == 0:
            return (True, self.c, self.c, True) if in_c % self.c == 0 else (False, in_c, self.c, True)
        if in_c % self.c == 0 and op.input in self.native:
            return (True, self.c, self.o_block(out_c), False)
        return None

    def o_block(self, out_c: int) -> int:
        """The largest o-block dividing O, preferring multiples of c/2: whole
        vectors on either ISA (1000 classes: 8, not 10, which would leave a
        2-lane remainder in every vector loop)."""
        divisors = [d for d in range(1, self.c + 1) if out_c % d == 0]
        whole = [d for d in divisors if d % max(self.c // 2, 1) == 0]
        return max(whole or divisors)

    def convert_conv(self, op: g.ConvOp) -> bool:
        plan = self.conv_plan(op)
        weight = _constant(op.weight)
        if plan is None or weight is None:
            return False
        blocked_data, ki, ko, blocked_out = plan
        data = self.get_blocked(op.input, op) if blocked_data else self.get_plain(op.input, op)
        kernel_layout = layouts.kernel_layout(ki, ko)
        packed = layouts.pack_kernel(weight.to_numpy(), ki, ko)
        operands = [data, self._new_constant(weight, packed, "_" + kernel_layout)]
        if op.bias is not None:
            operands.append(self.get_plain(op.bias, op))
        props: dict[str, Attribute] = dict(op.properties)
        new = g.ConvOp.make(
            operands,
            **props,
            data_layout=self.layout if blocked_data else layouts.NCHW,
            kernel_layout=kernel_layout,
            out_layout=self.layout if blocked_out else layouts.NCHW,
        )
        if blocked_out:
            self.replace(op, new)
        else:
            # Same logical value and layout: the old result's uses move over.
            Rewriter.insert_op(new, InsertPoint.before(op))
            new.attributes.update(op.attributes)
            new.result.name_hint = op.result.name_hint
            op.result.replace_all_uses_with(new.result)
            Rewriter.erase_op(op)
        return True

    def follows(self, op: Operation, leading: list[SSAValue]) -> bool:
        """Whether a layout-agnostic op computes blocked, given its data operands.

        It does when one of them comes out of a converted op. It also does
        when one of them was already transformed to blocked for another
        consumer and the op's result feeds a blocked conv: the transform is
        paid already, and staying NCHW would need a second one after the op.
        """
        if any(v in self.native for v in leading):
            return True
        return op.results[0] in self.wants and any(v in self.blocked for v in leading)

    def convert_elementwise(self, op: Operation) -> bool:
        if len(op.results) != 1 or not self.blockable(op.results[0]):
            return False
        full = _shape(op.results[0])
        if not self.follows(op, [v for v in op.operands if _shape(v) == full and not _constant(v)]):
            return False
        channels = full[1]
        # Check every operand before creating anything, so that a refusal
        # leaves no dead transforms or constants behind.
        if not all(self.broadcast_ok(v, channels) for v in op.operands):
            return False
        operands = [self.broadcast_operand(v, channels, op) for v in op.operands]
        result = op.results[0]
        new_type = _tensor(layouts.data_physical_shape(_shape(result), self.c), result)
        new = type(op).make(operands, [new_type], **dict(op.properties))  # pyright: ignore
        self.replace(op, new)
        return True

    def convert_pool(self, op: g.PoolOp) -> bool:
        if op.layout is not None or not self.blockable(op.input) or not self.follows(op, [op.input]):
            return False
        props: dict[str, Attribute] = dict(op.properties)
        new = type(op).make([self.get_blocked(op.input, op)], **props, layout=self.layout)
        self.replace(op, new)
        return True

    def convert_concat(self, op: g.ConcatOp) -> bool:
        axis = op.int_prop("axis")
        if not self.blockable(op.result) or not self.follows(op, list(op.operands)):
            return False
        if axis == 1 and not all(self.blockable(v) for v in op.operands):
            return False
        if not all(len(_shape(v)) == 4 for v in op.operands):
            return False
        operands = [self.get_blocked(v, op) for v in op.operands]
        new = g.ConcatOp.make(operands, axis=axis)
        self.replace(op, new)
        return True

    def convert_slice(self, op: g.SliceOp) -> bool:
        """A slice whose channel range is whole blocks (fuse-horizontal's
        split of a wide conv) slices the blocks; H and W slice as they are."""
        offsets, strides = op.ints("offsets"), op.ints("strides")
        if not self.blockable(op.input) or not self.blockable(op.result):
            return False
        if strides[1] != 1 or offsets[1] % self.c or not self.follows(op, [op.input]):
            return False
        result = op.result
        new = g.SliceOp.make(
            [self.get_blocked(op.input, op)],
            [_tensor(layouts.data_physical_shape(_shape(result), self.c), result)],
            offsets=[offsets[0], offsets[1] // self.c, offsets[2], offsets[3], 0],
            strides=[strides[0], 1, strides[2], strides[3], 1],
        )
        self.replace(op, new)
        return True

    def convert_reduce(self, op: g.ReduceOp) -> bool:
        axes = op.ints("axes")
        if not self.blockable(op.input) or not op.int_prop("keepdims") or not set(axes) <= {2, 3}:
            return False
        if not self.follows(op, [op.input]):
            return False
        new = type(op).make([self.get_blocked(op.input, op)], **dict(op.properties))
        self.replace(op, new)
        return True

    def convert_batch_norm(self, op: g.BatchNormOp) -> bool:
        """(x - mean) / sqrt(var + eps) * scale + bias as x * a + b, blocked."""
        if not self.blockable(op.input) or not self.follows(op, [op.input]):
            return False
        params = [_constant(v) for v in op.operands[1:]]
        if any(p is None for p in params):
            return False
        scale, bias, mean, var = (p.to_numpy().astype(np.float64) for p in params if p is not None)
        a = scale / np.sqrt(var + op.float_prop("epsilon"))
        b = bias - mean * a
        dt = dtypes.to_numpy_dtype(g.elem_of(op.input))
        blocked_shape = (1, a.size // self.c, 1, 1, self.c)
        vectors = []
        for vec, what in ((a, "scale"), (b, "shift")):
            arr = layouts.pack_data(vec.astype(dt).reshape(1, -1, 1, 1), self.c)
            const = g.ConstantOp(dtypes.dense_from_numpy(arr.reshape(blocked_shape), g.elem_of(op.input)))
            hint = op.result.name_hint
            const.result.name_hint = f"{hint}_{what}_{self.layout}" if hint else None
            Rewriter.insert_op(const, InsertPoint.before(op))
            vectors.append(const.result)
        self.replaced_constants.extend(p for p in params if p is not None)
        mul = g.MulOp.make([self.get_blocked(op.input, op), vectors[0]])
        Rewriter.insert_op(mul, InsertPoint.before(op))
        add = g.AddOp.make([mul.result, vectors[1]])
        self.replace(op, add)
        return True

    def convert_pad(self, op: g.PadOp) -> bool:
        """A pad of H and W only pads the blocked form's H and W (dims 2 and 3 in both)."""
        if not _spatial_pad(op) or not self.blockable(op.input) or not self.follows(op, [op.input]):
            return False
        p = op.ints("pads")
        new = g.PadOp.make(
            [self.get_blocked(op.input, op)],
            pads=[0, 0, p[2], p[3], 0, 0, 0, p[6], p[7], 0],
            mode=op.str_prop("mode"),
            value=op.float_prop("value"),
        )
        self.replace(op, new)
        return True

    def convert(self, op: Operation) -> bool:
        if isinstance(op, g.PadOp):
            return self.convert_pad(op)
        if isinstance(op, g.ConvOp):
            return self.convert_conv(op)
        if isinstance(op, g.PoolOp):
            return self.convert_pool(op)
        if isinstance(op, g.ConcatOp):
            return self.convert_concat(op)
        if isinstance(op, g.ReduceOp):
            return self.convert_reduce(op)
        if isinstance(op, g.SliceOp):
            return self.convert_slice(op)
        if isinstance(op, g.BatchNormOp):
            return self.convert_batch_norm(op)
        if _is_agnostic_elementwise(op):
            return self.convert_elementwise(op)
        return False

    def is_agnostic(self, op: Operation) -> bool:
        return isinstance(op, g.PoolOp | g.ConcatOp | g.ReduceOp | g.BatchNormOp | g.SliceOp) or (
            _is_agnostic_elementwise(op) or _spatial_pad(op)
        )

    def find_wants(self) -> None:
        """Values that reach the data input of a blocked conv through agnostic ops."""
        for op in reversed(list(self.block.ops)):
            for res in op.results:
                for use in res.uses:
                    user = use.operation
                    if isinstance(user, g.ConvOp) and use.index == 0:
                        plan = self.conv_plan(user)
                        if plan is not None and plan[0]:
                            self.wants.add(res)
                    elif self.is_agnostic(user) and user.results and user.results[0] in self.wants:
                        self.wants.add(res)

    def run(self) -> None:
        self.find_wants()
        for op in list(self.block.ops):
            if isinstance(op, g.ConstantOp):
                continue
            if not self.convert(op):
                # A layout-sensitive use: read the NCHW form.
                for i, v in enumerate(op.operands):
                    if v in self.native:
                        op.operands[i] = self.get_plain(v, op)
        for op in reversed(self.converted):
            Rewriter.erase_op(op)
        for const in self.replaced_constants:
            if const.parent is not None and not const.result.uses:
                Rewriter.erase_op(const)


@dataclass(frozen=True)
class ConvertLayoutPass(ModulePass):
    """Moves conv regions to the blocked layout `layout` (NCHW{c}c)."""

    name = "convert-layout"

    layout: str = "NCHW16c"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        try:
            block = layouts.data_block(self.layout)
        except ValueError as err:
            raise PipelineError(f"convert-layout: {err}") from None
        if block < 1:
            raise PipelineError(f"convert-layout: layout must be blocked (NCHW<c>c), got \"{self.layout}\"")
        for fn in op.ops:
            if isinstance(fn, func.FuncOp) and fn.body.blocks:
                _FunctionConverter(fn.body.block, block).run()
