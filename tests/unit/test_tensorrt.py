"""The TensorRT target: the ONNX export of the optimized graph, and engines built from it.

- export: models go through the export pipeline and out as ONNX, checked
  by onnx.checker (types and shapes included) and run by onnxruntime, which
  must give the original model's results within 1e-4 (relative to the
  largest output). CI exports SqueezeNet and the BERT encoder; `make
  onnx-export` all nine light models and the encoder
  (COMPILER_ONNX_EXPORT_ALL_MODELS=1). ONNX node test cases chosen for the
  converters that do more than rename an op (slices with negative steps,
  reductions, TopK, scatter, pads, ...) run through the export too.
- tensorrt: without the wheel or a GPU, `compile(target="tensorrt")` fails
  with one line, tested here. With both, engines are built and compared
  with onnxruntime on the CPU (fp32 within 1e-3, fp16 within 1e-2); those
  tests skip, saying why, on machines without them.
"""

from __future__ import annotations

import os
import re
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import compiler
from compiler.driver import precision_pipeline
from compiler.errors import CompilerError
from compiler.frontend.onnx import import_onnx
from compiler.targets.tensorrt import engine
from compiler.targets.tensorrt.onnx_export import OPSET, OnnxExportError, export_model, export_onnx
from compiler.testing.models import LIGHT_MODELS, bert_model_path, random_inputs, seeded_light_model
from compiler.tools.cli import main as cli_main

ort = pytest.importorskip("onnxruntime")

_ALL = os.environ.get("COMPILER_ONNX_EXPORT_ALL_MODELS") == "1"
MODELS = [*LIGHT_MODELS, "bert_tiny"] if _ALL else ["squeezenet", "bert_tiny"]


def _model(name: str) -> onnx.ModelProto:
    return onnx.load(str(bert_model_path())) if name == "bert_tiny" else seeded_light_model(name)


