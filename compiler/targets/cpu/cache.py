"""On-disk cache of object files, so an unchanged module skips LLVM's optimizer.

The key is a SHA-256 of everything that determines the machine code: the LLVM
IR text, the target triple, CPU name and feature string, the optimization
level, the LLVM version and a format version of this cache. Entries are plain
`<key>.o` files, written atomically (temporary file + rename) so concurrent
compiles (tuner workers) never read half an object.

Directory: `$COMPILER_CACHE_DIR`, else `~/.cache/compiler`; an empty
`COMPILER_CACHE_DIR` disables caching. A cache that cannot be written (read-only
home, full disk) degrades to no caching, never to a failed compile.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import llvmlite.binding as llvm

CACHE_FORMAT = "1"
"""Bump when the translation or codegen options change what a key produces."""


def default_cache_dir() -> Path | None:
    """`$COMPILER_CACHE_DIR` (None when set but empty), else ~/.cache/compiler."""
    configured = os.environ.get("COMPILER_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    return Path.home() / ".cache" / "compiler"


class ObjectCache:
    """Object files by key in one directory; counts hits and misses for tests and logs."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(ir_text: str, *, triple: str, cpu: str, features: str, opt_level: int) -> str:
        digest = hashlib.sha256()
        for part in (
            CACHE_FORMAT,
            ".".join(map(str, llvm.llvm_version_info)),
            triple,
            cpu,
            features,
            str(opt_level),
            ir_text,
        ):
            digest.update(part.encode())
            digest.update(b"\0")
        return digest.hexdigest()

    def path(self, key: str) -> Path | None:
        return None if self.directory is None else self.directory / f"{key}.o"

    def get(self, key: str) -> bytes | None:
        path = self.path(key)
        if path is not None:
            try:
                data = path.read_bytes()
            except OSError:
                data = None
            if data:
                self.hits += 1
                return data
        self.misses += 1
        return None

    def put(self, key: str, data: bytes) -> None:
        path = self.path(key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".o")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                os.replace(tmp, path)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:
            # Caching is an optimization: an unwritable directory only costs time.
            pass
