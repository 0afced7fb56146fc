"""`convert-graph-to-loop`: every fused group (or lone op) becomes one loop kernel.

The graph-level `@main` becomes a loop-level `@main` over memrefs:

    func.func @main(%in..., %out..., %arena: memref<Nxi8>)

It calls one kernel per group in order. Intermediates are `memref.view`s of
the arena at the offsets `plan-memory` chose; weights are `memref.global`
constants (the CPU target moves them into the params blob); model outputs are
written straight into the caller's output buffers. Views (reshapes,
contiguous slices) and in-place concats emit no kernel (see
docs/graph-contracts.md). Each kernel is built by the compute definition of
its anchor op with the group's other ops computed inline; identical kernels
(same ops, shapes, dtypes, attributes) are emitted once.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from xdsl.context import Context
from xdsl.dialects import arith, func, memref
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseArrayBase,
    DictionaryAttr,
    IntegerAttr,
    MemRefType,
    ModuleOp,
    StringAttr,
    SymbolRefAttr,
    TensorType,
    UnitAttr,
    i8,
    i64,
)
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass

from compiler import dtypes
from compiler.compute import detection, indexing, layout, matmul, nn, reduce, sort, winograd  # noqa: F401  (element rules)
from compiler.compute.builder import KernelBuilder, index, memref_type, storage_type
from compiler.compute.common import KernelContext
from compiler.compute.element import ElementEmitter, Source, is_injective, pad_value
from compiler.dialects import graph as g
from compiler.dialects import loop
from compiler.errors import CompilerError
from compiler.passes import memory

ComputeDef = Callable[[KernelContext], None]

PROFILE_HOOK = "compiler_profile"
PROFILE_ATTR = "graph.profile"

COMPUTE: dict[type[Operation], ComputeDef] = {
    g.ConvOp: nn.conv_kernel,
    g.MatMulOp: matmul.matmul_kernel,
    g.MaxPoolOp: nn.pool_kernel,
    g.AvgPoolOp: nn.pool_kernel,
    g.LRNOp: nn.lrn_kernel,
    g.ReduceSumOp: reduce.reduce_kernel,
    g.ReduceMeanOp: reduce.reduce_kernel,
    g.ReduceMaxOp: reduce.reduce_kernel,
    g.ReduceMinOp: reduce.reduce_kernel,
    g.ReduceProdOp: reduce.reduce_kernel,
    g.ArgMaxOp: reduce.arg_reduce_kernel,
    g.ArgMinOp: reduce.arg_reduce_kernel,
    g.SoftmaxOp: reduce.softmax_kernel,
    g.LogSoftmaxOp: reduce.softmax_kernel,
    g.LayerNormOp: reduce.layer_norm_kernel,
    g.ScatterElementsOp: indexing.scatter_elements_kernel,
    g.TopKIndicesOp: sort.topk_indices_kernel,
    g.NonMaxSuppressionOp: detection.non_max_suppression_kernel,
    g.RoiAlignOp: detection.roi_align_kernel,
    g.MaxRoiPoolOp: detection.max_roi_pool_kernel,
    g.NonZeroOp: detection.non_zero_kernel,
    g.CumSumOp: sort.cumsum_kernel,
    g.WinogradInputOp: winograd.winograd_input_kernel,
    g.WinogradOutputOp: winograd.winograd_output_kernel,
    g.CumProdOp: sort.cumsum_kernel,
}


def register_compute(op_type: type[Operation], fn: ComputeDef) -> None:
    """Adds the compute definition of an anchor op (for ops defined elsewhere)."""
    COMPUTE[op_type] = fn


def injective_kernel(ctx: KernelContext) -> None:
    """One loop nest over the result; every element computed inline."""
    pad = _constant_pad(ctx)
    if pad is not None:
        pad_kernel(ctx, pad)
        return
    kb = ctx.kb
    shape = ctx.out.shape
    with kb.nest(shape, [f"d{d}" for d in range(len(shape))]) as idx:
        ctx.emitter.reset()
        kb.store(ctx.emitter.emit(ctx.result, idx), ctx.out, idx)


def _constant_pad(ctx: KernelContext) -> g.PadOp | None:
    """The group's result when it is a constant pad that crops nothing."""
    op = ctx.result.owner
    if not isinstance(op, g.PadOp) or op.str_prop("mode") != "constant" or min(op.ints("pads")) < 0:
        return None
    return op