def _ort(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def _relative(expected: np.ndarray, actual: np.ndarray) -> float:
    scale = max(float(np.max(np.abs(expected))), 1e-30)
    return float(np.max(np.abs(expected.astype(np.float64) - actual.astype(np.float64)))) / scale


def _assert_close(expected: list[np.ndarray], actual: list[np.ndarray], tolerance: float) -> None:
    assert len(expected) == len(actual)
    for want, got in zip(expected, actual, strict=True):
        assert want.shape == got.shape and want.dtype == got.dtype, (want.shape, want.dtype, got.shape, got.dtype)
        assert _relative(want, got) <= tolerance


# --- the export, checked by onnxruntime ------------------------------------------------


@pytest.mark.parametrize("name", MODELS)
def test_export_matches_onnxruntime(name: str) -> None:
    model = _model(name)
    feeds = random_inputs(model)
    exported = export_model(model)
    onnx.checker.check_model(exported, full_check=True)
    assert exported.opset_import[0].version == OPSET
    ops = {node.op_type for node in exported.graph.node}
    assert "BatchNormalization" not in ops and "Dropout" not in ops  # folded / removed before export
    assert [i.name for i in exported.graph.input] == list(feeds)
    assert [o.name for o in exported.graph.output] == [o.name for o in model.graph.output]
    _assert_close(_ort(model, feeds), _ort(exported, feeds), 1e-4)


def test_export_of_fused_groups() -> None:
    """A module past fuse-ops (O2: fused groups, explicit pads, flat 1x1 convs) exports as the ops it holds."""
    from compiler.api import run_pipeline

    model = _model("squeezenet")
    module = import_onnx(model)
    run_pipeline(module, "graph-optimize{level=2}")
    feeds = random_inputs(model)
    _assert_close(_ort(model, feeds), _ort(export_onnx(module), feeds), 1e-4)


def test_export_fp16_keeps_float_io_and_stays_close() -> None:
    """fp16 is in the ONNX types (what a strongly typed TensorRT network follows)."""
    model = _model("bert_tiny")
    feeds = random_inputs(model)
    exported = export_model(model, before=precision_pipeline("fp16"))
    halves = [t for t in exported.graph.initializer if t.data_type == TensorProto.FLOAT16]
    assert halves and any(n.op_type == "Cast" for n in exported.graph.node)
    assert [o.type.tensor_type.elem_type for o in exported.graph.output] == [TensorProto.FLOAT] * 2
    _assert_close(_ort(model, feeds), _ort(exported, feeds), 1e-2)


# ONNX node test cases whose conversion is more than a renamed op.
NODE_CASES = [
    "test_slice_neg_steps", "test_slice_negative_axes", "test_slice_start_out_of_bounds",
    "test_reflect_pad", "test_edge_pad", "test_constant_pad",
    "test_reduce_max_do_not_keepdims_example", "test_reduce_mean_keepdims_example",
    "test_reduce_sum_empty_axes_input_noop_example",
    "test_argmax_keepdims_example_select_last_index", "test_argmin_no_keepdims_example",
    "test_top_k", "test_top_k_smallest", "test_cumsum_1d_reverse_exclusive",
    "test_scatter_elements_with_reduction_max", "test_gather_elements_negative_indices",
    "test_layer_normalization_4d_axis1", "test_mod_mixed_sign_float32", "test_mod_mixed_sign_int32",
    "test_clip_default_min", "test_clip", "test_expand_dim_changed", "test_where_example",
    "test_maxpool_2d_dilations", "test_averagepool_2d_pads", "test_hardsigmoid", "test_lrn",
    "test_roialign_aligned_true", "test_reshape_reordered_all_dims", "test_cast_FLOAT_to_FLOAT16",
]


@pytest.fixture(scope="module")
def node_cases() -> dict[str, object]:
    from compiler.testing.conformance import collect_from_modules

    modules = ["slice", "pad", "reducemax", "reducemean", "reducesum", "argmax", "argmin", "topk", "cumsum",
               "scatterelements", "gatherelements", "layernormalization", "mod", "clip", "expand", "where",
               "maxpool", "averagepool", "hardsigmoid", "lrn", "roialign", "reshape", "cast"]
    return collect_from_modules(modules)


@pytest.mark.parametrize("case_name", NODE_CASES)
def test_export_node_case(case_name: str, node_cases: dict[str, object]) -> None:
    _check_node_case(node_cases[case_name])


def _check_node_case(case: object) -> None:
    """Import (specializing shape operands), export, run in onnxruntime, compare with the case's outputs."""
    from onnx.backend.test.runner import Runner

    from compiler.errors import ConstantInputError
    from compiler.testing.conformance import _normalize

    model = case.model  # type: ignore[attr-defined]
    inputs, refs = case.data_sets[0]  # type: ignore[attr-defined]
    names = [i.name for i in model.graph.input][: len(inputs)]
    feeds = {n: np.asarray(_normalize(x)) for n, x in zip(names, inputs, strict=True)}
    specialize: dict[str, np.ndarray] = {}
    while True:  # shape operands (Reshape's, Pad's, ...) become constants, as onnx_backend does
        try:
            import_onnx(model, input_shapes={n: v.shape for n, v in feeds.items() if n not in specialize},
                        specialize=specialize or None)
            break
        except ConstantInputError as err:
            assert not set(err.graph_inputs) & set(specialize)
            specialize.update({n: feeds[n] for n in err.graph_inputs})
    shapes = {n: v.shape for n, v in feeds.items() if n not in specialize}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exported = export_model(model, input_shapes=shapes, specialize=specialize or None)
    got = _ort(exported, {n: v for n, v in feeds.items() if n not in specialize})
    Runner.assert_similar_outputs([_normalize(r) for r in refs], got, rtol=case.rtol, atol=case.atol)  # type: ignore[attr-defined]


def test_export_keeps_model_names_apart_from_its_own() -> None:
    """Inputs and outputs named like the export's intermediate values, an output that is an input,
    and one value returned twice."""
    nodes = [helper.make_node("Relu", ["v_1"], ["v_2"]), helper.make_node("Neg", ["v_2"], ["const_3"])]
    graph = helper.make_graph(
        [*nodes, helper.make_node("Identity", ["v_1"], ["same"]), helper.make_node("Identity", ["const_3"], ["again"])],
        "names", [helper.make_tensor_value_info("v_1", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2, 3]) for n in ("v_2", "const_3", "same", "again")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    feeds = {"v_1": np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)}
    exported = export_model(model)
    assert [o.name for o in exported.graph.output] == ["v_2", "const_3", "same", "again"]
    _assert_close(_ort(model, feeds), _ort(exported, feeds), 0.0)


@pytest.mark.skipif(os.environ.get("COMPILER_ONNX_EXPORT_CONFORMANCE") != "1",
                    reason="the sweep takes minutes: make onnx-export (COMPILER_ONNX_EXPORT_CONFORMANCE=1)")
def test_export_conformance_sweep() -> None:
    """Every ONNX node case that the compiler passes (tests/conformance/passing.txt) through the
    export: each matches its reference in onnxruntime, or is refused with one OnnxExportError
    line, or needs a kernel onnxruntime lacks (bf16, int16 Max, uint64 TopK: valid ONNX all the same).
    On onnx 1.23 / onnxruntime 1.32: 1436 match, 53 refused, 26 without a kernel."""
    from compiler.testing.conformance import collect_cases, read_case_list

    passing = set(read_case_list(str(Path(__file__).resolve().parents[1] / "conformance" / "passing.txt")))
    matched, refused, failures = 0, 0, []
    for case in collect_cases(None):
        if case.name not in passing:
            continue
        try:
            _check_node_case(case)
            matched += 1
        except OnnxExportError:
            refused += 1
        except CompilerError:
            pass  # needs a value the first data set does not give (as the backend's own runs)
        except Exception as err:  # collected, reported together
            text = " ".join(str(err).split())
            if "NOT_IMPLEMENTED" not in text and "Numpy" not in text and "MLDataType" not in text:
                failures.append(f"{case.name}: {type(err).__name__}: {text[:200]}")
    assert not failures, "\n".join(failures)
    assert matched > 1400 and refused < 60


# --- what cannot be exported --------------------------------------------------------


def _graph_module(text: str) -> object:
    from xdsl.context import Context
    from xdsl.parser import Parser

    from compiler import registry

    ctx = Context()
    for name, factory in registry.all_dialects().items():
        ctx.register_dialect(name, factory)
    return Parser(ctx, text).parse_module()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("%r = graph.cumprod %x {axis = 0 : i64, exclusive = 0 : i64, reverse = 0 : i64} : (tensor<6xf32>) -> tensor<6xf32>",
         "'graph.cumprod' cannot be exported to ONNX: ONNX has no CumProd up to opset 18; compile it with target='cpu' or 'cuda'"),
        ("%r = graph.layout_transform %x {src_layout = \"NCHW\", dst_layout = \"NCHW2c\"} : (tensor<6xf32>) -> tensor<6xf32>",
         None),
    ],
)
def test_export_refuses_with_one_line(body: str, message: str | None) -> None:
    if message is None:  # a CPU-only op, built directly (its verifier wants NCHW shapes)
        from compiler.dialects import graph as g

        module = _graph_module("func.func @main(%x: tensor<1x4x2x2xf32>) -> tensor<1x2x2x2x2xf32> {\n"
                               "  %r = graph.layout_transform %x {src_layout = \"NCHW\", dst_layout = \"NCHW2c\"} "
                               ": (tensor<1x4x2x2xf32>) -> tensor<1x2x2x2x2xf32>\n"
                               "  func.return %r : tensor<1x2x2x2x2xf32>\n}")
        assert any(isinstance(op, g.LayoutTransformOp) for op in module.walk())  # type: ignore[attr-defined]
        message = "'graph.layout_transform' cannot be exported to ONNX: it is a CPU schedule's op"
    else:
        module = _graph_module(f"func.func @main(%x: tensor<6xf32>) -> tensor<6xf32> {{\n  {body}\n"
                               "  func.return %r : tensor<6xf32>\n}")
    with pytest.raises(OnnxExportError) as info:
        export_onnx(module)  # type: ignore[arg-type]
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_export_refuses_padded_outputs() -> None:
    model = onnx.load(str(Path(__file__).resolve().parents[1] / "models" / "detector_tiny.onnx"))
    with pytest.raises(OnnxExportError, match=r"^output 0 has a data-dependent length"):
        export_model(model)


