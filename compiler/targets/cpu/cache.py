"""On-disk cache of object files, so an unchanged module skips LLVM's optimizer.

The key is a SHA-256 of everything that determines the machine code: the LLVM
IR text, the target triple, CPU name and feature string, the optimization
level, the LLVM version and a format version of this cache. Entries are
`<key>.o` files: the object followed by the SHA-256 of the object (32 bytes),
written atomically (temporary file + rename) so concurrent compiles (tuner
workers) never read half an object. An entry whose checksum does not match
(truncated or damaged on disk) is a miss and is deleted: loading a damaged
object into MCJIT would crash the process.

Directory: `$COMPILER_CACHE_DIR`, else `~/.cache/compiler`; an empty
`COMPILER_CACHE_DIR` disables caching. A cache that cannot be written (read-only
home, full disk) degrades to no caching, never to a failed compile.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

import llvmlite.binding as llvm

CACHE_FORMAT = "2"
"""Bump when the translation or codegen options change what a key produces
(2: entries end with their SHA-256)."""

DIGEST_BYTES = 32


def seal(data: bytes) -> bytes:
    """`data` followed by its SHA-256, as a cache entry stores it."""
    return data + hashlib.sha256(data).digest()


def unseal(entry: bytes) -> bytes | None:
    """The data of a sealed entry, or None when the entry is truncated or damaged."""
    if len(entry) <= DIGEST_BYTES:
        return None
    data, digest = entry[:-DIGEST_BYTES], entry[-DIGEST_BYTES:]
    return data if hashlib.sha256(data).digest() == digest else None


def write_atomically(path: Path, data: bytes) -> None:
    """Writes `path` through a temporary file in its directory and a rename:
    readers see the old file or the whole new one, never a part."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


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
    def key(
        ir_text: str, *, triple: str, cpu: str, features: str, opt_level: int, variant: str = ""
    ) -> str:
        digest = hashlib.sha256()
        # `variant` (LLVM options beyond the level) only joins the key when set,
        # so the keys of plain -O<n> objects stay what they were.
        for part in (
            CACHE_FORMAT,
            ".".join(map(str, llvm.llvm_version_info)),
            triple,
            cpu,
            features,
            str(opt_level) + (f"/{variant}" if variant else ""),
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
                entry = path.read_bytes()
            except OSError:
                entry = None
            data = unseal(entry) if entry is not None else None
            if data is not None:
                self.hits += 1
                return data
            if entry is not None:  # damaged: the next put writes a good one
                with contextlib.suppress(OSError):
                    path.unlink()
        self.misses += 1
        return None

    def put(self, key: str, data: bytes) -> None:
        path = self.path(key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, seal(data))
        except OSError:
            # Caching is an optimization: an unwritable directory only costs time.
            pass
