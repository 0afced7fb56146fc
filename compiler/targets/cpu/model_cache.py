"""On-disk cache of whole compiled models, so recompiling an unchanged model is fast.

The key hashes the ONNX model bytes, the pinned input shapes, the
optimization level, the host CPU (triple, name, features) and the compiler's
own source files (a changed pass must not hit an old entry). An entry is a
directory `<key>/` holding `model.o` (object code), `model.params` and
`model.json` (metadata), and `checksums.json` (the SHA-256 of each of the
three), written to a temporary directory and renamed, so a reader never sees
half an entry. An entry whose files do not match their checksums (truncated
or damaged on disk) is never loaded: it is a miss, removed, and the compile
that follows stores a good one. The directory is the object cache's:
`$COMPILER_CACHE_DIR` or ~/.cache/compiler; an empty value disables both.

A compile stores its entry in the background (`put(..., background=True)`):
hashing and writing ResNet-50's 100 MB of weights took 0.3-1 s, which the
caller need not wait for. The writer is a non-daemon thread, so the process
still finishes the entry before it exits, and a `get` of the same key in
this process waits for it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

from compiler.targets.cpu.cache import default_cache_dir

MODEL_CACHE_FORMAT = "2"
ENTRY_FILES = ("model.o", "model.params", "model.json")
CHECKSUMS = "checksums.json"


@cache
def compiler_fingerprint() -> str:
    """Hash of every source file of the `compiler` package."""
    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256(MODEL_CACHE_FORMAT.encode())
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def model_key(
    model_bytes: bytes | Sequence[bytes],
    input_shapes: Mapping[str, Sequence[int]] | None,
    opt_level: int,
    host: str,
    schedules: str = "",
) -> str:
    """`schedules`: the canonical JSON of the user's schedule overrides (empty: none).

    `model_bytes` may come in parts: the key is that of their concatenation,
    which is never built (a copy of a 100 MB model)."""
    digest = hashlib.sha256()
    shapes = sorted((k, list(v)) for k, v in (input_shapes or {}).items())
    parts = (compiler_fingerprint(), json.dumps(shapes), str(opt_level), host, schedules)
    for part in (p.encode() for p in parts):
        digest.update(part)
        digest.update(b"\0")
    model_digest = hashlib.sha256()
    for chunk in [model_bytes] if isinstance(model_bytes, bytes) else model_bytes:
        model_digest.update(chunk)
    digest.update(model_digest.digest())
    return digest.hexdigest()


BACKGROUND_MIN_BYTES = 16 << 20
"""Smaller entries are written before `put` returns: a thread would save little."""

_pending: dict[Path, threading.Thread] = {}
_pending_lock = threading.Lock()


def wait_for_pending_writes(entry: Path | None = None) -> None:
    """Returns once the background write of `entry` (default: of every entry) is done."""
    with _pending_lock:
        threads = [t for e, t in _pending.items() if entry is None or e == entry]
    for thread in threads:
        thread.join()


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ModelCache:
    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        base = Path(directory) if directory is not None else default_cache_dir()
        self.directory = None if base is None else base / "models"

    def get(self, key: str) -> tuple[bytes, bytes, dict] | None:
        if self.directory is None:
            return None
        entry = self.directory / key
        wait_for_pending_writes(entry)
        try:
            files = {name: (entry / name).read_bytes() for name in ENTRY_FILES}
            sums = json.loads((entry / CHECKSUMS).read_text())
        except (OSError, ValueError):
            files, sums = {}, None
        if not isinstance(sums, dict) or any(sums.get(n) != _digest(d) for n, d in files.items()):
            if entry.exists():
                self._discard(entry)
            return None
        try:
            meta = json.loads(files["model.json"])
        except ValueError:  # written damaged: its checksum matches the damage
            self._discard(entry)
            return None
        return files["model.o"], files["model.params"], meta

    def _discard(self, entry: Path) -> None:
        """Moves a damaged entry aside (a rename: readers see all or nothing), then deletes it."""
        assert self.directory is not None
        try:
            doomed = Path(tempfile.mkdtemp(dir=self.directory, prefix=".bad-"))
            os.rename(entry, doomed / "entry")
        except OSError:
            return
        shutil.rmtree(doomed, ignore_errors=True)

    def put(self, key: str, obj: bytes, params: bytes, meta: dict, background: bool = False) -> None:
        """Stores an entry; with `background`, in a thread when the weights are large
        (`BACKGROUND_MIN_BYTES`; the caller must not change the data)."""
        if self.directory is None:
            return
        if not background or len(params) < BACKGROUND_MIN_BYTES:
            self._store(key, obj, params, meta)
            return
        entry = self.directory / key
        thread = threading.Thread(
            target=self._store_then_forget,
            args=(key, obj, params, meta),
            name=f"compiler-model-cache-{key[:12]}",
        )
        with _pending_lock:
            _pending[entry] = thread
        thread.start()

    def _store_then_forget(self, key: str, obj: bytes, params: bytes, meta: dict) -> None:
        assert self.directory is not None
        try:
            self._store(key, obj, params, meta)
        finally:
            with _pending_lock:
                if _pending.get(self.directory / key) is threading.current_thread():
                    del _pending[self.directory / key]

    def _store(self, key: str, obj: bytes, params: bytes, meta: dict) -> None:
        assert self.directory is not None
        tmp: Path | None = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(dir=self.directory, prefix=".tmp-"))
            files = dict(zip(ENTRY_FILES, (obj, params, json.dumps(meta).encode()), strict=True))
            for name, data in files.items():
                (tmp / name).write_bytes(data)
            # Written last: an entry without it (or with a stale one) is never loaded.
            (tmp / CHECKSUMS).write_text(json.dumps({n: _digest(d) for n, d in files.items()}))
            try:
                os.rename(tmp, self.directory / key)
            except OSError:  # another process stored it first
                shutil.rmtree(tmp, ignore_errors=True)
        except OSError:  # an unwritable cache (or a full disk) only costs time
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
