"""Default schedule of `matmul`: a register tile of rows x vectors over column panels.

Many rows (a GEMM):

    for n.outer (panels of 4 vectors, parallel)
      for m.outer (tiles of ROWS rows)
        acc[ROWS, 4 x lanes] = 0                    cache_write: a tile in registers
        for k:
          for m.inner (unroll), n.inner.outer (unroll), n.inner.inner (vector):
            acc += a[m, k] * b[k, n]                one broadcast of a per row
        out = epilogue(acc)

Few rows (a matrix-vector product, bound by reading `b`): one panel of all
columns per thread streams whole rows of `b`; with threads, the columns are
split among them. The reduction is unrolled and jammed into the column loop
(`jam_k` rows of `b` per pass over the accumulator row), so the accumulator
row, which lives in L1, is loaded and stored once per `jam_k` rows.

Knobs (see compiler/schedule/knobs.py): `rows` x `vectors` of the register
tile (the column panel is `vectors` x lanes), `unroll_k`, `pack` (the
constant operand's panels), `parallel`; a matrix-vector product: `jam_k`
and `parallel`.
"""

from __future__ import annotations

from xdsl.dialects.builtin import DenseArrayBase, MemRefType

from compiler.dialects.loop import CONSTANT_OPERANDS_ATTR
from compiler.schedule.default import generic_rule
from compiler.schedule.pack import Pack
from compiler.schedule.primitives import Reorder, Split, Unroll
from compiler.schedule.rules.common import (
    annotate_tile,
    cache_write,
    chain,
    divisors,
    parallel_first,
    split,
    trips,
)
from compiler.schedule.target import CpuTarget
from compiler.schedule.trial import ScheduleBuilder


def tile_shape(registers: int) -> tuple[int, int]:
    """Rows x vectors of the register tile: rows x vectors accumulators, plus a
    vector of `b` per column vector and one broadcast of `a`, fit the registers
    (AVX2's 16: 4 x 3; AVX-512's 32: 6 x 4)."""
    return (6, 4) if registers >= 32 else (4, 3)


def matmul_rule(b: ScheduleBuilder, target: CpuTarget) -> None:
    batch = [n for n in ("b0", "b1", "b2", "b3", "b4", "b5") if b.has(n)]
    if not b.has("n") or not b.has("k"):
        generic_rule(b, target)
        return
    lanes = target.lanes(32)
    m_n, n_n, k_n = trips(b, "m"), trips(b, "n"), trips(b, "k")
    rows = m_n
    for axis in batch:
        rows *= trips(b, axis)
    threads = target.thread_count if rows * n_n * k_n >= target.min_parallel_work else 1
    has_m = b.has("m")
    b.attempt(Reorder((*batch, "n", *(["m"] if has_m else []), "k")))
    if rows <= 4:
        jams = [f for f in (8, 4, 2) if k_n % f == 0 and k_n > f]
        jam = b.knobs.pick("jam_k", [0, *jams], 4 if 4 in jams else (jams[-1] if jams else 0))
        _matvec(b, lanes, threads, has_m, batch, target, jam)
        return
    tile_rows, vectors = tile_shape(target.vector_registers)
    tile_rows = b.knobs.pick("rows", range(1, 9), tile_rows)
    vectors = b.knobs.pick("vectors", range(1, 7), vectors)
    # Accumulators, one vector of `b` per column vector, one broadcast of `a`.
    b.knobs.use_registers(tile_rows * vectors + vectors + 1)
    unroll_k = b.knobs.pick("unroll_k", [0, *divisors(k_n, 8)], 0)
    _gemm(b, lanes, threads, batch, tile_rows, vectors, _constant_rhs(b, batch), target)
    if unroll_k:
        b.require(Unroll("k", unroll_k))


def _tile_rows(b: ScheduleBuilder, m: str | None, k: str, n: str, lanes: int, rows: int, vectors: int) -> None:
    """A nest (m?, k, n) becomes a tile of `rows` rows x the n loop, accumulated in registers."""
    tail_m = None
    if m is not None and trips(b, m) > rows:
        m_outer, m_inner, tail_m = split(b, m, rows)
    else:
        m_outer, m_inner = None, m
    n_width = trips(b, n)
    unrolled = [m_inner] if m_inner is not None else []
    if n_width > lanes and n_width % lanes == 0 and n_width // lanes <= vectors:
        n_outer, n_vec, _ = split(b, n, lanes)
        unrolled.append(n_outer)
    else:
        n_vec = n
    inner = [a for a in (m_inner, *unrolled[1:], n_vec) if a is not None]
    if m_outer is not None:
        b.attempt(Reorder((m_outer, k, *inner)))
        at, position = m_outer, "inside"
    else:
        b.attempt(Reorder((k, *inner)))
        at, position = k, "around"
    before = b.names()
    if cache_write(b, at, position):
        annotate_tile(b, before, unrolled, [n_vec])
    if tail_m is not None:
        names = chain(b, tail_m)  # (m tail, k, n)
        if len(names) == 3:
            _row_tile(b, names, lanes, vectors)


