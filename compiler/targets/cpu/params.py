"""`extract-params`: weights leave the IR for one aligned binary blob.

Constant `memref.global`s become byte ranges of a params blob; each
`memref.get_global` in `@main` becomes a `memref.view` of a new `%params`
argument (inserted before `%arena`). The blob is not IR: the compile driver
gets it from `extract_params`, and the pass writes it to a file when given
`out=path`. 100 MB of weights as LLVM IR constants would be slow to build and
parse; as a blob they are one `memcpy` or one `mmap`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects import arith, func, memref
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    DictionaryAttr,
    IntegerAttr,
    MemRefType,
    ModuleOp,
    StringAttr,
    i8,
)
from xdsl.ir import Block
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter

from compiler import dtypes
from compiler.compute.builder import index
from compiler.errors import CompilerError

ALIGNMENT = 64
PARAMS_ATTR = "graph.params_bytes"


def _entry(module: ModuleOp) -> func.FuncOp:
    for op in module.ops:
        if isinstance(op, func.FuncOp) and op.sym_name.data == "main":
            if PARAMS_ATTR in op.attributes:
                raise CompilerError("extract-params already ran on this module")
            if not op.function_type.inputs.data or not all(
                isinstance(t, MemRefType) for t in op.function_type.inputs.data
            ):
                raise CompilerError(
                    "extract-params needs the loop-level @main over memrefs",
                    hint="run it after convert-graph-to-loop",
                )
            return op
    raise CompilerError("extract-params: the module has no func.func @main")


def _blob_bytes(value: DenseIntOrFPElementsAttr) -> bytes:
    """The constant's elements as the blob stores them.

    Usually the attribute's own bytes, not a copy of them (the blob is
    joined from these chunks: a copy of 100 MB of weights cost a tenth of
    a second); splats are expanded and booleans normalized to 0/1."""
    array = dtypes.dense_to_numpy(value)
    raw = value.data.data
    if array.dtype != np.bool_ and len(raw) == array.nbytes:
        return raw
    return np.ascontiguousarray(array).tobytes()


def extract_params(module: ModuleOp) -> bytes:
    """Moves constant memref.globals into a blob; returns the blob's bytes."""
    chunks, _ = _extract(module)
    return b"".join(chunks)


def extract_params_aligned(module: ModuleOp) -> np.ndarray:
    """`extract_params`, the blob built in an ALIGNMENT-aligned uint8 array.

    `CompiledModel` runs on such an array as it is (`params_owned`); from
    bytes it would copy the blob once more into aligned memory."""
    from compiler.runtime import aligned_blob

    chunks, size = _extract(module)
    blob = aligned_blob(max(size, 1))
    offset = 0
    for chunk in chunks:
        blob[offset : offset + len(chunk)] = np.frombuffer(chunk, np.uint8)
        offset += len(chunk)
    return blob[:size]  # an empty blob stays empty (the buffer has a byte)


def _extract(module: ModuleOp) -> tuple[list[bytes], int]:
    """The rewrite of `extract_params`; the blob's chunks (padding included) in order, and its size."""
    globals_ = {
        op.sym_name.data: op
        for op in module.ops
        if isinstance(op, memref.GlobalOp) and op.constant is not None
    }
    entry = _entry(module)
    block = entry.body.block
    chunks: list[bytes] = []
    offsets: dict[str, int] = {}
    size = 0
    for name, glob in globals_.items():
        value = glob.initial_value
        assert isinstance(value, DenseIntOrFPElementsAttr)
        data = _blob_bytes(value)
        pad = (-size) % ALIGNMENT
        chunks.append(b"\0" * pad)
        size += pad
        offsets[name] = size
        chunks.append(data)
        size += len(data)
    params_type = MemRefType(i8, [max(size, 1)])
    # %params goes right before %arena (the last argument).
    position = len(block.args) - 1
    params = block.insert_arg(params_type, position)
    params.name_hint = "params"
    inputs = list(entry.function_type.inputs)
    inputs.insert(position, params_type)
    entry.function_type = func.FunctionType.from_lists(inputs, list(entry.function_type.outputs))
    if entry.arg_attrs is not None:
        attrs = list(entry.arg_attrs.data)
        attrs.insert(position, DictionaryAttr({"graph.name": StringAttr("params")}))
        from xdsl.dialects.builtin import ArrayAttr

        entry.arg_attrs = ArrayAttr(attrs)
    for op in list(block.walk()):
        if isinstance(op, memref.GetGlobalOp) and op.name_.string_value() in offsets:
            shift = arith.ConstantOp(IntegerAttr(offsets[op.name_.string_value()], index))
            view = memref.ViewOp(params, shift, [], op.memref.type)
            Rewriter.insert_op([shift, view], InsertPoint.before(op))
            op.memref.replace_all_uses_with(view.result)
            op.detach()
            op.erase()
    for glob in globals_.values():
        glob.detach()
        glob.erase()
    entry.attributes[PARAMS_ATTR] = IntegerAttr(size, 64)
    return chunks, size


@dataclass(frozen=True)
class ExtractParamsPass(ModulePass):
    """Moves weight globals into a params blob argument of @main (see module doc)."""

    name = "extract-params"

    out: str | None = None

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        blob = extract_params(op)
        if self.out:
            with open(self.out, "wb") as f:
                f.write(blob)


__all__ = ["Block", "ExtractParamsPass", "extract_params", "extract_params_aligned"]