def pad_kernel(ctx: KernelContext, pad: g.PadOp) -> None:
    """A constant pad (of an input, or of the injective ops fused before it) as
    two nests: fill the result with the pad value, then store the padded
    tensor's elements into its interior. Both nests index the result
    contiguously, so they vectorize to whole-vector stores; the one-nest form
    loads at a clamped index and selects, which vectorizes lane by lane
    (ShuffleNet's max-pool pad took 6.6% of the model's time, its channel
    shuffles fused with a pad 8%)."""
    kb = ctx.kb
    fill = pad_value(kb, pad)
    shape = ctx.out.shape
    with kb.nest(shape, [f"d{d}" for d in range(len(shape))], stage="fill") as idx:
        kb.store(fill, ctx.out, idx)
    low = pad.ints("pads")[: len(shape)]
    with kb.nest(g.shape_of(pad.input), [f"c{d}" for d in range(len(shape))], stage="copy") as idx:
        ctx.emitter.reset()
        inner = ctx.emitter.emit(pad.input, idx)
        kb.store(inner, ctx.out, [kb.add(i, p) if p else i for i, p in zip(idx, low, strict=True)])


# ---------------------------------------------------------------------------


def _is_splat_constant(value: SSAValue) -> bool:
    op = value.owner
    if not isinstance(op, g.ConstantOp):
        return False
    if len(op.value.data.data) <= dtypes.to_numpy_dtype(op.value.get_element_type()).itemsize:
        return True
    flat = op.to_numpy().reshape(-1)
    return flat.size <= 4096 and bool((flat == flat[0]).all())


KernelKey = tuple[object, ...]
"""What a kernel's printed form shows, as data (`_kernel_key`)."""


