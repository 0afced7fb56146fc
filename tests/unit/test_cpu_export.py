"""Object and shared-library export: a .so linked by cc, loaded with ctypes in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from cpu_kernels import jit, lower
from test_cpu_memory import ARENA
from test_cpu_parallel import SCALE

from compiler.errors import CompilerError
from compiler.targets.cpu.export import emit_object, export_shared_library

CHILD = textwrap.dedent(
    """
    import ctypes, sys
    import numpy as np
    lib = ctypes.CDLL(sys.argv[1])
    data = np.load(sys.argv[2])
    lib.compiler_set_num_threads.argtypes = [ctypes.c_int32]
    lib.compiler_set_num_threads(2)
    arena = np.zeros(4096, np.uint8)
    lib.main.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.main(arena.ctypes.data, data["params"].ctypes.data)
    out = np.zeros((64, 48), np.float32)
    who = np.full(64, -1, np.int32)
    lib.scale.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_float]
    lib.scale(data["a"].ctypes.data, out.ctypes.data, who.ctypes.data, 1.5)
    np.savez(sys.argv[3], arena=arena, out=out, who=who)
    """
)


def _module_source() -> str:
    # Both kernels in one module: a matmul on arena/params views and a parallel loop.
    return ARENA + SCALE


def test_shared_library_matches_jit(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((8, 32), dtype=np.float32)
    b = rng.standard_normal((32, 64), dtype=np.float32)
    params = np.zeros(9216, np.uint8)
    params[:1024] = a.view(np.uint8).ravel()
    params[1024:] = b.view(np.uint8).ravel()
    x = rng.standard_normal((64, 48), dtype=np.float32)
    np.savez(tmp_path / "in.npz", params=params, a=x)

    library = export_shared_library(lower(_module_source()), tmp_path / "model.so", cache=False)
    assert library.exists() and not list(tmp_path.glob(".*tmp"))
    child = tmp_path / "child.py"
    child.write_text(CHILD)
    subprocess.run(
        [
            sys.executable,
            str(child),
            str(library),
            str(tmp_path / "in.npz"),
            str(tmp_path / "out.npz"),
        ],
        check=True,
        timeout=120,
    )
    got = np.load(tmp_path / "out.npz")

    handle = jit(_module_source())
    handle.set_num_threads(2)
    arena = np.zeros(4096, np.uint8)
    handle["main"](arena, params)
    out = np.zeros((64, 48), np.float32)
    who = np.full(64, -1, np.int32)
    handle["scale"](x, out, who, 1.5)

    np.testing.assert_array_equal(got["arena"], arena)
    np.testing.assert_allclose(
        arena[2048:].view(np.float32).reshape(8, 64), a @ b, rtol=1e-5, atol=1e-5
    )
    np.testing.assert_array_equal(got["out"], out)
    np.testing.assert_array_equal(got["out"], x * np.float32(1.5))
    # Both sides ran the rows on two threads, in 8 chunks (4 per thread) of 8
    # rows that the threads take first come, first served.
    for who_ran in (got["who"], who):
        assert ((who_ran == 0) | (who_ran == 1)).all(), who_ran
        assert all(len(set(who_ran[k : k + 8].tolist())) == 1 for k in range(0, 64, 8)), who_ran


def test_object_file_is_elf(tmp_path: Path) -> None:
    path = emit_object(lower(ARENA), tmp_path / "k.o", cache=False)
    assert path.read_bytes()[:4] == b"\x7fELF"


def test_missing_c_compiler_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CC", "no-such-cc-anywhere")
    with pytest.raises(CompilerError, match="no C compiler 'no-such-cc-anywhere'"):
        export_shared_library(lower(ARENA), tmp_path / "x.so", cache=False)
    assert not os.listdir(tmp_path)
