"""The compiler as an ONNX backend (`onnx.backend.base.Backend`).

    import compiler.onnx_backend as backend
    rep = backend.prepare(model)            # compiles (CPU only)
    outputs = rep.run([x])                  # or rep.run({"x": x}); a namedtuple by output name
    backend.run_model(model, [x])
    backend.run_node(node, [x, y])          # one node, wrapped in a model and compiled
    backend.is_compatible(model)            # False for ops/dtypes/opsets the compiler lacks

so `onnx.backend.test.BackendTest(CompilerBackend, __name__)` runs ONNX's
node tests against the compiler. `prepare` takes the keyword options of
`compiler.compile` (`input_shapes`, `opt_level`, `num_threads`, `cache`) and
ignores the others (the test runner passes `rtol`/`atol`). Models outside the
importer's opsets (7 to 28) go through `onnx.version_converter` first. A model with
symbolic input dims and no `input_shapes` is compiled on its first `run`,
with the shapes of the given arrays, once per distinct set of shapes.

Shape specialization: when an op needs a constant that comes from graph
inputs (a Reduce's `axes`, Reshape's `shape`, Tile's `repeats` fed as inputs),
the importer names those inputs (`ConstantInputError`); the model is then
compiled on its first `run` with them bound to the given arrays
(`compile(..., specialize=...)`), and again whenever their values change.
`rep.specialized` names them, and the `compiler.onnx_backend` logger says so.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import onnx
from onnx.backend.base import Backend, BackendRep, Device, DeviceType, namedtupledict

from compiler.errors import CompilerError, ConstantInputError, InputError, ModelLoadError
from compiler.runtime import CompiledModel

COMPILE_OPTIONS = ("opt_level", "num_threads", "cache")

log = logging.getLogger(__name__)

ModelLike = onnx.ModelProto | bytes | str | os.PathLike


def _load_proto(model: ModelLike) -> onnx.ModelProto:
    if isinstance(model, onnx.ModelProto):
        return model
    try:
        if isinstance(model, bytes):
            return onnx.load_model_from_string(model)
        return onnx.load(os.fspath(model))
    except Exception as err:  # protobuf DecodeError, OSError, ValueError
        raise ModelLoadError(f"not a valid ONNX model ({type(err).__name__})",
                             file=None if isinstance(model, bytes) else os.fspath(model)) from None


def _default_opset(proto: onnx.ModelProto) -> int | None:
    for imp in proto.opset_import:
        if imp.domain in ("", "ai.onnx"):
            return imp.version
    return None


def _within_opsets(proto: onnx.ModelProto) -> onnx.ModelProto:
    """The model, converted to the nearest opset the importer reads when it is outside them.

    ONNX releases bump the opset of ops whose semantics did not change for
    the old types, so a newer (or a very old) model usually converts; when the
    converter cannot, the model stays as it is and the importer names the opset.
    """
    from compiler.frontend.onnx import MAX_OPSET, MIN_OPSET

    version = _default_opset(proto)
    if version is None or MIN_OPSET <= version <= MAX_OPSET:
        return proto
    try:
        from onnx import version_converter

        return version_converter.convert_version(proto, min(max(version, MIN_OPSET), MAX_OPSET))
    except Exception:  # the converter raises RuntimeError/ValueError/its own C++ errors
        return proto


def _real_inputs(graph: onnx.GraphProto) -> list[onnx.ValueInfoProto]:
    initializers = {t.name for t in graph.initializer}
    return [vi for vi in graph.input if vi.name not in initializers]


def _is_static(vi: onnx.ValueInfoProto) -> bool:
    tt = vi.type.tensor_type
    return tt.HasField("shape") and all(d.HasField("dim_value") for d in tt.shape.dim)


def _device_type(device: str) -> int | None:
    try:
        return Device(device).type
    except Exception:  # onnx raises a bare Exception/KeyError for unknown device names
        return None


class CompilerBackendRep(BackendRep):
    """A prepared model: `run(inputs)` -> outputs as a namedtuple (also indexable by name)."""

    def __init__(self, model: onnx.ModelProto, options: Mapping[str, Any],
                 input_shapes: Mapping[str, Sequence[int]] | None) -> None:
        self.model = model
        self.options = dict(options)
        self.input_names = [vi.name for vi in _real_inputs(model.graph)]
        self.output_names = [vi.name for vi in model.graph.output]
        # Names of every graph input, initializers included: old models list
        # their weights as inputs and some callers feed them positionally.
        self._all_input_names = [vi.name for vi in model.graph.input]
        self._pinned = dict(input_shapes) if input_shapes else None
        self._compiled: dict[tuple[Any, ...], CompiledModel] = {}
        # Graph inputs bound to their values at compile time (see the module docstring).
        self._specialized: list[str] = []
        inputs = _real_inputs(model.graph)
        # Defer only tensors whose shapes come with the arrays; compile everything
        # else now, so that errors (sequence inputs, unsupported ops) show at prepare time.
        deferred = not self._pinned and not all(_is_static(vi) for vi in inputs) and all(
            vi.type.HasField("tensor_type") and vi.type.tensor_type.HasField("shape") for vi in inputs
        )
        self.compiled: CompiledModel | None = None
        if not deferred:
            try:
                self.compiled = self._compile(self._pinned, None)
            except ConstantInputError as err:
                if not err.graph_inputs:
                    raise
                self._specialized = list(err.graph_inputs)  # compiled on the first run

    @property
    def specialized(self) -> tuple[str, ...]:
        """The graph inputs bound to their values at compile time (empty: none)."""
        return tuple(self._specialized)

    def _compile(
        self, input_shapes: Mapping[str, Sequence[int]] | None, feeds: Mapping[str, Any] | None
    ) -> CompiledModel:
        """Compiles, specializing the inputs the importer asks for (needs `feeds` when it asks)."""
        from compiler.driver import compile

        while True:
            values = {n: np.asarray(feeds[n]) for n in self._specialized} if feeds is not None else {}
            shapes = {n: s for n, s in (input_shapes or {}).items() if n not in values} or None
            try:
                return compile(self.model, input_shapes=shapes, specialize=values or None, **self.options)
            except ConstantInputError as err:
                new = [n for n in err.graph_inputs if n not in self._specialized]
                if feeds is None or not new or any(n not in feeds for n in new):
                    raise
                self._specialized += new
                log.info("specializing graph input(s) %s to the values given to run()", ", ".join(new))

    def _feeds(self, inputs: Any) -> dict[str, Any]:
        # numpy scalars (ONNX's test data holds some) are 0-d arrays.
        return {n: np.asarray(v) if isinstance(v, np.generic) else v for n, v in self._named(inputs).items()}

    def _named(self, inputs: Any) -> dict[str, Any]:
        if isinstance(inputs, Mapping):
            return dict(inputs)
        if isinstance(inputs, np.ndarray):
            inputs = [inputs]
        if not isinstance(inputs, list | tuple):
            raise InputError(
                f"inputs must be a list of arrays, a dict or one array, not {type(inputs).__name__}"
            )
        if len(inputs) == len(self._all_input_names) != len(self.input_names):
            named = dict(zip(self._all_input_names, inputs, strict=True))
            return {n: named[n] for n in self.input_names}
        if len(inputs) != len(self.input_names):
            raise InputError(f"expected {len(self.input_names)} inputs {self.input_names}, got {len(inputs)}")
        return dict(zip(self.input_names, inputs, strict=True))

    def _key(self, shapes: Mapping[str, tuple[int, ...]], feeds: Mapping[str, Any]) -> tuple[Any, ...]:
        values = tuple(
            (n, np.asarray(feeds[n]).dtype.str, np.asarray(feeds[n]).tobytes()) for n in self._specialized
        )
        return tuple(shapes[n] for n in self.input_names), values

    def _model_for(self, feeds: Mapping[str, Any]) -> CompiledModel:
        if self.compiled is not None:
            return self.compiled
        shapes: dict[str, tuple[int, ...]] = {}
        for name in self.input_names:
            if name not in feeds:
                raise InputError(f"missing input {name!r}", hint=f"inputs are {self.input_names}")
            value = feeds[name]
            if not isinstance(value, np.ndarray):
                raise InputError(f"input {name!r} is not an array (got {type(value).__name__})")
            shapes[name] = tuple(value.shape)
        key = self._key(shapes, feeds)
        if key not in self._compiled:
            static = all(_is_static(vi) for vi in _real_inputs(self.model.graph))
            pinned = self._pinned or (None if static else shapes)
            compiled = self._compile(pinned, feeds)
            key = self._key(shapes, feeds)  # the compile may have specialized more inputs
            self._compiled[key] = compiled
        return self._compiled[key]

    def run(self, inputs: Any, **kwargs: Any) -> tuple[Any, ...]:
        feeds = self._feeds(inputs)
        model = self._model_for(feeds)
        if self._specialized:
            feeds = {n: v for n, v in feeds.items() if n not in self._specialized}
        outputs = model.run(None, feeds)
        return namedtupledict("Outputs", self.output_names)(*outputs)


class CompilerBackend(Backend):
    """ONNX backend API over `compiler.compile` (CPU)."""

    @classmethod
    def supports_device(cls, device: str) -> bool:
        return _device_type(device) == DeviceType.CPU

    @classmethod
    def is_compatible(cls, model: ModelLike, device: str = "CPU", **kwargs: Any) -> bool:
        """Whether `prepare` can import the model: device, opset, op types, dtypes, attributes.

        Cheap checks first; then, when the input shapes are known, the model
        goes through the importer, which rejects unsupported attribute values
        too. Lowering is not tried (that is a whole compile).
        """
        from compiler import dtypes
        from compiler.frontend.onnx import MAX_OPSET, MIN_OPSET, import_onnx, supported_ops

        if not cls.supports_device(device):
            return False
        try:
            proto = _within_opsets(_load_proto(model))
        except CompilerError:
            return False
        version = _default_opset(proto)
        if version is None or not MIN_OPSET <= version <= MAX_OPSET:
            return False
        ops = set(supported_ops())
        graph = proto.graph
        if any(n.domain not in ("", "ai.onnx") or n.op_type not in ops for n in graph.node):
            return False
        elem_types = [vi.type.tensor_type.elem_type for vi in [*graph.input, *graph.output]]
        elem_types += [t.data_type for t in graph.initializer]
        for vi in [*graph.input, *graph.output]:
            if not vi.type.HasField("tensor_type"):
                return False  # sequences, maps, optionals
        for elem in elem_types:
            try:
                dtypes.from_onnx_dtype(elem)
            except CompilerError:
                return False
        shapes = kwargs.get("input_shapes")
        if not shapes and not all(_is_static(vi) for vi in _real_inputs(graph)):
            return True  # shapes come with the first run; the op checks above are all we can do
        try:
            import_onnx(proto, input_shapes=shapes)
        except ConstantInputError as err:
            return bool(err.graph_inputs)  # specialized on the first run
        except CompilerError:
            return False
        return True

    @classmethod
    def prepare(cls, model: ModelLike, device: str = "CPU", **kwargs: Any) -> CompilerBackendRep:
        if not cls.supports_device(device):
            raise CompilerError(f"device {device!r} is not supported", hint="use device='CPU'")
        proto = _load_proto(model)
        try:
            onnx.checker.check_model(proto)
            proto = _within_opsets(proto)
        except onnx.checker.ValidationError as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else "invalid"
            raise ModelLoadError(f"the ONNX checker rejects the model ({first[:200]})") from None
        options = {k: kwargs[k] for k in COMPILE_OPTIONS if k in kwargs}
        return CompilerBackendRep(proto, options, kwargs.get("input_shapes"))

    @classmethod
    def run_model(cls, model: ModelLike, inputs: Any, device: str = "CPU", **kwargs: Any) -> tuple[Any, ...]:
        return cls.prepare(model, device, **kwargs).run(inputs)

    @classmethod
    def run_node(
        cls,
        node: onnx.NodeProto,
        inputs: Any,
        device: str = "CPU",
        outputs_info: Sequence[tuple[np.dtype, tuple[int, ...]]] | None = None,
        **kwargs: Any,
    ) -> tuple[Any, ...]:
        """Runs one node: wraps it in a model (integer inputs become initializers) and compiles it."""
        model = node_model(node, inputs, outputs_info, kwargs.get("opset_version"))
        rep = cls.prepare(model, device, **{k: v for k, v in kwargs.items() if k != "opset_version"})
        outputs = rep.run(_float_feeds(node, inputs))
        return namedtupledict("Outputs", [n for n in node.output if n])(*outputs)


def _named_inputs(node: onnx.NodeProto, inputs: Any) -> list[tuple[str, np.ndarray]]:
    names = [n for n in node.input if n]
    if isinstance(inputs, Mapping):
        return [(n, np.asarray(inputs[n])) for n in names]
    arrays = list(inputs)
    if len(arrays) != len(names):
        raise InputError(f"node has {len(names)} inputs {names}, got {len(arrays)} arrays")
    return [(n, np.asarray(a)) for n, a in zip(names, arrays, strict=True)]


def _is_graph_input(array: np.ndarray) -> bool:
    # ONNX ops read shapes, axes, indices and pads from integer inputs, and the
    # importer needs those constant; float and bool data stay real inputs.
    return array.dtype.kind in "fb"


def _float_feeds(node: onnx.NodeProto, inputs: Any) -> dict[str, np.ndarray]:
    return {n: a for n, a in _named_inputs(node, inputs) if _is_graph_input(a)}


def node_model(
    node: onnx.NodeProto,
    inputs: Any,
    outputs_info: Sequence[tuple[Any, Sequence[int]]] | None = None,
    opset_version: int | None = None,
) -> onnx.ModelProto:
    """A model holding `node` alone; integer inputs are initializers, the rest graph inputs."""
    from onnx import helper, numpy_helper

    from compiler.frontend.onnx import MAX_OPSET

    graph_inputs, initializers = [], []
    for name, array in _named_inputs(node, inputs):
        if _is_graph_input(array):
            elem = helper.np_dtype_to_tensor_dtype(array.dtype)
            graph_inputs.append(helper.make_tensor_value_info(name, elem, array.shape))
        else:
            initializers.append(numpy_helper.from_array(array, name))
    out_names = [n for n in node.output if n]
    if outputs_info is not None and len(outputs_info) == len(out_names):
        outputs = [
            helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(np.dtype(dt)), shape)
            for n, (dt, shape) in zip(out_names, outputs_info, strict=True)
        ]
    else:
        outputs = [helper.make_empty_tensor_value_info(n) for n in out_names]
    opset = opset_version or min(onnx.defs.onnx_opset_version(), MAX_OPSET)
    graph = helper.make_graph([node], f"{node.op_type}_node", graph_inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    if outputs_info is None:
        # Give the outputs their types where ONNX can infer them (the checker wants them).
        try:
            inferred = onnx.shape_inference.infer_shapes(model)
            by_name = {vi.name: vi for vi in inferred.graph.output}
            known = {vi.name: vi for vi in inferred.graph.value_info}
            for i, vi in enumerate(model.graph.output):
                found = known.get(vi.name) or by_name.get(vi.name)
                if found is not None and found.type.HasField("tensor_type"):
                    model.graph.output[i].CopyFrom(found)
        except Exception:  # inference is best effort; the importer computes types itself
            pass
    return model


# The module works as a backend too: `BackendTest(compiler.onnx_backend, __name__)`.
is_compatible = CompilerBackend.is_compatible
prepare = CompilerBackend.prepare
run_model = CompilerBackend.run_model
run_node = CompilerBackend.run_node
supports_device = CompilerBackend.supports_device