@dataclass
class _Lowering:
    module: ModuleOp
    fn: func.FuncOp
    entry: Block = field(init=False)
    values: dict[SSAValue, SSAValue] = field(default_factory=dict)
    kernels: list[func.FuncOp] = field(default_factory=list)
    kernel_keys: dict[str, KernelKey] = field(default_factory=dict)
    """`_kernel_key` by kernel name, for those compared."""
    by_workload: dict[str, list[func.FuncOp]] = field(default_factory=dict)
    by_group: dict[KernelKey, str] = field(default_factory=dict)
    globals_: list[memref.GlobalOp] = field(default_factory=list)
    names: dict[str, int] = field(default_factory=dict)
    arena: SSAValue | None = None
    output_slot: dict[SSAValue, SSAValue] = field(default_factory=dict)
    profile: bool = False
    profiled: list[str] = field(default_factory=list)
    last_get_global: memref.GetGlobalOp | None = None

    def lower(self) -> func.FuncOp:
        fn = self.fn
        block = fn.body.block
        ret = block.last_op
        assert isinstance(ret, func.ReturnOp)
        outputs = list(ret.operands)
        out_types = [memref_type(_tensor(v)) for v in outputs]
        in_types = [memref_type(_tensor(a)) for a in block.args]
        arena_bytes = memory.int_attr_of(fn, memory.ARENA_ATTR)
        if arena_bytes is None:
            raise CompilerError(
                "convert-graph-to-loop needs a memory plan", hint="run plan-memory first"
            )
        arena_type = MemRefType(i8, [max(arena_bytes, 1)])
        self.entry = Block(arg_types=[*in_types, *out_types, arena_type])
        args = list(self.entry.args)
        for graph_arg, arg in zip(block.args, args, strict=False):
            self.values[graph_arg] = arg
            arg.name_hint = graph_arg.name_hint
        out_args = args[len(in_types) : len(in_types) + len(outputs)]
        self.arena = args[-1]
        self.arena.name_hint = "arena"
        # The first return slot of each value is where its producer writes.
        for v, arg in zip(outputs, out_args, strict=True):
            self.output_slot.setdefault(v, arg)
            arg.name_hint = "out"

        for op in list(block.ops):
            if op is ret:
                continue
            self._lower_op(op)
        # Outputs not produced in place: inputs, constants, repeated values, views.
        for v, arg in zip(outputs, out_args, strict=True):
            if self.values.get(v) is not arg:
                self._copy(self._buffer(v), _tensor(v), arg)
        if self.profile:
            self._profile_mark(-1)
        self.entry.add_op(func.ReturnOp())
        arg_attrs = list(fn.arg_attrs.data) if fn.arg_attrs is not None else [DictionaryAttr({})] * len(in_types)
        res_attrs = list(fn.res_attrs.data) if fn.res_attrs is not None else [DictionaryAttr({})] * len(outputs)
        entry = func.FuncOp(
            "main",
            ([a.type for a in self.entry.args], []),
            Region(self.entry),
            arg_attrs=ArrayAttr([*arg_attrs, *res_attrs, DictionaryAttr({"graph.name": StringAttr("arena")})]),
        )
        entry.attributes["graph.num_inputs"] = IntegerAttr(len(in_types), 64)
        entry.attributes["graph.num_outputs"] = IntegerAttr(len(outputs), 64)
        entry.attributes[memory.ARENA_ATTR] = IntegerAttr(arena_bytes, 64)
        if self.profile:
            entry.attributes[PROFILE_ATTR] = ArrayAttr([StringAttr(n) for n in self.profiled])
        return entry

    # -- entry-level values ----------------------------------------------------

    def _emit(self, op: Operation) -> SSAValue:
        self.entry.add_op(op)
        return op.results[0]

    def _arena_view(self, offset: int, t: TensorType) -> SSAValue:
        assert self.arena is not None
        shift = self._emit(arith.ConstantOp(IntegerAttr(offset, index)))
        return self._emit(memref.ViewOp(self.arena, shift, [], memref_type(t)))

    def _result_buffer(self, op: Operation) -> SSAValue:
        res = op.results[0]
        slot = self.output_slot.get(res)
        if slot is not None:
            return slot
        offsets = memory.offsets_of(op)
        if offsets is None or offsets[0] < 0:
            raise CompilerError(
                f"{op.name} has no arena offset", hint="run plan-memory before convert-graph-to-loop"
            )
        return self._arena_view(offsets[0], _tensor(res))

    def _global(self, op: g.ConstantOp) -> SSAValue:
        name = f"__constant_{len(self.globals_)}"
        t = _tensor(op.result)
        mt = memref_type(t)
        value = op.value
        if t.get_element_type() != storage_type(t.get_element_type()):
            # i1 weights are stored as i8 bytes, unsigned ones as signless integers of their width.
            array = op.to_numpy()
            if array.dtype == np.bool_:
                array = array.astype(np.uint8)
            signed = np.dtype(f"int{array.dtype.itemsize * 8}")
            value = dtypes.dense_from_numpy(array.view(signed), storage_type(t.get_element_type()))
        glob = memref.GlobalOp.get(
            StringAttr(name), mt, value, constant=UnitAttr(), alignment=64
        )
        self.globals_.append(glob)
        # Weights are read at the top of @main, in order of first use.
        get = memref.GetGlobalOp(SymbolRefAttr(name), mt)
        if self.last_get_global is None:
            first = self.entry.first_op
            if first is None:
                self.entry.add_op(get)
            else:
                self.entry.insert_op_before(get, first)
        else:
            self.entry.insert_op_after(get, self.last_get_global)
        self.last_get_global = get
        return get.memref

    def _buffer(self, value: SSAValue) -> SSAValue:
        """The entry-level memref holding `value`; constants become globals on first use."""
        found = self.values.get(value)
        if found is None:
            owner = value.owner
            assert isinstance(owner, g.ConstantOp), f"{value} has no buffer"
            found = self.values[value] = self._global(owner)
        return found

    def _lower_op(self, op: Operation) -> None:
        if isinstance(op, g.ConstantOp):
            return  # a global only when a kernel reads it as a buffer (see _buffer)
        if memory.is_view(op) or memory.is_in_place_concat(op):
            offsets = memory.offsets_of(op)
            if offsets is None:
                raise CompilerError(f"{op.name} has no arena offset", hint="run plan-memory first")
            self.values[op.results[0]] = self._arena_view(offsets[0], _tensor(op.results[0]))
            return
        if len(op.results) != 1:
            raise CompilerError(f"{op.name} with {len(op.results)} results cannot be lowered yet")
        out = self._result_buffer(op)
        self.values[op.results[0]] = out
        if 0 in _tensor(op.results[0]).get_shape():
            return  # an empty result: there is nothing to compute
        self._kernel(op, out)

    # -- kernels ---------------------------------------------------------------

    def _kernel(self, op: Operation, out: SSAValue) -> None:
        if isinstance(op, g.FusedOp):
            body = [o for o in op.body.block.ops if not isinstance(o, g.YieldOp)]
            term = op.body.block.last_op
            assert isinstance(term, g.YieldOp)
            result = term.values[0]
            outer_operands = list(op.inputs)
            inner_values: list[SSAValue] = list(op.body.block.args)
        else:
            body = [op]
            result = op.results[0]
            outer_operands = list(op.operands)
            inner_values = list(op.operands)
        anchors = [o for o in body if isinstance(o, g.GraphOp) and not is_injective(o)]
        if len(anchors) > 1:
            raise CompilerError(f"a fused group holds {len(anchors)} non-injective ops")
        anchor = anchors[0] if anchors else None

        # Kernel inputs: non-splat operands; splat constants become scalars.
        sources: dict[SSAValue, Source] = {}
        arg_tensors: list[TensorType] = []
        arg_values: list[SSAValue] = []
        bind: list[SSAValue] = []
        constant_args: list[int] = []
        for outer, inner in zip(outer_operands, inner_values, strict=True):
            if _is_splat_constant(outer):
                const = outer.owner
                assert isinstance(const, g.ConstantOp)
                sources[inner] = const.to_numpy().reshape(-1)[0].item()
                continue
            if isinstance(outer.owner, g.ConstantOp):
                constant_args.append(len(arg_tensors))
            arg_tensors.append(_tensor(outer))
            arg_values.append(self._buffer(outer))
            bind.append(inner)
        for inner_op in body:
            if isinstance(inner_op, g.ConstantOp) and not _is_splat_constant(inner_op.result):
                constant_args.append(len(arg_tensors))
                arg_tensors.append(_tensor(inner_op.result))
                arg_values.append(self._global(inner_op))
                bind.append(inner_op.result)
        out_t = _tensor(result)
        name = self._name(body, anchor)
        # A group built before from the same ops, wiring, types and splats
        # built the same kernel: reuse it without building (47 of ResNet-50's 88).
        group_key = _group_key(body, anchor, bind, sources, [*arg_tensors, out_t], constant_args)
        built = self.by_group.get(group_key) if group_key is not None else None
        if built is not None:
            self._call(built, [*arg_values, out])
            return
        kb = KernelBuilder(name, [*arg_tensors, out_t])
        for inner, buf in zip(bind, kb.buffers, strict=False):
            sources[inner] = buf
        emitter = ElementEmitter(kb, sources)
        ctx = KernelContext(kb, emitter, anchor, result, kb.buffers[-1])
        if anchor is None:
            injective_kernel(ctx)
        else:
            compute = COMPUTE.get(type(anchor))
            if compute is None:
                raise CompilerError(f"no compute definition for {anchor.name}")
            compute(ctx)
        kernel = kb.finish()
        set_workload(kernel, anchor, body, [*arg_tensors, out_t])
        if constant_args:
            # Schedules may re-layout these at compile time (`pack`).
            kernel.attributes[loop.CONSTANT_OPERANDS_ATTR] = DenseArrayBase.from_list(i64, constant_args)
        name = self._dedup(kernel)
        if group_key is not None:
            self.by_group[group_key] = name
        self._call(name, [*arg_values, out])

    def _copy(self, src: SSAValue, t: TensorType, dst: SSAValue) -> None:
        kb = KernelBuilder(self._name([], None, "copy"), [t, t])
        src_buf, dst_buf = kb.buffers
        with kb.nest(src_buf.shape, [f"d{d}" for d in range(len(src_buf.shape))]) as idx:
            kb.store(kb.load(src_buf, idx), dst_buf, idx)
        name = self._dedup(kb.finish())
        self._call(name, [src, dst])

    def _call(self, name: str, args: list[SSAValue]) -> None:
        if self.profile:
            self._profile_mark(len(self.profiled))
            self.profiled.append(name)
        self.entry.add_op(func.CallOp(name, args, []))

    def _profile_mark(self, index: int) -> None:
        mark = self._emit(arith.ConstantOp(IntegerAttr(index, i64)))
        self.entry.add_op(func.CallOp(PROFILE_HOOK, [mark], []))

    def _name(self, body: list[Operation], anchor: Operation | None, base: str | None = None) -> str:
        if base is None:
            parts = [anchor.name] if anchor is not None else []
            parts += [o.name for o in body if o is not anchor and not isinstance(o, g.ConstantOp)]
            base = "_".join(p.removeprefix("graph.") for p in parts[:3]) or "kernel"
        n = self.names.get(base, 0)
        self.names[base] = n + 1
        return f"{base}_{n}"

    def _dedup(self, kernel: func.FuncOp) -> str:
        # Only kernels with the same workload can be identical, so the
        # others are not keyed.
        workload_key = kernel.attributes.get(loop.WORKLOAD_KEY_ATTR)
        same_workload = self.by_workload.setdefault(str(workload_key), [])
        name = kernel.sym_name.data
        if same_workload:
            key = self.kernel_keys[name] = _kernel_key(kernel)
            for other in same_workload:
                other_name = other.sym_name.data
                if other_name not in self.kernel_keys:
                    self.kernel_keys[other_name] = _kernel_key(other)
                if self.kernel_keys[other_name] == key:
                    return other_name
        same_workload.append(kernel)
        self.kernels.append(kernel)
        return name


