"""llvm-dialect module -> llvmlite IR module (the text LLVM parses).

xDSL's `xdsl.backend.llvm` translates its own llvm ops. This wraps it rather
than forking it: `convert_op` handles the ops of `compiler.dialects.llvm_ext`
and every intrinsic (with properly type-mangled names: xDSL declares e.g.
`@llvm.exp` without the `.f32`/`.v16f32` suffix, which breaks as soon as one
module uses an intrinsic on two types), and hands every other op to xDSL's
`convert_op`. Functions and globals reuse xDSL's declaration code; what is
added is linkage, `nounwind` and global alignment, which xDSL drops.
"""

from __future__ import annotations

from collections.abc import Callable

import llvmlite.ir as ir
from xdsl.backend.llvm import convert as xdsl_convert
from xdsl.backend.llvm.convert_op import convert_op as xdsl_convert_op
from xdsl.backend.llvm.convert_type import convert_type
from xdsl.dialects import llvm
from xdsl.dialects.builtin import ModuleOp, StringAttr
from xdsl.ir import Block, Operation, SSAValue
from xdsl.utils.exceptions import LLVMTranslationException

from compiler.dialects import llvm_ext

ValueMap = dict[SSAValue, ir.Value]


def type_suffix(type_: ir.Type) -> str:
    """The mangling of an overloaded intrinsic type: f32, v16f32, i64, v8i1, p0."""
    if isinstance(type_, ir.VectorType):
        return f"v{type_.count}{type_suffix(type_.element)}"
    if isinstance(type_, ir.PointerType):
        return f"p{type_.addrspace}"
    return type_.intrinsic_name


def declare_intrinsic(
    module: ir.Module, name: str, overloads: list[ir.Type], fn_type: ir.FunctionType
) -> ir.Function:
    full_name = ".".join([name, *(type_suffix(t) for t in overloads)])
    existing = module.globals.get(full_name)
    if isinstance(existing, ir.Function):
        return existing
    return ir.Function(module, fn_type, name=full_name)


def _flags(op: Operation) -> list[str]:
    attr = op.properties.get("fastmathFlags")
    if isinstance(attr, llvm.FastMathAttr):
        return sorted(flag.value for flag in attr.data)
    return []


def _call_intrinsic(
    op: Operation,
    builder: ir.IRBuilder,
    values: ValueMap,
    name: str,
    args: list[ir.Value],
    overloads: list[ir.Type],
    result_type: ir.Type,
) -> None:
    fn_type = ir.FunctionType(result_type, [a.type for a in args])
    fn = declare_intrinsic(builder.module, name, overloads, fn_type)
    floating = not isinstance(result_type, ir.VoidType | ir.IntType) and not (
        isinstance(result_type, ir.VectorType) and isinstance(result_type.element, ir.IntType)
    )
    call = builder.call(fn, args, fastmath=_flags(op) if floating else ())
    if op.results:
        values[op.results[0]] = call


# xDSL's intrinsic ops, by LLVM intrinsic name; all are overloaded on the result type.
_XDSL_INTRINSICS: dict[type[Operation], str] = {
    llvm.FAbsOp: "llvm.fabs",
    llvm.FExpOp: "llvm.exp",
    llvm.FExp2Op: "llvm.exp2",
    llvm.FLogOp: "llvm.log",
    llvm.FLog2Op: "llvm.log2",
    llvm.FSqrtOp: "llvm.sqrt",
    llvm.FSinOp: "llvm.sin",
    llvm.FCosOp: "llvm.cos",
    llvm.FFloorOp: "llvm.floor",
    llvm.FCeilOp: "llvm.ceil",
    llvm.FPowOp: "llvm.pow",
    llvm.VectorFMaxOp: "llvm.maxnum",
    llvm.VectorFMinOp: "llvm.minnum",
    llvm.FCopySignOp: "llvm.copysign",
    llvm.FMAOp: "llvm.fma",
}


def _convert_intrinsic(op: Operation, builder: ir.IRBuilder, values: ValueMap) -> bool:
    """Intrinsic ops (ours and xDSL's). Returns False when `op` is not one."""
    args = [values[v] for v in op.operands]
    if isinstance(op, llvm.VectorReduceFAddOp | llvm.VectorReduceFMulOp):
        name = (
            "llvm.vector.reduce.fadd"
            if isinstance(op, llvm.VectorReduceFAddOp)
            else ("llvm.vector.reduce.fmul")
        )
        _call_intrinsic(op, builder, values, name, args, [args[1].type], args[0].type)
        return True
    if type(op) in _XDSL_INTRINSICS:
        result_type = convert_type(op.results[0].type)
        _call_intrinsic(
            op, builder, values, _XDSL_INTRINSICS[type(op)], args, [result_type], result_type
        )
        return True
    if isinstance(op, llvm_ext.TargetIntrinsicOp):
        _call_intrinsic(op, builder, values, op.intrinsic.data, args, [], convert_type(op.res.type))
        return True
    if not isinstance(op, llvm_ext.IntrinsicOp):
        return False
    name = op.intrinsic_name()
    result_type = convert_type(op.results[0].type)
    if isinstance(op, llvm_ext.UnaryIntIntrinsicWithFlag):
        flag = ir.Constant(ir.IntType(1), op.is_poison.value.data & 1)
        _call_intrinsic(op, builder, values, name, [*args, flag], [result_type], result_type)
    elif isinstance(op, llvm_ext.PowIOp):
        _call_intrinsic(op, builder, values, name, args, [args[0].type, args[1].type], result_type)
    elif isinstance(op, llvm_ext.VectorReduceOp):
        _call_intrinsic(op, builder, values, name, args, [args[0].type], result_type)
    else:
        _call_intrinsic(op, builder, values, name, args, [result_type], result_type)
    return True


