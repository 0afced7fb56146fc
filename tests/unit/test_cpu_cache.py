"""The on-disk object cache: an unchanged module skips LLVM; keys follow IR and target."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from cpu_kernels import lower
from test_cpu_vector import VADD

from compiler.targets.cpu import machine
from compiler.targets.cpu.cache import ObjectCache, default_cache_dir
from compiler.targets.cpu.jit import jit_compile
from compiler.targets.cpu.machine import HostTarget


def test_recompiling_an_unchanged_module_skips_the_optimizer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = ObjectCache(tmp_path)
    module = lower(VADD)
    first = jit_compile(module, cache=cache)
    assert (cache.hits, cache.misses) == (0, 1)
    assert len(list(tmp_path.glob("*.o"))) == 1

    def no_llvm(*args: object, **kwargs: object) -> None:
        raise AssertionError("LLVM's optimizer ran on a cached module")

    monkeypatch.setattr(machine, "optimize", no_llvm)
    second = jit_compile(module, cache=cache)
    assert cache.hits == 1
    assert second.object_code == first.object_code
    a = np.arange(100, dtype=np.float32)
    c = np.zeros(100, np.float32)
    second["vadd"](a, a, c)
    np.testing.assert_array_equal(c, 2 * a)


def test_key_depends_on_ir_and_target() -> None:
    host = HostTarget.detect()
    key = ObjectCache.key(
        "ir", triple=host.triple, cpu=host.cpu, features=host.features, opt_level=3
    )
    assert key != ObjectCache.key(
        "ir2", triple=host.triple, cpu=host.cpu, features=host.features, opt_level=3
    )
    assert key != ObjectCache.key("ir", triple=host.triple, cpu="x86-64", features="", opt_level=3)
    assert key != ObjectCache.key(
        "ir", triple=host.triple, cpu=host.cpu, features=host.features, opt_level=2
    )


def test_cache_directory_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPILER_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    jit_compile(lower(VADD))
    assert len(list((tmp_path / "c").glob("*.o"))) == 1
    monkeypatch.setenv("COMPILER_CACHE_DIR", "")
    assert default_cache_dir() is None


def test_unwritable_cache_only_costs_time(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = ObjectCache(blocker / "sub")
    handle = jit_compile(lower(VADD), cache=cache)
    assert "vadd" in handle