def workload(anchor: Operation | None, body: list[Operation], tensors: list[TensorType]) -> dict[str, object]:
    """What a kernel computes, as data: op, attributes (layouts among them),
    argument shapes and dtypes, and the fused epilogue's ops."""
    props = {} if anchor is None else {k: str(v) for k, v in sorted(anchor.properties.items())}
    return {
        "op": anchor.name if anchor is not None else "injective",
        "attrs": props,
        "shapes": [list(t.get_shape()) for t in tensors],
        "dtypes": [str(t.get_element_type()) for t in tensors],
        "epilogue": [o.name for o in body if o is not anchor and not isinstance(o, g.ConstantOp)],
    }


def set_workload(kernel: func.FuncOp, anchor: Operation | None, body: list[Operation], tensors: list[TensorType]) -> None:
    """The kernel's workload (JSON) and its stable key (a hash of it): the tuner's record key."""
    text = json.dumps(workload(anchor, body, tensors), sort_keys=True, separators=(",", ":"))
    kernel.attributes[loop.WORKLOAD_ATTR] = StringAttr(text)
    kernel.attributes[loop.WORKLOAD_KEY_ATTR] = StringAttr(hashlib.sha256(text.encode()).hexdigest()[:20])


def _group_key(
    body: list[Operation],
    anchor: Operation | None,
    bind: list[SSAValue],
    sources: dict[SSAValue, Source],
    tensors: list[TensorType],
    constant_args: list[int],
) -> KernelKey | None:
    """What building a group's kernel reads, as data; None when it cannot tell.

    Per op: its name, operands (kernel argument k, splat scalar by its bits,
    or an earlier op's result), result types, properties and attributes (the
    arena offsets left out: they place the result, the call passes it);
    then the argument types and which arguments are constants. Two groups
    with equal keys build kernels with equal `_kernel_key`s (a test checks
    the nine models' loop IR with and without this shortcut).
    """
    numbers: dict[SSAValue, object] = {v: ("arg", i) for i, v in enumerate(bind)}
    for value, src in sources.items():
        if value not in numbers:
            if not isinstance(src, bool | int | float):
                return None
            bits = struct.pack("<d", src) if isinstance(src, float) else src
            numbers[value] = ("splat", type(src).__name__, bits, value.type)
    parts: list[object] = [tuple(tensors), tuple(constant_args)]
    for op in body:
        if isinstance(op, g.ConstantOp) and op.result in numbers:
            continue  # a non-splat constant: a kernel argument
        if op.regions or any(v not in numbers for v in op.operands):
            return None
        parts.append(
            (
                op.name,
                op is anchor,
                tuple(numbers[v] for v in op.operands),
                tuple(r.type for r in op.results),
                tuple(op.properties.items()),
                tuple((k, v) for k, v in op.attributes.items() if k != memory.OFFSETS_ATTR),
            )
        )
        for r in op.results:
            numbers[r] = ("op", len(numbers))
    return tuple(parts)