def _convert_fcmp(op: llvm_ext.FCmpOp, builder: ir.IRBuilder, values: ValueMap) -> None:
    predicate = op.predicate_name.lstrip("_")  # xDSL spells true/false "_true"/"_false"
    lhs, rhs = values[op.lhs], values[op.rhs]
    # llvmlite passes a predicate it does not know ('olt', 'uno', ...) through verbatim.
    values[op.res] = builder.fcmp_ordered(predicate, lhs, rhs, flags=_flags(op))


def _convert_masked_load(
    op: llvm_ext.MaskedLoadOp, builder: ir.IRBuilder, values: ValueMap
) -> None:
    result_type = convert_type(op.res.type)
    pointer, mask, pass_thru = values[op.data], values[op.mask], values[op.pass_thru]
    alignment = ir.Constant(ir.IntType(32), op.alignment.value.data)
    fn_type = ir.FunctionType(
        result_type, [pointer.type, alignment.type, mask.type, pass_thru.type]
    )
    fn = declare_intrinsic(builder.module, "llvm.masked.load", [result_type, pointer.type], fn_type)
    values[op.res] = builder.call(fn, [pointer, alignment, mask, pass_thru])


def _convert_masked_store(
    op: llvm_ext.MaskedStoreOp, builder: ir.IRBuilder, values: ValueMap
) -> None:
    value, pointer, mask = values[op.value], values[op.data], values[op.mask]
    alignment = ir.Constant(ir.IntType(32), op.alignment.value.data)
    fn_type = ir.FunctionType(ir.VoidType(), [value.type, pointer.type, alignment.type, mask.type])
    fn = declare_intrinsic(builder.module, "llvm.masked.store", [value.type, pointer.type], fn_type)
    builder.call(fn, [value, pointer, alignment, mask])


def _convert_memcpy(op: llvm_ext.MemcpyOp, builder: ir.IRBuilder, values: ValueMap) -> None:
    dst, src, length = values[op.dst], values[op.src], values[op.len]
    volatile = ir.Constant(ir.IntType(1), op.isVolatile.value.data & 1)
    fn_type = ir.FunctionType(ir.VoidType(), [dst.type, src.type, length.type, volatile.type])
    fn = declare_intrinsic(
        builder.module, "llvm.memcpy", [dst.type, src.type, length.type], fn_type
    )
    builder.call(fn, [dst, src, length, volatile])


def _convert_gep(op: llvm.GEPOp, builder: ir.IRBuilder, values: ValueMap) -> None:
    # xDSL bitcasts the base to a typed pointer first, which makes llvmlite
    # type the result as a pointer to the *source* element type (a struct GEP
    # then looks like a struct pointer). With opaque pointers no cast is needed.
    dynamic = iter(op.ssa_indices)
    indices = [
        values[next(dynamic)]
        if index == llvm.GEP_USE_SSA_VAL
        else ir.Constant(ir.IntType(32), index)
        for index in op.rawConstantIndices.iter_values()
    ]
    values[op.result] = builder.gep(
        values[op.ptr],
        indices,
        inbounds=op.inbounds is not None,
        source_etype=convert_type(op.elem_type),
    )


def _convert_alloca(op: llvm.AllocaOp, builder: ir.IRBuilder, values: ValueMap) -> None:
    instr = builder.alloca(convert_type(op.elem_type), size=values[op.size])
    # llvmlite types an alloca as a typed pointer to its element, which then
    # refuses stores of any other type through it; LLVM pointers are opaque.
    instr.type = ir.PointerType()
    if op.alignment is not None:
        instr.align = op.alignment.value.data
    values[op.res] = instr


def _convert_assume(op: llvm_ext.AssumeOp, builder: ir.IRBuilder, values: ValueMap) -> None:
    builder.assume(values[op.cond])


_Handler = Callable[[Operation, ir.IRBuilder, ValueMap], None]