# --- the command lines ----------------------------------------------------------------


def test_cli_export_onnx(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "bert.onnx"
    source.write_bytes(bert_model_path().read_bytes())
    out = tmp_path / "bert.opt.onnx"
    assert cli_main(["export-onnx", str(source), "-o", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    exported = onnx.load(str(out))
    feeds = random_inputs(source)
    _assert_close(_ort(onnx.load(str(source)), feeds), _ort(exported, feeds), 1e-4)


def test_cli_export_onnx_failure_leaves_no_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = Path(__file__).resolve().parents[1] / "models" / "detector_tiny.onnx"
    out = tmp_path / "det.onnx"
    assert cli_main(["export-onnx", str(source), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("compiler: error: output 0 has a data-dependent length") and err.count("\n") == 1
    assert not out.exists() and not list(tmp_path.iterdir())


# --- target="tensorrt" ----------------------------------------------------------------


def _tiny_model() -> onnx.ModelProto:
    w = numpy_helper.from_array(np.ones((2, 3), np.float32), "w")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "tiny",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], [w])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_tensorrt_without_the_wheel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tensorrt", None)  # `import tensorrt` raises ImportError
    with pytest.raises(engine.TensorRTError) as info:
        compiler.compile(_tiny_model(), target="tensorrt")
    text = str(info.value)
    assert text.startswith("target='tensorrt' needs the tensorrt wheel")
    assert text.endswith("; pip install 'compiler[tensorrt]'") and "\n" not in text


def test_tensorrt_without_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tensorrt", types.ModuleType("tensorrt"))
    monkeypatch.setattr(engine, "cuda_device_available", lambda: False)
    with pytest.raises(engine.TensorRTError) as info:
        compiler.compile(_tiny_model(), target="tensorrt")
    assert str(info.value).startswith(
        "target='tensorrt' needs an NVIDIA GPU and its driver, and this machine has none; "
        "`compiler export-onnx MODEL.onnx -o OUT.onnx`"
    )


def test_tensorrt_bad_precision_is_one_line() -> None:
    with pytest.raises(CompilerError, match=r"^precision 'int4' does not exist; use fp32, fp16 or bf16$"):
        compiler.compile(_tiny_model(), target="tensorrt", precision="int4")


def test_unknown_target_names_tensorrt() -> None:
    with pytest.raises(CompilerError, match=r"use target='cpu', 'cuda' or 'tensorrt'"):
        compiler.compile(_tiny_model(), target="tpu")


def test_engine_cache(tmp_path: Path) -> None:
    store = engine.EngineCache(tmp_path)
    key = engine.engine_key(b"onnx", "10.9.0", "NVIDIA H200 sm_90", ["strongly-typed", "precision=fp32"])
    assert store.get(key) is None
    store.put(key, b"engine bytes")
    assert store.get(key) == b"engine bytes"
    entry = tmp_path / "tensorrt" / f"{key}.engine"
    entry.write_bytes(entry.read_bytes()[:-3])  # truncated on disk: a miss, and removed
    assert store.get(key) is None and not entry.exists()
    others = {
        engine.engine_key(b"onnx2", "10.9.0", "NVIDIA H200 sm_90", ["strongly-typed", "precision=fp32"]),
        engine.engine_key(b"onnx", "11.4.0", "NVIDIA H200 sm_90", ["strongly-typed", "precision=fp32"]),
        engine.engine_key(b"onnx", "10.9.0", "NVIDIA A100 sm_80", ["strongly-typed", "precision=fp32"]),
        engine.engine_key(b"onnx", "10.9.0", "NVIDIA H200 sm_90", ["strongly-typed", "precision=fp16"]),
    }
    assert key not in others and len(others) == 4
    assert engine.EngineCache(None).directory is not None  # COMPILER_CACHE_DIR or ~/.cache/compiler


_NO_TENSORRT = "needs the tensorrt wheel ('compiler[tensorrt]') and an NVIDIA GPU"


@pytest.mark.skipif(not engine.tensorrt_available(), reason=_NO_TENSORRT)
@pytest.mark.parametrize("precision", ["fp32", "fp16"])
@pytest.mark.parametrize("name", ["squeezenet", "bert_tiny"])
def test_tensorrt_matches_onnxruntime(name: str, precision: str, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPILER_CACHE_DIR", str(tmp_path))
    model = _model(name)
    feeds = random_inputs(model)
    expected = _ort(model, feeds)
    trt_model = compiler.compile(model, target="tensorrt", precision=precision)
    tolerance = 1e-3 if precision == "fp32" else 1e-2
    _assert_close(expected, trt_model.run(None, feeds), tolerance)
    assert len(list((tmp_path / "tensorrt").glob("*.engine"))) == 1

    def no_build(*args: object) -> bytes:
        raise AssertionError("the engine should come from the cache")

    monkeypatch.setattr(engine, "build_engine", no_build)
    again = compiler.compile(model, target="tensorrt", precision=precision)
    _assert_close(expected, again.run(None, feeds), tolerance)


# --- the build and cache flow, with a stand-in for the tensorrt module ------------------
# (the real one needs a GPU; these check what this compiler does around it)


class _FakeError:
    def __init__(self, node: str, op: str, desc: str) -> None:
        self._node, self._op, self._desc = node, op, desc

    def node_name(self) -> str:
        return self._node

    def node_operator(self) -> str:
        return self._op

    def desc(self) -> str:
        return self._desc


def _fake_tensorrt(parse_error: _FakeError | None = None, build_error: str | None = None) -> types.ModuleType:
    """Parses by keeping the ONNX bytes, builds an "engine" that is those bytes, and counts builds."""
    trt = types.ModuleType("tensorrt")
    trt.__version__ = "11.4.0.fake"  # type: ignore[attr-defined]
    trt.builds = []  # type: ignore[attr-defined]

    class Levels:
        INTERNAL_ERROR, ERROR, WARNING, INFO = 0, 1, 2, 3

    class ILogger:
        Severity = Levels

        def __init__(self) -> None:
            pass

    class Flags:
        STRONGLY_TYPED = 1

    class Network:
        def __init__(self, flags: int) -> None:
            self.flags, self.onnx = flags, b""

    class BuilderFlag:
        TF32 = "tf32"

    class Config:
        def __init__(self) -> None:
            self.flags = {BuilderFlag.TF32}

        def clear_flag(self, flag: str) -> None:
            self.flags.discard(flag)

    class OnnxParser:
        def __init__(self, network: Network, logger: ILogger) -> None:
            self.network = network
            self.num_errors = 0 if parse_error is None else 1

        def parse(self, data: bytes) -> bool:
            self.network.onnx = data
            return parse_error is None

        def get_error(self, i: int) -> _FakeError:
            assert parse_error is not None
            return parse_error

    class Builder:
        def __init__(self, logger: ILogger) -> None:
            self.logger = logger

        def create_network(self, flags: int) -> Network:
            return Network(flags)

        def create_builder_config(self) -> Config:
            return Config()

        def build_serialized_network(self, network: Network, config: Config) -> bytes | None:
            if build_error is not None:
                self.logger.log(Levels.ERROR, build_error)  # type: ignore[attr-defined]
                return None
            trt.builds.append((network.flags, sorted(config.flags)))  # type: ignore[attr-defined]
            return network.onnx

    trt.ILogger = ILogger  # type: ignore[attr-defined]
    trt.NetworkDefinitionCreationFlag = Flags  # type: ignore[attr-defined]
    trt.OnnxParser = OnnxParser  # type: ignore[attr-defined]
    trt.BuilderFlag = BuilderFlag  # type: ignore[attr-defined]
    trt.Builder = Builder  # type: ignore[attr-defined]
    return trt


class _OrtEngineModel:
    """Stands in for TensorRTModel: runs the "engine" (the exported ONNX) in onnxruntime."""

    def __init__(self, engine_bytes: bytes, inputs: list, outputs: list, device: int = 0) -> None:
        self.model, self.inputs, self.outputs = onnx.load_from_string(engine_bytes), inputs, outputs

    def run(self, names: object, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        return _ort(self.model, feeds)


def _fake_gpu(monkeypatch: pytest.MonkeyPatch, trt: types.ModuleType, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "tensorrt", trt)
    monkeypatch.setattr(engine, "require_gpu", lambda: None)
    monkeypatch.setattr(engine, "device_description", lambda device=0: "Fake GPU sm_90")
    monkeypatch.setattr(engine, "TensorRTModel", _OrtEngineModel)
    monkeypatch.setenv("COMPILER_CACHE_DIR", str(tmp_path))


def test_engine_build_and_cache_flow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trt = _fake_tensorrt()
    _fake_gpu(monkeypatch, trt, tmp_path)
    model = _model("bert_tiny")
    feeds = random_inputs(model)
    expected = _ort(model, feeds)
    first = compiler.compile(model, target="tensorrt")
    assert trt.builds == [(1 << 1, [])]  # type: ignore[attr-defined]  # strongly typed, no TF32
    assert [s.name for s in first.inputs] == list(feeds)  # type: ignore[attr-defined]
    assert [(s.shape, s.dtype) for s in first.outputs] == [((1, 16, 64), "float32"), ((1, 64), "float32")]  # type: ignore[attr-defined]
    _assert_close(expected, first.run(None, feeds), 1e-4)  # type: ignore[arg-type]
    exported = engine.export_model

    def no_export(*args: object, **kwargs: object) -> onnx.ModelProto:
        raise AssertionError("an unchanged model should load its engine without an export")

    monkeypatch.setattr(engine, "export_model", no_export)
    again = compiler.compile(model, target="tensorrt")  # from the cache, through the .link entry
    assert len(trt.builds) == 1  # type: ignore[attr-defined]
    assert [(s.name, s.shape, s.dtype) for s in again.outputs] == [  # type: ignore[attr-defined]
        (s.name, s.shape, s.dtype) for s in first.outputs]  # type: ignore[attr-defined]
    monkeypatch.setattr(engine, "export_model", exported)
    for link in (tmp_path / "tensorrt").glob("*.link"):  # a damaged link: exported again, engine from the cache
        link.write_bytes(b"junk")
    compiler.compile(model, target="tensorrt")
    assert len(trt.builds) == 1  # type: ignore[attr-defined]
    half = compiler.compile(model, target="tensorrt", precision="fp16")  # another key: built again
    assert trt.builds[-1] == (1 << 1, ["tf32"])  # type: ignore[attr-defined]
    assert len(trt.builds) == 2 and len(list((tmp_path / "tensorrt").glob("*.engine"))) == 2  # type: ignore[attr-defined]
    _assert_close(expected, half.run(None, feeds), 1e-2)  # type: ignore[arg-type]
    compiler.compile(model, target="tensorrt", cache=False)  # no cache: built, nothing stored
    assert len(trt.builds) == 3 and len(list((tmp_path / "tensorrt").glob("*.engine"))) == 2  # type: ignore[attr-defined]


def test_engine_parser_error_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_gpu(monkeypatch, _fake_tensorrt(parse_error=_FakeError("MatMul_0", "MatMul", "no\nkernel")), tmp_path)
    with pytest.raises(engine.TensorRTError) as info:
        compiler.compile(_tiny_model(), target="tensorrt")
    assert str(info.value) == ("TensorRT's ONNX parser refused the exported model: node 'MatMul_0' (MatMul): "
                               "no kernel; compile the model with target='cuda' or 'cpu'")


def test_engine_build_error_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_gpu(monkeypatch, _fake_tensorrt(build_error="out of workspace"), tmp_path)
    with pytest.raises(engine.TensorRTError) as info:
        compiler.compile(_tiny_model(), target="tensorrt")
    assert str(info.value) == "TensorRT could not build an engine: out of workspace; compile the model with target='cuda' or 'cpu'"
    assert not list(tmp_path.rglob("*.engine"))


class _FakeDriver:
    """libcuda's calls that TensorRTModel makes, on host memory (device pointers are dict keys)."""

    def __init__(self) -> None:
        self.memory: dict[int, bytearray] = {}
        self.next = 0x1000

    def __getattr__(self, name: str) -> object:
        return lambda *args: 0  # cuDeviceGet, cuCtxSetCurrent, cuStreamSynchronize, ...: success

    def cuMemAlloc_v2(self, pointer: object, size: object) -> int:
        target = pointer._obj  # type: ignore[attr-defined]  # ctypes.byref(c_uint64)
        target.value = self.next
        self.memory[self.next] = bytearray(size.value)  # type: ignore[attr-defined]
        self.next += 0x1000
        return 0

    def cuMemcpyHtoD_v2(self, pointer: object, raw: bytes, size: object) -> int:
        self.memory[pointer.value][: size.value] = raw  # type: ignore[attr-defined]
        return 0

    def cuMemcpyDtoH_v2(self, dst: object, pointer: object, size: object) -> int:
        import ctypes

        data = bytes(self.memory[pointer.value][: size.value])  # type: ignore[attr-defined]
        ctypes.memmove(dst, data, len(data))
        return 0


def _fake_runtime(trt: types.ModuleType, driver: _FakeDriver) -> None:
    """An "engine" that is the exported ONNX, run by onnxruntime on the fake device memory."""

    class Context:
        def __init__(self, engine: Engine) -> None:
            self.engine, self.addresses = engine, {}

        def set_tensor_address(self, name: str, address: int) -> bool:
            self.addresses[name] = address
            return name in self.engine.types

        def execute_async_v3(self, stream: int) -> bool:
            feeds = {}
            for value in self.engine.model.graph.input:
                shape = [d.dim_value for d in value.type.tensor_type.shape.dim]
                raw = bytes(driver.memory[self.addresses[value.name]])
                feeds[value.name] = np.frombuffer(raw, self.engine.types[value.name]).reshape(shape)
            for value, out in zip(self.engine.model.graph.output, _ort(self.engine.model, feeds), strict=True):
                driver.memory[self.addresses[value.name]][:] = out.tobytes()
            return True

    class Engine:
        def __init__(self, data: bytes) -> None:
            self.model = onnx.load_from_string(data)
            values = [*self.model.graph.input, *self.model.graph.output]
            self.types = {v.name: onnx.helper.tensor_dtype_to_np_dtype(v.type.tensor_type.elem_type) for v in values}

        def get_tensor_dtype(self, name: str) -> np.dtype:
            return self.types[name]

        def create_execution_context(self) -> Context:
            return Context(self)

    class Runtime:
        def __init__(self, logger: object) -> None:
            pass

        def deserialize_cuda_engine(self, data: bytes) -> Engine:
            return Engine(data)

    trt.Runtime = Runtime  # type: ignore[attr-defined]
    trt.nptype = np.dtype  # type: ignore[attr-defined]


def _fake_device(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> _FakeDriver:
    """A fake tensorrt module and libcuda under the real TensorRTModel."""
    trt = _fake_tensorrt()
    driver = _FakeDriver()
    _fake_runtime(trt, driver)
    monkeypatch.setitem(sys.modules, "tensorrt", trt)
    monkeypatch.setattr(engine, "require_gpu", lambda: None)
    monkeypatch.setattr(engine, "device_description", lambda device=0: "Fake GPU sm_90")
    monkeypatch.setattr(engine, "_driver", lambda: driver)
    monkeypatch.setenv("COMPILER_CACHE_DIR", str(tmp_path))
    return driver


def test_engine_model_runs_through_device_buffers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """TensorRTModel's own steps (buffers per I/O tensor, copies in and out, the output order)."""
    driver = _fake_device(monkeypatch, tmp_path)
    model = _model("bert_tiny")
    feeds = random_inputs(model)
    compiled = compiler.compile(model, target="tensorrt")
    assert isinstance(compiled, engine.TensorRTModel) and len(driver.memory) == 4
    _assert_close(_ort(model, feeds), compiled.run(None, feeds), 1e-6)  # type: ignore[arg-type]
    pooled = compiled.run(["pooler_output"], feeds)
    assert [p.shape for p in pooled] == [(1, 64)]
    with pytest.raises(CompilerError, match=r"^unknown output 'nope'; outputs are"):
        compiled.run(["nope"], feeds)
    with pytest.raises(CompilerError, match=r"missing input 'attention_mask'"):
        compiled.run(None, {"input_ids": feeds["input_ids"]})


def test_cli_run_target_tensorrt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    model = str(bert_model_path())
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    assert cli_main(["run", model, "--target", "tensorrt", "--repeat", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("compiler: error: target='tensorrt' needs the tensorrt wheel") and err.count("\n") == 1
    _fake_device(monkeypatch, tmp_path)
    assert cli_main(["run", model, "--target", "tensorrt", "--repeat", "1", "--compare"]) == 0
    out = capsys.readouterr().out
    assert "output pooler_output: shape (1, 64) float32" in out
    errors = re.findall(r"compare (\w+): max relative error ([0-9.e+-]+)", out)
    assert [name for name, _ in errors] == ["last_hidden_state", "pooler_output"]
    assert all(float(e) < 1e-4 for _, e in errors) and "ratio onnxruntime/compiler" in out
    assert cli_main(["run", model, "--target", "tensorrt", "--profile"]) == 1
    assert "--profile times the CPU target's kernels" in capsys.readouterr().err