def _kernel_key(kernel: func.FuncOp) -> KernelKey:
    """Two kernels whose keys are equal print the same (type, constant operands, body).

    Printing every kernel compared in `_dedup` cost a third of this pass on
    ResNet-50; the key holds what the printer reads instead: per op its
    name, operands (numbered in order of definition), result types and name
    hints, properties and attributes (xDSL attributes compare their
    parameters, floats by their bits), successors and regions; per block its
    arguments' types and name hints.
    """
    numbers: dict[SSAValue | Block, int] = {}
    parts: list[object] = [kernel.function_type, kernel.attributes.get(loop.CONSTANT_OPERANDS_ATTR)]
    _region_key(kernel.body, numbers, parts)
    return tuple(parts)


def _region_key(region: Region, numbers: dict[SSAValue | Block, int], parts: list[object]) -> None:
    for block in region.blocks:
        numbers[block] = len(numbers)
    parts.append(len(region.blocks))
    for block in region.blocks:
        for arg in block.args:
            numbers[arg] = len(numbers)
        parts.append(tuple((arg.type, arg.name_hint) for arg in block.args))
        for op in block.ops:
            for result in op.results:
                numbers[result] = len(numbers)
            parts.append(
                (
                    op.name,
                    # A value from outside the kernel (none is) keys by identity.
                    tuple(numbers.get(v, v) for v in op.operands),
                    tuple((r.type, r.name_hint) for r in op.results),
                    tuple(op.properties.items()),
                    tuple(op.attributes.items()),
                    tuple(numbers.get(b, b) for b in op.successors),
                    len(op.regions),
                )
            )
            for inner in op.regions:
                _region_key(inner, numbers, parts)