def _row_tile(b: ScheduleBuilder, names: list[str], lanes: int, vectors: int) -> None:
    """A remainder nest (m, k, n): one row at a time, the row's columns in registers."""
    m, k, n = names
    unrolled: list[str] = []
    n_width = trips(b, n)
    if n_width > lanes and n_width % lanes == 0 and n_width // lanes <= vectors:
        n_outer, n_vec, _ = split(b, n, lanes)
        unrolled.append(n_outer)
        b.attempt(Reorder((m, k, n_outer, n_vec)))
    else:
        n_vec = n
    before = b.names()
    if cache_write(b, m):
        annotate_tile(b, before, unrolled, [n_vec])


def _gemm(
    b: ScheduleBuilder,
    lanes: int,
    threads: int,
    batch: list[str],
    rows: int,
    vectors: int,
    operand: tuple[int, int] | None,
    target: CpuTarget,
) -> None:
    panel = vectors * lanes
    if trips(b, "n") > panel:
        n_outer, n_inner, n_tail = split(b, "n", panel)
    else:
        n_outer, n_inner, n_tail = None, "n", None
    if n_outer is not None:
        b.attempt(Reorder((n_outer, "m", "k", n_inner)))
    else:
        b.attempt(Reorder(("m", "k", n_inner)))
    _tile_rows(b, "m", "k", n_inner, lanes, rows, vectors)
    if n_tail is not None:
        names = chain(b, n_tail)  # (n tail, m, k)
        if len(names) == 3:
            b.attempt(Reorder((names[1], names[2], names[0])))
            _row_tile(b, [names[1], names[2], names[0]], lanes, vectors)
    if operand is not None and b.knobs.pick("pack", (False, True), n_outer is not None):
        # The panel a tile reads becomes one contiguous stream (K x panel).
        index, axis = operand
        if n_outer is not None:
            b.require(Pack(index, axis, panel))
        else:
            b.missed.append(Pack(index, axis, panel))
    parallel_first(b, [*batch, n_outer, "m.outer"], threads, target, [*batch, "n.outer", "m.outer"])


def _constant_rhs(b: ScheduleBuilder, batch: list[str]) -> tuple[int, int] | None:
    """(operand index, N axis) of a constant `b`: K x N, or batched B x K x N with
    the kernel's batch extents (Winograd's U), if any."""
    attr = b.kernel.attributes.get(CONSTANT_OPERANDS_ATTR)
    if not isinstance(attr, DenseArrayBase):
        return None
    shape = (trips(b, "k"), trips(b, "n"))
    batched = (*(trips(b, a) for a in batch), *shape)
    args = b.kernel.body.block.args
    for index in attr.get_values():
        t = args[int(index)].type
        if not isinstance(t, MemRefType):
            continue
        found = tuple(t.get_shape())
        if found == shape or (batch and found == batched):
            return int(index), len(found) - 1
    return None


def _jam_k(b: ScheduleBuilder, k: str, n: str, factor: int) -> None:
    """Unroll-and-jam `k` into the column loop: each vector of the accumulator row is
    loaded and stored once per `factor` rows of `b`, not once per row."""
    if b.require(Split(k, factor)):
        b.require(Reorder((n, f"{k}.inner")))
        b.require(Unroll(f"{k}.inner"))


def _matvec(
    b: ScheduleBuilder, lanes: int, threads: int, has_m: bool, batch: list[str], target: CpuTarget, jam: int
) -> None:
    n_n = trips(b, "n")
    # Columns per thread, a whole number of vectors (a short remainder runs after).
    panel = n_n if threads < 2 else max(lanes, n_n // threads // lanes * lanes)
    m = ["m"] if has_m else []
    if panel < n_n:
        n_outer, n_inner, n_tail = split(b, "n", panel)
    else:
        n_outer, n_inner, n_tail = None, "n", None
    b.attempt(Reorder((*([n_outer] if n_outer else []), *m, "k", n_inner)))
    for names in ([*m, "k", n_inner], chain(b, n_tail) if n_tail else None):
        if names is None:
            continue
        if names[0].startswith("n"):  # a remainder nest: (n tail, m?, k)
            names = [*names[1:], names[0]]
            b.attempt(Reorder(tuple(names)))
        at, position = (names[0], "inside") if len(names) == 3 else (names[0], "around")
        before = b.names()
        if cache_write(b, at, position):
            if jam:
                _jam_k(b, names[-2], names[-1], jam)
            annotate_tile(b, before, [], [names[-1]])
    parallel_first(b, [*batch, n_outer], threads, target, [*batch, "n.outer"])
