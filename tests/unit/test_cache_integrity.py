"""Damaged compile-cache entries are detected by their checksums and rebuilt, never loaded.

Loading a truncated object into MCJIT crashed the process (issue 12); every
damage below must instead cost one rebuild and give the right outputs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from runtime_models import two_in_two_out, two_in_two_out_reference

import compiler
from compiler.targets.cpu import model_cache
from compiler.targets.cpu.cache import ObjectCache, seal, unseal
from compiler.targets.cpu.model_cache import CHECKSUMS, ModelCache


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x5A
    path.write_bytes(bytes(data))


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _entry(cache_dir: Path) -> Path:
    entries = [p for p in (cache_dir / "models").iterdir() if not p.name.startswith(".")]
    assert len(entries) == 1
    return entries[0]


def _check(model: compiler.CompiledModel) -> None:
    rng = np.random.default_rng(0)
    x, y = (rng.standard_normal((2, 3)).astype(np.float32) for _ in range(2))
    for got, want in zip(model.run(None, {"x": x, "y": y}), two_in_two_out_reference(x, y), strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("model.o", _truncate),
        ("model.o", _flip),
        ("model.o", _empty),
        ("model.params", _flip),
        ("model.json", _truncate),
        (CHECKSUMS, _truncate),
    ],
)
def test_damaged_model_cache_entry_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, damage: Callable[[Path], None]
) -> None:
    monkeypatch.setenv("COMPILER_CACHE_DIR", str(tmp_path))
    model = two_in_two_out()
    _check(compiler.compile(model))
    entry = _entry(tmp_path)
    good = (entry / name).read_bytes()
    damage(entry / name)
    assert ModelCache(tmp_path).get(entry.name) is None  # detected, and the entry removed
    assert not entry.exists()
    _check(compiler.compile(model))  # rebuilds, and stores a good entry again
    assert (entry / name).read_bytes() == good
    assert ModelCache(tmp_path).get(entry.name) is not None
    assert not [p for p in (tmp_path / "models").iterdir() if p.name.startswith(".")]


def test_truncated_model_o_is_rebuilt_on_the_next_compile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's case, end to end: no ModelCache call between the damage and the compile."""
    monkeypatch.setenv("COMPILER_CACHE_DIR", str(tmp_path))
    compiler.compile(two_in_two_out())
    obj = _entry(tmp_path) / "model.o"
    size = obj.stat().st_size
    _truncate(obj)
    _check(compiler.compile(two_in_two_out()))
    assert obj.stat().st_size == size


@pytest.mark.parametrize("damage", [_truncate, _flip, _empty])
def test_damaged_object_cache_entry_is_a_miss(tmp_path: Path, damage: Callable[[Path], None]) -> None:
    cache = ObjectCache(tmp_path)
    cache.put("k", b"\x7fELF" + bytes(range(200)))
    assert cache.get("k") == b"\x7fELF" + bytes(range(200))
    path = tmp_path / "k.o"
    damage(path)
    assert cache.get("k") is None
    assert not path.exists()
    assert (cache.hits, cache.misses) == (1, 1)


def test_seal_round_trip() -> None:
    assert unseal(seal(b"abc")) == b"abc"
    assert unseal(seal(b"abc")[:-1]) is None
    assert unseal(b"") is None


def test_writes_leave_no_temporary_files(tmp_path: Path) -> None:
    ObjectCache(tmp_path).put("k", b"data")
    ModelCache(tmp_path).put("m", b"obj", b"params", {"a": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.o", "models"]
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["m"]
    assert ModelCache(tmp_path).get("m") == (b"obj", b"params", {"a": 1})


def test_large_entry_is_written_in_the_background(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A compile returns before its (large) model cache entry is on disk; a `get` of
    the key, and the end of the process, wait for the writer."""
    monkeypatch.setattr(model_cache, "BACKGROUND_MIN_BYTES", 0)
    release = threading.Event()
    store = model_cache.ModelCache._store

    def slow_store(self: model_cache.ModelCache, *args: object) -> None:
        release.wait(10)
        store(self, *args)

    monkeypatch.setattr(model_cache.ModelCache, "_store", slow_store)
    cache = model_cache.ModelCache(tmp_path)
    cache.put("k", b"obj", b"params", {"m": 1}, background=True)
    assert not (tmp_path / "models" / "k").exists()  # still being written
    threading.Timer(0.2, release.set).start()
    assert cache.get("k") == (b"obj", b"params", {"m": 1})  # waits for the writer
    assert not model_cache._pending
