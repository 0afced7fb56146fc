"""ONNX -> graph dialect.

`import_onnx` turns a model (path, bytes or ModelProto) into a `builtin.module`
holding `func.func @main`. Initializers become `graph.constant`s, each node
goes through the converter registered for its domain and op type (`onnx_ops/`,
written against `converter.py`'s `NodeBuilder`; besides ONNX's own ops,
onnxruntime's com.microsoft contrib ops), and ops whose operands are all
constants and whose results are small (shape arithmetic: Shape, Gather on
shapes, Concat of shapes, ConstantOfShape, ...) are evaluated right away with
the reference interpreter's kernels, so shape subgraphs never reach the graph.

Symbolic dims must be pinned with `input_shapes={"name": (1, 3, 224, 224)}`.
Inputs that decide shapes (a Reduce's axes, Reshape's target shape, Tile's
repeats) can be bound to values with `specialize={"axes": np.array([1])}`:
they become constants and leave the function's signature. An op that needs
such an input constant names it (`ConstantInputError.graph_inputs`).
Every failure is a `CompilerError` naming the file, node, op type and opset.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Mapping, Sequence

import numpy as np
import onnx
from google.protobuf.message import DecodeError
from onnx import numpy_helper
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    TensorType,
    UnitAttr,
)
from xdsl.ir import Attribute, Block, Region, SSAValue

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.errors import (
    CompilerError,
    ModelLoadError,
    ShapeError,
    UnsupportedOpError,
)
from compiler.frontend import (
    dynamic_rows,
    dynamic_shapes,
    onnx_ops,  # noqa: F401  (registers every converter)
)
from compiler.frontend.converter import (
    DOMAIN_CONVERTERS,
    Converter,
    ImportState,
    NodeBuilder,
    TensorSequence,
    Value,
    canonical_domain,
    tensor_too_large,
)

MIN_OPSET = 7
MAX_OPSET = 28
"""Every opset onnx 1.23 defines. Ops whose newer versions changed semantics
check `b.opset` in their converter (SpaceToDepth's `mode`, Mod of floats)."""


def supported_ops(domain: str = "") -> list[str]:
    """The op types of `domain` that import ("" is ONNX's own; "com.microsoft" onnxruntime's contrib ops)."""
    return sorted(DOMAIN_CONVERTERS.get(canonical_domain(domain), {}))


def supported_domains() -> list[str]:
    """The op domains with converters ("" for ONNX's own)."""
    return sorted(DOMAIN_CONVERTERS)


# ---------------------------------------------------------------------------
# Loading


def _load_model(
    model: str | os.PathLike[str] | bytes | onnx.ModelProto, source: str | None, data: bytes | None = None
) -> tuple[onnx.ModelProto, str | None]:
    """`data`: the bytes of the file `model` names, when the caller has read them already."""
    if isinstance(model, onnx.ModelProto):
        return model, source
    if isinstance(model, bytes):
        if source is not None and os.path.exists(source):
            # Load from the path so that external data resolves relative to it.
            model = source
        else:
            try:
                proto = onnx.load_model_from_string(model)
            except (DecodeError, ValueError, RuntimeError) as err:
                raise ModelLoadError(f"not a valid ONNX model ({_short(err)})", file=source,
                                     hint="check that the file is a complete .onnx model") from None
            return proto, source
    path = os.fspath(model)
    if not os.path.exists(path):
        raise ModelLoadError("no such file", file=path, hint="check the path")
    if os.path.isdir(path):
        raise ModelLoadError("is a directory, not an ONNX file", file=path)
    try:
        proto = onnx.load(path if data is None else _named_bytes(data, path), load_external_data=True)
    except (DecodeError, ValueError, RuntimeError, OSError, onnx.checker.ValidationError) as err:
        raise ModelLoadError(
            f"not a valid ONNX model ({_short(err)})",
            file=path,
            hint="check that the file is a complete .onnx model and its external data files sit beside it",
        ) from None
    return proto, path


def _named_bytes(data: bytes, path: str) -> io.BytesIO:
    """`data` as the file `path`: `onnx.load` takes the format from its name and
    resolves external data beside it, as for the path itself, without reading
    the file (100 MB for ResNet-50) a second time."""
    stream = io.BytesIO(data)
    stream.name = path  # type: ignore[attr-defined]
    return stream


def _check_text_fields(message: object, source: str | None, path: str = "model") -> None:
    """Every string field (names, op types, domains) is valid UTF-8, or a ModelLoadError.

    ONNX's schema is proto2, where protobuf hands back a string that is not
    UTF-8 (a flipped byte in a name) as `bytes` instead of failing the parse;
    every later use of the name would then fail with a TypeError. Doc strings
    are free text and never used, so they may hold anything.
    """
    for desc, value in message.ListFields():  # type: ignore[attr-defined]
        if desc.type == desc.TYPE_MESSAGE:
            items = value if desc.is_repeated else [value]
            for i, item in enumerate(items):
                where = f"{path}.{desc.name}[{i}]" if desc.is_repeated else f"{path}.{desc.name}"
                _check_text_fields(item, source, where)
        elif desc.type == desc.TYPE_STRING and desc.name != "doc_string":
            items = value if desc.is_repeated else [value]
            for item in items:
                if isinstance(item, bytes):
                    raise ModelLoadError(
                        f"{path}.{desc.name} is not valid UTF-8 ({item[:40]!r})",
                        file=source,
                        hint="the file is damaged; export the model again",
                    )


def parse_onnx_text(text: str, source: str | None = None) -> onnx.ModelProto:
    """Reads ONNX's textual syntax (`onnx.parser`), used by `.onnxtxt` test files."""
    import onnx.parser

    try:
        return onnx.parser.parse_model(text)
    except Exception as err:  # onnx.parser raises a bare ParseError type
        raise ModelLoadError(f"not valid ONNX text ({_parse_error_text(err)})", file=source) from None


def _parse_error_text(err: BaseException) -> str:
    """onnx.parser's error (bytes: "[ParseError at position (...)]", context, reason) as one line."""
    arg = err.args[0] if err.args else str(err)
    text = arg.decode(errors="replace") if isinstance(arg, bytes) else str(arg)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return type(err).__name__
    where = lines[0].strip("[]")
    reason = lines[-1] if len(lines) > 1 and not lines[-1].startswith("Error context") else ""
    return f"{where}: {reason}"[:200] if reason else where[:200]


def _short(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:160] if text else type(err).__name__


def _opset(model: onnx.ModelProto, source: str | None) -> int:
    if not model.HasField("graph") and not model.opset_import:
        # Protobuf reads an empty (or some garbage) file as an empty message.
        raise ModelLoadError(
            "not a valid ONNX model (it has no graph)",
            file=source,
            hint="check that the file is a complete .onnx model",
        )
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx"):
            version = imp.version
            break
    else:
        others = sorted({imp.domain for imp in model.opset_import})
        if others:
            raise UnsupportedOpError(
                f"the model imports only the {', '.join(repr(d) for d in others)} op domain(s), "
                "which are not supported",
                file=source,
                hint="export the model with standard ONNX ops only",
            )
        raise ModelLoadError("the model imports no default-domain opset", file=source)
    if not MIN_OPSET <= version <= MAX_OPSET:
        raise ModelLoadError(
            f"opset {version} is not supported (supported: {MIN_OPSET} to {MAX_OPSET})",
            file=source,
            hint="convert the model with onnx.version_converter",
        )
    return version


_NAME_RE = re.compile(r"[^A-Za-z0-9_$.]")


def _name_hint(name: str) -> str | None:
    hint = _NAME_RE.sub("_", name)
    if not hint or hint[0].isdigit():
        hint = "v" + hint
    return hint


def _input_type(
    vi: onnx.ValueInfoProto, pinned: Mapping[str, Sequence[int]], source: str | None
) -> TensorType:
    if not vi.type.HasField("tensor_type"):
        raise UnsupportedOpError(f"input '{vi.name}' is not a tensor", file=source)
    tt = vi.type.tensor_type
    try:
        elem = dtypes.from_onnx_dtype(tt.elem_type)
    except CompilerError as err:
        # Not a node: say which input, keep the dtype message and its hint.
        raise type(err)(f"input '{vi.name}': {err.message}", file=source, hint=err.hint) from None
    dims = list(tt.shape.dim) if tt.HasField("shape") else None
    if vi.name in pinned:
        shape = [int(d) for d in pinned[vi.name]]
        if dims is not None:
            if len(dims) != len(shape):
                raise ShapeError(
                    f"input '{vi.name}' has rank {len(dims)}, the pinned shape {tuple(shape)} has rank {len(shape)}",
                    file=source,
                )
            for i, (d, s) in enumerate(zip(dims, shape, strict=True)):
                if d.HasField("dim_value") and d.dim_value != s:
                    raise ShapeError(
                        f"input '{vi.name}' dim {i} is {d.dim_value}, pinned to {s}", file=source
                    )
        if any(s < 0 for s in shape):
            raise ShapeError(f"pinned shape of input '{vi.name}' has a negative dim", file=source)
        return _sized(TensorType(elem, shape), vi.name, source)
    if dims is None:
        raise ShapeError(
            f"input '{vi.name}' has no shape",
            file=source,
            hint=f"pin it with input_shapes={{'{vi.name}': (...)}} or --input-shape {vi.name}=1x...",
        )
    shape = []
    for i, d in enumerate(dims):
        # A dim_value of 0 is a real (empty) dim; only a dim without a value is symbolic.
        if d.HasField("dim_value") and d.dim_value >= 0:
            shape.append(d.dim_value)
            continue
        sym = d.dim_param or "?"
        raise ShapeError(
            f"input '{vi.name}' has symbolic dim '{sym}' (dim {i})",
            file=source,
            hint=f"pin it with input_shapes={{'{vi.name}': (...)}} or --input-shape {vi.name}=1x...",
        )
    return _sized(TensorType(elem, shape), vi.name, source)


def _sized(type_: TensorType, name: str, source: str | None) -> TensorType:
    """`type_`, or a ShapeError when a tensor of that type could not exist (see MAX_TENSOR_BYTES)."""
    too_large = tensor_too_large(type_)
    if too_large:
        raise ShapeError(f"input '{name}': {too_large}", file=source, hint="check the model's input shapes")
    return type_


def _check_pinned(
    input_shapes: Mapping[str, Sequence[int]], source: str | None
) -> dict[str, tuple[int, ...]]:
    """input_shapes as {name: tuple of non-negative ints}, or a ShapeError."""
    pinned: dict[str, tuple[int, ...]] = {}
    for name, dims in input_shapes.items():
        ok = not isinstance(dims, str | bytes)
        try:
            shape = tuple(int(d) for d in dims) if ok else ()
            ok = ok and all(isinstance(d, int | np.integer) and d >= 0 for d in dims)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ShapeError(
                f"input_shapes[{name!r}] = {dims!r} is not a shape",
                file=source,
                hint=f"give a tuple of non-negative ints, e.g. input_shapes={{{name!r}: (1, 3, 224, 224)}}",
            )
        pinned[name] = shape
    return pinned


def _specialized_value(vi: onnx.ValueInfoProto, value: object, source: str | None) -> np.ndarray:
    """`value` as an array of the input's element type, checked against its declared dims."""
    elem = _input_type_elem(vi, source)
    try:
        array = np.asarray(value)
        cast = array.astype(dtypes.to_numpy_dtype(elem), copy=False)
    except (TypeError, ValueError):
        raise ShapeError(f"specialize[{vi.name!r}] is not an array of numbers", file=source) from None
    if array.dtype.kind not in "biuf" or (array.dtype.kind == "f" and cast.dtype.kind != "f"):
        raise ShapeError(
            f"specialize[{vi.name!r}] has dtype {array.dtype}, the input is {elem}", file=source
        )
    tt = vi.type.tensor_type
    if tt.HasField("shape"):
        dims = list(tt.shape.dim)
        declared = [d.dim_value if d.HasField("dim_value") else None for d in dims]
        if len(declared) != cast.ndim or any(d is not None and d != s for d, s in zip(declared, cast.shape, strict=False)):
            raise ShapeError(
                f"specialize[{vi.name!r}] has shape {cast.shape}, the input is declared {tuple(declared)}",
                file=source,
            )
    return cast


def _input_type_elem(vi: onnx.ValueInfoProto, source: str | None):
    if not vi.type.HasField("tensor_type"):
        raise UnsupportedOpError(f"input '{vi.name}' is not a tensor", file=source)
    try:
        return dtypes.from_onnx_dtype(vi.type.tensor_type.elem_type)
    except CompilerError as err:
        raise type(err)(f"input '{vi.name}': {err.message}", file=source, hint=err.hint) from None


def import_onnx(
    model: str | os.PathLike[str] | bytes | onnx.ModelProto,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
    *,
    source_name: str | None = None,
    specialize: Mapping[str, object] | None = None,
    file_bytes: bytes | None = None,
) -> ModuleOp:
    """Imports an ONNX model as a graph-dialect module with `func.func @main`.

    `specialize` binds graph inputs to values: each becomes a constant and
    is no longer an argument of `main`. `file_bytes`, with a path `model`:
    the file's contents, read already (the model cache hashes them), so the
    file is not read again.
    """
    proto, source = _load_model(model, source_name, file_bytes)
    _check_text_fields(proto, source)
    opset = _opset(proto, source)
    graph = proto.graph
    pinned = _check_pinned(input_shapes or {}, source)
    specialize = dict(specialize or {})

    initializer_names = {t.name for t in graph.initializer}
    all_inputs = [vi for vi in graph.input if vi.name not in initializer_names]
    for what, names in (("input_shapes", pinned), ("specialize", specialize)):
        unknown = sorted(set(names) - {vi.name for vi in all_inputs})
        if unknown:
            raise ShapeError(
                f"{what} names '{unknown[0]}', which is not a model input",
                file=source,
                hint=f"inputs are {[vi.name for vi in all_inputs]}",
            )
    _check_unique_names(graph, source)
    real_inputs = [vi for vi in all_inputs if vi.name not in specialize]
    arg_types = [_input_type(vi, pinned, source) for vi in real_inputs]
    block = Block(arg_types=arg_types)
    state = ImportState(source, opset, block, convert_node=_convert_node)
    state.used = _used_names(graph)
    for vi, arg in zip(real_inputs, block.args, strict=True):
        state.values[vi.name] = arg
        state.arg_names[arg] = vi.name
        arg.name_hint = _name_hint(vi.name)
    for vi in all_inputs:
        if vi.name in specialize:
            array = _specialized_value(vi, specialize[vi.name], source)
            op = g.ConstantOp.from_numpy(array, _input_type_elem(vi, source))
            block.add_op(op)
            op.result.name_hint = _name_hint(vi.name)
            state.values[vi.name] = op.result

    for tensor in graph.initializer:
        _add_initializer(state, tensor)
    for node in graph.node:
        _convert_node(state, node)

    outputs: list[SSAValue] = []
    for vi in graph.output:
        if vi.name not in state.values:
            raise ModelLoadError(f"graph output '{vi.name}' is never produced", file=source)
        value = state.values[vi.name]
        if isinstance(value, TensorSequence):
            raise UnsupportedOpError(
                f"graph output '{vi.name}' is a sequence, which is not supported",
                file=source,
                hint="return tensors (e.g. torch.stack or torch.cat the list)",
            )
        outputs.append(value)
    res_attrs = [_output_attrs(vi.name) for vi in graph.output]
    # Outputs with a data-dependent row count: the count becomes a hidden result.
    for i, value in enumerate(list(outputs)):
        rows = state.dynamic_rows.get(value)
        if rows is not None:
            res_attrs[i][dynamic_rows.ROWS_ATTR] = IntegerAttr(len(outputs), 64)
            if rows.axis:
                res_attrs[i][dynamic_rows.ROWS_AXIS_ATTR] = IntegerAttr(rows.axis, 64)
            outputs.append(rows.count)
            res_attrs.append(_output_attrs(f"{graph.output[i].name}:rows"))
            res_attrs[-1][dynamic_rows.HIDDEN_ATTR] = UnitAttr()
    block.add_op(func.ReturnOp(*outputs))
    _erase_dead_ops(block)

    fn = func.FuncOp(
        "main",
        (arg_types, [v.type for v in outputs]),
        Region(block),
        arg_attrs=_names_attr([vi.name for vi in real_inputs]),
        res_attrs=ArrayAttr([DictionaryAttr(a) for a in res_attrs]),
    )
    module = ModuleOp([fn])
    if source is not None:
        module.attributes["graph.source"] = StringAttr(os.path.basename(source))
    return module


def _used_names(graph: onnx.GraphProto) -> set[str]:
    """The names that nodes read, in subgraphs (If branches, SequenceMap bodies) too, and the outputs."""
    used = {o.name for o in graph.output}
    for node in graph.node:
        used.update(node.input)
        for a in node.attribute:
            for sub in [a.g] if a.type == onnx.AttributeProto.GRAPH else list(a.graphs):
                used |= _used_names(sub)
    return used


def _check_unique_names(graph: onnx.GraphProto, source: str | None) -> None:
    """Graph inputs, initializers and node outputs are SSA values: each name defined once.

    An initializer may also be listed as a graph input (its default value),
    so only inputs among themselves and node outputs against everything count.
    """
    seen_inputs: set[str] = set()
    for vi in graph.input:
        if vi.name in seen_inputs:
            raise ModelLoadError(f"graph input '{vi.name}' is declared twice", file=source)
        seen_inputs.add(vi.name)
    defined = seen_inputs | {t.name for t in graph.initializer}
    for node in graph.node:
        for name in node.output:
            if not name:
                continue
            if name in defined:
                raise ModelLoadError(
                    f"value '{name}' is defined twice (output of node '{node.name or node.op_type}' "
                    "and of an earlier node, an initializer or a graph input)",
                    file=source,
                    hint="every value name of an ONNX graph must be unique",
                )
            defined.add(name)


def _output_attrs(name: str) -> dict[str, Attribute]:
    return {"graph.name": StringAttr(name)}


def _names_attr(names: Sequence[str]):
    from xdsl.dialects.builtin import ArrayAttr

    return ArrayAttr([DictionaryAttr({"graph.name": StringAttr(n)}) for n in names])


# 4-bit types widen to 8 bits at import: the values are the same integers.
_FOUR_BIT = {onnx.TensorProto.INT4: onnx.TensorProto.INT8, onnx.TensorProto.UINT4: onnx.TensorProto.UINT8}


def _add_initializer(state: ImportState, tensor: onnx.TensorProto) -> None:
    try:
        elem = dtypes.from_onnx_dtype(_FOUR_BIT.get(tensor.data_type, tensor.data_type))
    except CompilerError as err:
        raise type(err)(
            f"initializer '{tensor.name}': {err.message}", file=state.source, hint=err.hint
        ) from None
    try:
        array = numpy_helper.to_array(tensor)
    except Exception as err:  # external data missing, truncated raw data, ...
        raise ModelLoadError(
            f"cannot read initializer '{tensor.name}' ({_short(err)})",
            file=state.source,
            hint="check that external data files sit beside the model",
        ) from None
    if tensor.data_type in _FOUR_BIT:
        array = np.asarray(array, dtype=dtypes.to_numpy_dtype(elem))
        state.four_bit.add(tensor.name)
    op = g.ConstantOp.from_numpy(array, elem)
    state.block.add_op(op)
    op.result.name_hint = _name_hint(tensor.name)
    state.values[tensor.name] = op.result


_LOOP_HINT = (
    "loop over a fixed range in forward() (the exporter unrolls it) "
    "or run the loop outside the model"
)
_UNSUPPORTED_HINTS = {"Loop": _LOOP_HINT, "Scan": _LOOP_HINT}
"""What to do about ops that PyTorch's exporters write for code we cannot compile
(torch.while_loop, nn.EmbeddingBag and the like become Loop)."""


def _convert_node(state: ImportState, node: onnx.NodeProto) -> None:
    builder = NodeBuilder(state, node)
    conv = _find_converter(builder)
    for name in node.input:
        if name and name not in state.values:
            raise builder.error(f"input '{name}' is not defined before this node")
    restore = dynamic_rows.prepare(builder) if state.dynamic_rows else []
    special: list[Value | None] | None = None
    try:
        tracked = bool(state.dynamic_rows or state.shape_values) and dynamic_shapes.involved(builder)
        special = dynamic_shapes.convert(builder, conv) if tracked else None
        results = special if special is not None else list(conv(builder))
        if tracked and special is None and state.shape_values:
            results = dynamic_shapes.track(builder, results)
    except CompilerError as err:
        raise err.with_context(
            file=state.source, node=builder.display_name, op_type=builder.op_label, opset=state.opset
        ) from None
    except MemoryError:  # tables sized by a dim (Resize's taps, Range, ...) of an absurd shape
        raise builder.error(
            "ran out of memory converting this node", hint="check the shapes in the model"
        ) from None
    finally:
        for name, value in restore:
            state.values[name] = value
    if state.dynamic_rows and special is None:
        dynamic_rows.propagate(builder, results, masked=bool(restore))
    for i, name in enumerate(node.output):
        if not name:
            continue
        if i >= len(results) or results[i] is None:
            if name not in state.used:
                continue
            raise builder.error(f"output {i} ('{name}') is not supported")
        value = results[i]
        assert value is not None
        state.values[name] = value
        if isinstance(value, SSAValue) and value.name_hint is None:
            value.name_hint = _name_hint(name)


def _find_converter(builder: NodeBuilder) -> Converter:
    """The node's converter, or one error line naming the node, its op type and its domain."""
    domain, op_type = builder.domain, builder.node.op_type
    table = DOMAIN_CONVERTERS.get(domain)
    if table is None:
        others = ", ".join(repr(d) for d in supported_domains() if d)
        raise builder.error(
            f"op domain '{domain}' is not supported",
            hint=f"export the model with standard ONNX ops (or onnxruntime's {others} ops) only",
        )
    conv = table.get(op_type)
    if conv is None:
        where, argument = (f"of domain '{domain}' ", repr(domain)) if domain else ("", "")
        hint = _UNSUPPORTED_HINTS.get(op_type) if not domain else None
        raise builder.error(
            f"this op {where}is not supported",
            hint=hint or f"see compiler.frontend.onnx.supported_ops({argument}) for the list",
        )
    return conv


def _erase_dead_ops(block: Block) -> None:
    # Shape subgraphs and placeholders leave dead ops behind; all graph ops are pure.
    for op in reversed(list(block.ops)):
        if op is block.last_op:
            continue
        if all(not r.uses for r in op.results):
            op.detach()
            op.erase()

