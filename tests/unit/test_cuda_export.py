"""Exported CUDA models (compiler/targets/cuda/export.py): written without a GPU, read back intact,
refused in one line by `compiler.load` where there is no GPU, and run where there is one."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import compiler
from compiler.errors import ModelLoadError
from compiler.targets.cuda import nvrtc
from compiler.targets.cuda.export import export_plan, is_cuda_export, read_export
from compiler.targets.cuda.launch import cuda_device_available, pick_image
from compiler.targets.cuda.launch_table import plan_to_json
from compiler.targets.cuda.pipeline import cuda_module
from compiler.targets.cuda.plan import build_plan, run_interpreted

needs_nvrtc = pytest.mark.skipif(not nvrtc.available(), reason="NVRTC is not installed (the 'cuda' extra)")
RNG = np.random.default_rng(2)


def _model() -> onnx.ModelProto:
    """Conv + Relu, then a softmax over rows (a warp-shuffle kernel), with weights."""
    w = RNG.standard_normal((4, 3, 3, 3)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("Softmax", ["r"], ["y"], axis=-1),
    ]
    graph = helper.make_graph(
        nodes, "export", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 6, 40])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [numpy_helper.from_array(w, "w")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    if not nvrtc.available():
        pytest.skip("NVRTC is not installed (the 'cuda' extra)")
    module = cuda_module(_model())
    plan = build_plan(module)
    path = plan.export(tmp_path_factory.mktemp("cuda") / "model.cudamodel")
    return plan, module, path


@needs_nvrtc
def test_export_round_trips_the_plan_and_the_cubins(exported: tuple) -> None:
    plan, _, path = exported
    assert is_cuda_export(path)
    back = read_export(path)
    assert back.archs == list(nvrtc.ARCHITECTURES)
    assert back.meta["target"] == "cuda"
    assert plan_to_json(back.plan) == plan_to_json(plan)
    assert back.plan.params == plan.params and back.plan.source == plan.source
    assert [s.name for s in back.plan.inputs] == ["x"] and back.plan.outputs[0].shape == (1, 4, 6, 40)
    for arch in nvrtc.ARCHITECTURES:
        cubin = back.images[arch]
        assert cubin[:4] == b"\x7fELF"
        assert cubin == nvrtc.compile_cuda(plan.source, arch, name="model.cudamodel.cu").cubin  # NVRTC is deterministic
        ptx = back.images[f"{arch}.ptx"].decode()
        assert f".target {arch}" in ptx
        for kernel in back.plan.kernels.values():
            for launch in kernel.launches:
                assert f".entry {launch.function}(" in ptx
    assert "__shfl_xor_sync" in back.plan.source


@needs_nvrtc
def test_the_loaded_plan_runs_like_the_original(exported: tuple) -> None:
    """The file's launch table and memory plan, run in the loop interpreter, give the original's output."""
    plan, module, path = exported
    back = read_export(path)
    x = RNG.standard_normal((1, 3, 6, 40)).astype(np.float32)
    want = run_interpreted(plan, module, {"x": x})
    got = run_interpreted(back.plan, module, {"x": x})  # type: ignore[arg-type]
    np.testing.assert_array_equal(got["y"], want["y"])
    np.testing.assert_allclose(want["y"].sum(axis=-1), 1.0, rtol=1e-5)


def test_the_device_image_is_its_cubin_else_the_newest_ptx_below_it() -> None:
    images = {"sm_80": b"A", "sm_90": b"B", "sm_80.ptx": b"P80", "sm_90.ptx": b"P90"}
    assert pick_image(images, "sm_90") == b"B"
    assert pick_image(images, "sm_86") == b"P80\0"
    assert pick_image(images, "sm_100") == b"P90\0"
    assert pick_image(images, "sm_75") is None


@needs_nvrtc
def test_load_without_a_gpu_is_one_line(exported: tuple) -> None:
    if cuda_device_available():
        pytest.skip("this machine has a GPU: the load succeeds (see test_load_and_run_on_a_gpu)")
    _, _, path = exported
    with pytest.raises(ModelLoadError) as err:
        compiler.load(path)
    message = str(err.value)
    assert "\n" not in message
    assert "needs an NVIDIA GPU" in message and "sm_80, sm_90" in message and str(path) in message
    # the command line: one line on stderr, exit status 1, no traceback
    cli = Path(sys.executable).parent / "compiler"
    done = subprocess.run([str(cli), "run", str(path)], capture_output=True, text=True)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "needs an NVIDIA GPU" in done.stderr
    # compiler.load of a CUDA model needs neither xDSL nor NVRTC
    probe = f"import sys, compiler\ntry:\n    compiler.load({str(path)!r})\nexcept compiler.errors.ModelLoadError:\n    pass\n" \
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'xdsl', 'nvidia'}))"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip() == "[]"


@needs_nvrtc
def test_load_and_run_on_a_gpu(exported: tuple) -> None:
    if not cuda_device_available():
        pytest.skip("no NVIDIA GPU or driver on this machine: the launch is tested on a GPU machine")
    plan, module, path = exported
    model = compiler.load(path)
    x = RNG.standard_normal((1, 3, 6, 40)).astype(np.float32)
    (y,) = model.run(None, {"x": x})
    np.testing.assert_allclose(y, run_interpreted(plan, module, {"x": x})["y"], rtol=1e-4, atol=1e-6)


def _rewrite(source: Path, target: Path, edit: dict[str, bytes | None]) -> Path:
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as out:
        for name in src.namelist():
            if name in edit:
                if edit[name] is not None:
                    out.writestr(name, edit[name])
            else:
                out.writestr(name, src.read(name))
    return target


@needs_nvrtc
def test_damaged_files_are_one_line_errors(exported: tuple, tmp_path: Path) -> None:
    _, _, path = exported
    meta = json.loads(zipfile.ZipFile(path).read("model.json"))
    cases = {
        "no_cubin": ({"sm_90.cubin": None}, "lists sm_90.cubin, which it does not hold"),
        "no_params": ({"params.bin": None}, "no params.bin in it"),
        "version": ({"model.json": json.dumps({**meta, "version": 99}).encode()}, "format version 99"),
        "short_params": ({"params.bin": b"\0" * 8}, "the weights are 8 bytes"),
        "not_elf": ({"sm_80.cubin": b"garbage"}, "sm_80 cubin is not an ELF image"),
    }
    for label, (edit, expected) in cases.items():
        damaged = _rewrite(path, tmp_path / f"{label}.cudamodel", edit)
        with pytest.raises(ModelLoadError, match=expected) as err:
            read_export(damaged)
        assert "\n" not in str(err.value)
    truncated = tmp_path / "truncated.cudamodel"
    truncated.write_bytes(path.read_bytes()[:200])
    assert not is_cuda_export(truncated)
    with pytest.raises(ModelLoadError, match="cannot read the CUDA model"):
        read_export(truncated)


def test_export_without_nvrtc_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = build_plan(cuda_module(_model()))

    def missing(*_: object, **__: object) -> None:
        raise nvrtc.NvrtcError("NVRTC is not installed", hint="pip install 'compiler[cuda]'")

    monkeypatch.setattr(nvrtc, "compile_cuda", missing)
    with pytest.raises(nvrtc.NvrtcError, match="NVRTC is not installed"):
        export_plan(plan, tmp_path / "m.cudamodel")
    assert list(tmp_path.iterdir()) == []  # nothing half-written
