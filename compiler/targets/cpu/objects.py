"""Object bundles: a compiled model as one or more ELF relocatable objects.

A model's kernels are compiled to machine code one unit at a time in
forked workers (`parallel_lower.lower_to_objects`), so LLVM's optimizer and
code generator run in parallel too; the result is one object per unit. A
bundle carries them as one `bytes` value, so everything that stores or
passes object code around (the model cache, `CompiledModel.export`, the
tuner's runner) does not change. A single object is its plain ELF bytes.

    bundle := MAGIC, u32 count, count x u64 size, the objects back to back

Loading adds each object to one MCJIT engine, which resolves the calls
between them; linking (`cc -shared`) takes them as separate `.o` files.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

MAGIC = b"\0compiler-object-bundle\0"


def pack(objects: Sequence[bytes]) -> bytes:
    """One value for `objects`: the object itself when there is one, else a bundle."""
    if len(objects) == 1:
        return bytes(objects[0])
    sizes = b"".join(struct.pack("<Q", len(o)) for o in objects)
    return b"".join([MAGIC, struct.pack("<I", len(objects)), sizes, *objects])


def unpack(data: bytes) -> list[bytes]:
    """The objects in `data` (a bundle, or one plain object)."""
    data = bytes(data)
    if not data.startswith(MAGIC):
        return [data]
    at = len(MAGIC)
    (count,) = struct.unpack_from("<I", data, at)
    at += 4
    sizes = struct.unpack_from(f"<{count}Q", data, at)
    at += 8 * count
    objects = []
    for size in sizes:
        objects.append(data[at : at + size])
        at += size
    if at != len(data):
        raise ValueError("corrupt object bundle: sizes do not add up to its length")
    return objects


__all__ = ["MAGIC", "pack", "unpack"]
