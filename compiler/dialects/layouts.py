"""Data and kernel layouts of the graph dialect (blocked channel layouts).

A layout names how a logical tensor is stored (docs/graph-contracts.md):

- data: "NCHW" (plain) or "NCHW{c}c": the [N, C, H, W] tensor stored as
  [N, C/c, H, W, c], channel C = cb * c + ci at [n, cb, h, w, ci] (TVM's
  NCHWc; c = 16 fills an AVX-512 register with fp32 channels);
- conv weights: "OIHW" (plain, I = input channels per group) or
  "OIHW{i}i{o}o": the [O, I, KH, KW] weight stored as
  [O/o, I/i, KH, KW, i, o], so the innermost loop of a blocked conv reads
  `o` consecutive output channels for one input channel.

The graph ops compute the same logical function whatever the layouts; these
helpers convert shapes and numpy arrays between the two forms. They raise
ValueError on a malformed layout or an indivisible dim, and the dialect's
verifiers turn that into a diagnostic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

NCHW = "NCHW"
OIHW = "OIHW"

_DATA = re.compile(r"NCHW(?:([1-9][0-9]*)c)?")
_KERNEL = re.compile(r"OIHW(?:([1-9][0-9]*)i([1-9][0-9]*)o)?")


def data_block(layout: str) -> int:
    """Channel block of a data layout: 0 for "NCHW", c for "NCHW{c}c"."""
    m = _DATA.fullmatch(layout)
    if m is None:
        raise ValueError(f"unknown data layout \"{layout}\" (expected \"NCHW\" or \"NCHW<c>c\")")
    return int(m.group(1)) if m.group(1) else 0


def kernel_blocks(layout: str) -> tuple[int, int]:
    """(i, o) blocks of a kernel layout: (0, 0) for "OIHW"."""
    m = _KERNEL.fullmatch(layout)
    if m is None:
        raise ValueError(
            f"unknown kernel layout \"{layout}\" (expected \"OIHW\" or \"OIHW<i>i<o>o\")"
        )
    return (int(m.group(1)), int(m.group(2))) if m.group(1) else (0, 0)


def blocked_layout(block: int) -> str:
    return f"NCHW{block}c" if block else NCHW


def kernel_layout(i: int, o: int) -> str:
    return f"OIHW{i}i{o}o" if i else OIHW


# --- shapes --------------------------------------------------------------------


def data_physical_shape(logical: Sequence[int], block: int) -> tuple[int, ...]:
    """[N, C, H, W] -> its storage shape in NCHW{block}c (block 0: unchanged)."""
    if len(logical) != 4:
        raise ValueError(f"a data layout needs a 4-D [N, C, H, W] tensor, got rank {len(logical)}")
    n, c, h, w = logical
    if not block:
        return tuple(logical)
    if c % block:
        raise ValueError(f"{c} channels do not divide into blocks of {block}")
    return (n, c // block, h, w, block)


def data_logical_shape(physical: Sequence[int], block: int) -> tuple[int, ...]:
    """Storage shape in NCHW{block}c -> [N, C, H, W]."""
    want = 5 if block else 4
    if len(physical) != want:
        raise ValueError(f"layout {blocked_layout(block)} needs a {want}-D tensor, got rank {len(physical)}")
    if not block:
        return tuple(physical)
    n, cb, h, w, c = physical
    if c != block:
        raise ValueError(f"the innermost dim is {c}, layout {blocked_layout(block)} needs {block}")
    return (n, cb * block, h, w)


def kernel_physical_shape(logical: Sequence[int], i: int, o: int) -> tuple[int, ...]:
    if len(logical) != 4:
        raise ValueError(f"a kernel layout needs a 4-D [O, I, KH, KW] weight, got rank {len(logical)}")
    if not i:
        return tuple(logical)
    out_c, in_c, kh, kw = logical
    if out_c % o or in_c % i:
        raise ValueError(f"weight [{out_c}, {in_c}, ...] does not divide into {i}i{o}o blocks")
    return (out_c // o, in_c // i, kh, kw, i, o)


def kernel_logical_shape(physical: Sequence[int], i: int, o: int) -> tuple[int, ...]:
    want = 6 if i else 4
    if len(physical) != want:
        raise ValueError(f"layout {kernel_layout(i, o)} needs a {want}-D weight, got rank {len(physical)}")
    if not i:
        return tuple(physical)
    ob, ib, kh, kw, bi, bo = physical
    if (bi, bo) != (i, o):
        raise ValueError(f"the inner dims are [{bi}, {bo}], layout {kernel_layout(i, o)} needs [{i}, {o}]")
    return (ob * o, ib * i, kh, kw)


# --- arrays --------------------------------------------------------------------


def pack_data(x: np.ndarray, block: int) -> np.ndarray:
    """NCHW array -> NCHW{block}c array."""
    if not block:
        return x
    n, c, h, w = x.shape
    return np.ascontiguousarray(x.reshape(n, c // block, block, h, w).transpose(0, 1, 3, 4, 2))


def unpack_data(x: np.ndarray, block: int) -> np.ndarray:
    """NCHW{block}c array -> NCHW array."""
    if not block:
        return x
    n, cb, h, w, c = x.shape
    return np.ascontiguousarray(x.transpose(0, 1, 4, 2, 3).reshape(n, cb * c, h, w))


def convert_data(x: np.ndarray, src_block: int, dst_block: int) -> np.ndarray:
    return pack_data(unpack_data(x, src_block), dst_block)


def pack_kernel(w: np.ndarray, i: int, o: int) -> np.ndarray:
    """OIHW array -> OIHW{i}i{o}o array."""
    if not i:
        return w
    out_c, in_c, kh, kw = w.shape
    blocked = w.reshape(out_c // o, o, in_c // i, i, kh, kw)
    return np.ascontiguousarray(blocked.transpose(0, 2, 4, 5, 3, 1))


def unpack_kernel(w: np.ndarray, i: int, o: int) -> np.ndarray:
    """OIHW{i}i{o}o array -> OIHW array."""
    if not i:
        return w
    ob, ib, kh, kw, bi, bo = w.shape
    return np.ascontiguousarray(w.transpose(0, 5, 1, 4, 2, 3).reshape(ob * bo, ib * bi, kh, kw))
