"""Exported CUDA models: one file that `compiler.load` runs on a GPU machine without recompiling.

    model = compiler.compile("model.onnx", target="cuda")   # on a GPU machine
    model.export("model.cudamodel")                          # or plan.export(...) where there is none
    same = compiler.load("model.cudamodel")                  # on any GPU machine, without xDSL or NVRTC

The file is a zip archive (stored, so the weights are not recompressed):

- `model.json`: `format`/`version`, `target: "cuda"`, the architectures, and
  the plan (compiler/targets/cuda/launch_table.py): inputs and outputs, the
  kernels' launch table (function, grid, block), the calls in order with
  each operand's buffer (input, output, or a byte range of the weights or
  the arena), and the sizes of the weights and the arena;
- `params.bin`: the weights, uploaded once at load;
- `sm_80.cubin`, `sm_90.cubin`: what NVRTC assembled at export, loaded as
  they are on a device of that architecture; `sm_80.ptx`, `sm_90.ptx`: for
  newer devices, whose driver compiles the PTX;
- `kernels.cu`: the CUDA C, for reading (and NVRTC, when nothing else fits).

Exporting needs NVRTC but no GPU. Loading checks the file first, then the
GPU: on a machine without one it fails with one line (a `ModelLoadError`).
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.errors import CompilerError, ModelLoadError
from compiler.targets.cuda import nvrtc
from compiler.targets.cuda.launch_table import LoadedPlan, PlanLike, plan_from_json, plan_to_json

FORMAT = "compiler-cuda-model"
VERSION = 1
META, PARAMS, SOURCE = "model.json", "params.bin", "kernels.cu"


@dataclass
class CudaExport:
    """An exported model read back: its metadata, plan and compiled images."""

    meta: dict[str, Any]
    plan: LoadedPlan
    images: dict[str, bytes]
    """`sm_XX` -> cubin, `sm_XX.ptx` -> PTX."""

    @property
    def archs(self) -> list[str]:
        return list(self.meta["archs"])


def export_plan(plan: PlanLike, path: str | os.PathLike[str], archs: tuple[str, ...] | None = None) -> Path:
    """Compile the plan's CUDA C for `archs` (default sm_80, sm_90) and write the model file atomically."""
    archs = tuple(archs or nvrtc.ARCHITECTURES)
    out = Path(path)
    images: dict[str, bytes] = {}
    for arch in archs:
        binary = nvrtc.compile_cuda(plan.source, arch, name=f"{out.name}.cu")
        images[f"{arch}.cubin"] = binary.cubin
        images[f"{arch}.ptx"] = binary.ptx.encode()
    meta = {"format": FORMAT, "version": VERSION, "target": "cuda", "archs": list(archs), "plan": plan_to_json(plan)}
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr(META, json.dumps(meta, indent=1), zipfile.ZIP_DEFLATED)
            archive.writestr(SOURCE, plan.source, zipfile.ZIP_DEFLATED)
            archive.writestr(PARAMS, bytes(plan.params))
            for name, data in images.items():
                archive.writestr(name, data)
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return out


def is_cuda_export(path: str | os.PathLike[str]) -> bool:
    """Whether `path` is a file `export_plan` wrote (a zip archive with our metadata)."""
    p = Path(path)
    if not p.is_file() or not zipfile.is_zipfile(p):
        return False
    with zipfile.ZipFile(p) as archive:
        return META in archive.namelist()


def read_export(path: str | os.PathLike[str]) -> CudaExport:
    """The exported model at `path`, checked; ModelLoadError (one line) when it is not one or is damaged."""
    where = str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            missing = [n for n in (META, PARAMS, SOURCE) if n not in names]
            if missing:
                raise ModelLoadError(f"not a complete CUDA model: no {', '.join(missing)} in it", file=where,
                                     hint="export the model again")
            meta = json.loads(archive.read(META))
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise ModelLoadError("not a CUDA model exported by this compiler", file=where)
            if meta.get("version") != VERSION:
                raise ModelLoadError(f"CUDA model format version {meta.get('version')!r}, this compiler reads {VERSION}",
                                     file=where, hint="export it again with this compiler")
            archs = [str(a) for a in meta["archs"]]
            absent = [f"{a}.{ext}" for a in archs for ext in ("cubin", "ptx") if f"{a}.{ext}" not in names]
            if absent:
                raise ModelLoadError(f"the model lists {', '.join(absent)}, which it does not hold", file=where)
            images = {a: archive.read(f"{a}.cubin") for a in archs}
            images |= {f"{a}.ptx": archive.read(f"{a}.ptx") for a in archs}
            plan = plan_from_json(meta["plan"], archive.read(PARAMS), archive.read(SOURCE).decode())
    except CompilerError:
        raise
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError) as err:
        raise ModelLoadError(f"cannot read the CUDA model ({type(err).__name__}: {err})", file=where) from None
    except (ValueError, KeyError, TypeError) as err:
        raise ModelLoadError(f"bad CUDA model metadata ({type(err).__name__}: {err})", file=where) from None
    bad = [a for a in archs if images[a][:4] != b"\x7fELF"]
    if bad:
        raise ModelLoadError(f"the {bad[0]} cubin is not an ELF image", file=where, hint="export the model again")
    return CudaExport(meta, plan, images)


def load_cuda(path: str | os.PathLike[str], device: int = 0) -> Any:
    """`compiler.load` of an exported CUDA model: a `CudaModel` on `device`, from the stored cubin."""
    from compiler.targets.cuda.launch import CudaModel, cuda_device_available

    exported = read_export(path)
    if not cuda_device_available():
        raise ModelLoadError(
            f"a CUDA model ({', '.join(exported.archs)}) needs an NVIDIA GPU and its driver, and this machine has none",
            file=str(path), hint="load it on a GPU machine",
        )
    return CudaModel(exported.plan, device, exported.images)