_HANDLERS: dict[type[Operation], _Handler] = {
    llvm_ext.FCmpOp: _convert_fcmp,  # type: ignore[dict-item]
    llvm_ext.SelectOp: lambda op, b, v: v.__setitem__(
        op.results[0], b.select(*(v[x] for x in op.operands))
    ),
    llvm_ext.FPToSIOp: lambda op, b, v: v.__setitem__(
        op.results[0], b.fptosi(v[op.operands[0]], convert_type(op.results[0].type))
    ),
    llvm_ext.FPToUIOp: lambda op, b, v: v.__setitem__(
        op.results[0], b.fptoui(v[op.operands[0]], convert_type(op.results[0].type))
    ),
    llvm_ext.UIToFPOp: lambda op, b, v: v.__setitem__(
        op.results[0], b.uitofp(v[op.operands[0]], convert_type(op.results[0].type))
    ),
    llvm_ext.ExtractElementOp: lambda op, b, v: v.__setitem__(
        op.results[0], b.extract_element(v[op.operands[0]], v[op.operands[1]])
    ),
    llvm_ext.MaskedLoadOp: _convert_masked_load,  # type: ignore[dict-item]
    llvm_ext.MaskedStoreOp: _convert_masked_store,  # type: ignore[dict-item]
    llvm_ext.MemcpyOp: _convert_memcpy,  # type: ignore[dict-item]
    llvm_ext.AssumeOp: _convert_assume,  # type: ignore[dict-item]
    llvm.GEPOp: _convert_gep,  # type: ignore[dict-item]
    llvm.AllocaOp: _convert_alloca,  # type: ignore[dict-item]
}


def convert_op(
    op: Operation,
    builder: ir.IRBuilder,
    values: ValueMap,
    blocks: dict[Block, ir.Block] | None = None,
) -> None:
    """Translate one llvm-dialect op; ours first, then xDSL's translation."""
    handler = _HANDLERS.get(type(op))
    if handler is not None:
        handler(op, builder, values)
        return
    if _may_be_intrinsic(type(op)) and _convert_intrinsic(op, builder, values):
        return
    xdsl_convert_op(op, builder, values, blocks)


_MAY_BE_INTRINSIC: dict[type[Operation], bool] = {}


def _may_be_intrinsic(kind: type[Operation]) -> bool:
    """Whether `_convert_intrinsic` may take ops of type `kind` (one test per type, not per op)."""
    known = _MAY_BE_INTRINSIC.get(kind)
    if known is None:
        known = kind in _XDSL_INTRINSICS or issubclass(
            kind,
            (
                llvm.VectorReduceFAddOp,
                llvm.VectorReduceFMulOp,
                llvm_ext.TargetIntrinsicOp,
                llvm_ext.IntrinsicOp,
            ),
        )
        _MAY_BE_INTRINSIC[kind] = known
    return known


def _convert_function(op: llvm.FuncOp, module: ir.Module) -> None:
    fn = module.get_global(op.sym_name.data)
    assert isinstance(fn, ir.Function)
    linkage = op.linkage.linkage.data
    if linkage != "external":
        fn.linkage = linkage
    if op.no_unwind is not None:
        fn.attributes.add("nounwind")
    if not op.body.blocks:
        return
    blocks: dict[Block, ir.Block] = {}
    values: ValueMap = {}
    # All blocks first, so that branches can refer forward.
    for index, block in enumerate(op.body.blocks):
        blocks[block] = fn.append_basic_block(name=block.name_hint or "")
        if index == 0:
            for arg, llvm_arg in zip(block.args, fn.args, strict=True):
                values[arg] = llvm_arg
    # Block arguments become phis; branches add their incoming values.
    for block in list(op.body.blocks)[1:]:
        builder = ir.IRBuilder(blocks[block])
        for arg in block.args:
            values[arg] = builder.phi(convert_type(arg.type))
    for block in op.body.blocks:
        builder = ir.IRBuilder(blocks[block])
        if blocks[block].instructions:
            builder.position_after(blocks[block].instructions[-1])
        for inner in block.ops:
            convert_op(inner, builder, values, blocks)


def to_llvmlite(module: ModuleOp, triple: str | None = None, data_layout: str = "") -> ir.Module:
    """Translate an llvm-dialect `module` into an llvmlite IR module."""
    llvm_module = ir.Module()
    module_triple = module.attributes.get("llvm.target_triple")
    if isinstance(module_triple, StringAttr):
        llvm_module.triple = module_triple.data
    elif triple is not None:
        llvm_module.triple = triple
    else:
        from llvmlite import binding

        llvm_module.triple = binding.get_default_triple()
    if data_layout:
        llvm_module.data_layout = data_layout

    functions: list[llvm.FuncOp] = []
    for op in module.ops:
        if isinstance(op, llvm.GlobalOp):
            xdsl_convert._convert_global(op, llvm_module)  # pyright: ignore[reportPrivateUsage]
            if op.alignment is not None:
                llvm_module.get_global(op.sym_name.data).align = op.alignment.value.data
        elif isinstance(op, llvm.FuncOp):
            functions.append(op)
        else:
            raise LLVMTranslationException(
                f"'{op.name}' at module level cannot be translated to LLVM IR; "
                "run `convert-to-llvm` first"
            )
    for fn in functions:
        xdsl_convert._declare_func(fn, llvm_module)  # pyright: ignore[reportPrivateUsage]
    for fn in functions:
        _convert_function(fn, llvm_module)
    return llvm_module


def to_llvm_ir(module: ModuleOp, triple: str | None = None, data_layout: str = "") -> str:
    """LLVM IR text of an llvm-dialect module."""
    return str(to_llvmlite(module, triple, data_layout))
