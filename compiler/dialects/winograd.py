"""Winograd minimal filtering F(m x m, 3 x 3): the transform matrices and their numpy images.

A 3x3 stride-1 convolution computes each m x m output tile from the
(m + 2) x (m + 2) input tile d over it (alpha = m + 2) as

    Y = A^T [ (G g G^T) . (B^T d B) ] A        (. : elementwise product)

so one tile costs alpha^2 multiplications per (input, output) channel pair
instead of 9 m^2: 16 instead of 36 for F(2x2, 3x3), 36 instead of 144 for
F(4x4, 3x3). Summed over input channels, the elementwise products become
alpha^2 independent GEMMs (Lavin and Gray, "Fast Algorithms for
Convolutional Neural Networks", 2016). The matrices below use the
interpolation points 0, +-1 (F2) and 0, +-1, +-2 (F4); ONNX convolutions are
cross-correlations, which these matrices compute as they stand.

Shared by the graph ops' verifier and interpreter, the `winograd-conv` pass
(the weight transform, at compile time) and the compute definitions of the
input and output transforms.
"""

from __future__ import annotations

from functools import cache

import numpy as np

TILES = (2, 4)
"""Output tile sizes m available: F(2x2, 3x3) and F(4x4, 3x3)."""

_F2 = (
    [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
    [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]],
    [[1, 1, 1, 0], [0, 1, -1, -1]],
)
_F4 = (
    [
        [4, 0, -5, 0, 1, 0],
        [0, -4, -4, 1, 1, 0],
        [0, 4, -4, -1, 1, 0],
        [0, -2, -1, 2, 1, 0],
        [0, 2, -1, -2, 1, 0],
        [0, 4, 0, -5, 0, 1],
    ],
    [
        [1 / 4, 0, 0],
        [-1 / 6, -1 / 6, -1 / 6],
        [-1 / 6, 1 / 6, -1 / 6],
        [1 / 24, 1 / 12, 1 / 6],
        [1 / 24, -1 / 12, 1 / 6],
        [0, 0, 1],
    ],
    [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
)


@cache
def matrices(m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(B^T, G, A^T) of F(m x m, 3 x 3), float64: alpha x alpha, alpha x 3, m x alpha."""
    if m not in TILES:
        raise ValueError(f"Winograd tile {m} is not available (use one of {TILES})")
    bt, g, at = _F2 if m == 2 else _F4
    return np.array(bt, np.float64), np.array(g, np.float64), np.array(at, np.float64)


def alpha(m: int) -> int:
    """Input tile size of F(m x m, 3 x 3)."""
    return m + 2


def tile_counts(oh: int, ow: int, m: int) -> tuple[int, int]:
    """Tiles along the output rows and columns (the last ones may be ragged)."""
    return -(-oh // m), -(-ow // m)


WEIGHT_CHUNK = 16
"""Input channels per step of `transform_weight`."""


def transform_weight(w: np.ndarray, m: int) -> np.ndarray:
    """U = G g G^T of an OIHW [K, C, 3, 3] weight, laid out for the batched GEMM: [alpha^2, C, K].

    Computed in float64 and rounded once, so the folded constant carries no
    more error than the fp32 weight it replaces. As two small GEMMs over
    [3, 3, C, K] (one einsum of all three factors took 5 times as long on
    ResNet-50), a few input channels at a time, so that the float64 partial
    products stay in cache.
    """
    _, g, _ = matrices(m)
    k, c = w.shape[:2]
    a = alpha(m)
    u = np.empty((a * a, c, k), w.dtype)
    for c0 in range(0, c, WEIGHT_CHUNK):
        part = np.ascontiguousarray(w[:, c0 : c0 + WEIGHT_CHUNK].transpose(2, 3, 1, 0), dtype=np.float64)
        n = part[0, 0].size
        rows = (g @ part.reshape(3, 3 * n)).reshape(a, 3, n)  # G g: [alpha, 3, C' K]
        u[:, c0 : c0 + WEIGHT_CHUNK] = np.matmul(g, rows).reshape(a * a, -1, k)  # (G g) G^T
    return u


def transform_input(x: np.ndarray, m: int, pads: tuple[int, int, int, int], out_hw: tuple[int, int]) -> np.ndarray:
    """V = B^T d B over every input tile of an NCHW x: [alpha^2, N * TH * TW, C] (float64 math).

    Tiles start every m rows and columns at -pad; reads outside the input are 0.
    """
    bt, _, _ = matrices(m)
    a = alpha(m)
    n, c, h, w = x.shape
    th, tw = tile_counts(*out_hw, m)
    top, left = pads[0], pads[1]
    padded = np.zeros((n, c, th * m + 2, tw * m + 2), np.float64)
    rows = min(h, th * m + 2 - top)
    cols = min(w, tw * m + 2 - left)
    padded[:, :, top : top + rows, left : left + cols] = x[:, :, :rows, :cols]
    tiles = np.empty((n, c, th, tw, a, a), np.float64)
    for i in range(th):
        for j in range(tw):
            tiles[:, :, i, j] = padded[:, :, i * m : i * m + a, j * m : j * m + a]
    v = np.einsum("ai,ncxyij,bj->abnxyc", bt, tiles, bt)
    return v.reshape(a * a, n * th * tw, c)


def transform_output(mm: np.ndarray, m: int, batch: int, out_hw: tuple[int, int]) -> np.ndarray:
    """Y = A^T M A of every tile of M [alpha^2, N * TH * TW, K]: the NCHW output, ragged tiles cut."""
    _, _, at = matrices(m)
    a = alpha(m)
    oh, ow = out_hw
    th, tw = tile_counts(oh, ow, m)
    k = mm.shape[-1]
    tiles = mm.astype(np.float64).reshape(a, a, batch, th, tw, k)
    y = np.einsum("ia,abnxyk,jb->nkxiyj", at, tiles, at).reshape(batch, k, th * m, tw * m)
    return y[:, :, :oh, :ow]