def _tensor(v: SSAValue) -> TensorType:
    assert isinstance(v.type, TensorType)
    return v.type


@dataclass(frozen=True)
class ConvertGraphToLoopPass(ModulePass):
    """Lowers the graph-dialect `@main` into loop kernels and a loop-level `@main`.

    `profile=true` calls the external `compiler_profile(i64 k)` before kernel
    call k (and with -1 at the end), for per-kernel timings; the kernel names
    are listed in the entry's `graph.profile` attribute.
    """

    name = "convert-graph-to-loop"

    profile: bool = False

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        main = None
        for o in op.ops:
            if isinstance(o, func.FuncOp) and o.sym_name.data == "main":
                main = o
        if main is None:
            raise CompilerError("convert-graph-to-loop: the module has no func.func @main")
        lowering = _Lowering(op, main, profile=self.profile)
        entry = lowering.lower()
        main.detach()
        main.erase()
        for glob in lowering.globals_:
            op.body.block.add_op(glob)
        for kernel in lowering.kernels:
            op.body.block.add_op(kernel)
        if self.profile:
            op.body.block.add_op(func.FuncOp.external(PROFILE_HOOK, [i64], []))
            # The module keeps the list through the LLVM lowering (functions do not).
            op.attributes[PROFILE_ATTR] = entry.attributes[PROFILE_ATTR]
        op.body.block.add_op(entry)
