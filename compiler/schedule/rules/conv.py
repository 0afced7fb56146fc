"""Default schedules of direct convolutions: register tiles of columns x channels.

Blocked layout (`conv2d_NCHWc`): per output row, tiles of R columns x the
channel block (one vector of the packed weight per input channel, times one
broadcast input element per column), R as large as the registers allow and,
when possible, a divisor of the row:

    for n, ob, oh (the outermost with >= 2 iterations on threads), ow.outer:
      acc[R, o] = bias
      for icb, kh, kw, ii:  for ow.inner (unroll):  for oc (vector):  acc += x * w
      out = epilogue(acc)

NCHW (`conv2d_nchw`): tiles of CB channels x one vector of columns; the input
vector is loaded once and multiplied by CB broadcast weights.

Knobs (see compiler/schedule/knobs.py). Blocked: `tile` (columns per
register tile), `order` (of the reductions icb, kh, kw; ii innermost),
`unroll_ii`, `parallel`. NCHW: `channels` and `columns` per tile, `order`
(of ci, kh, kw), `unroll_kw`, `parallel`. The algorithm (blocked or NCHW)
is chosen with the layouts, before the kernels exist, so it is no knob.
"""

from __future__ import annotations

from itertools import permutations

from xdsl.dialects.builtin import IntegerType, MemRefType

from compiler.dialects.loop import VECTORIZE, ForOp
from compiler.schedule.default import generic_rule
from compiler.schedule.dot import GROUP, Dot
from compiler.schedule.pack import Pack
from compiler.schedule.primitives import Reorder, Split, Unroll, all_loops, find_loop
from compiler.schedule.rules.common import (
    chain,
    in_order,
    parallel_first,
    present,
    split,
    tile_row,
    trips,
    unroll_knob,
)
from compiler.schedule.target import CpuTarget
from compiler.schedule.trial import ScheduleBuilder


def register_tile(width: int, most: int, per_column: int, chains: int) -> int:
    """Columns per tile: the fewest FMA cycles over the row, remainder tile included.

    A tile of t columns issues t * per_column FMAs per reduction step, and
    needs at least `chains` of them in flight to hide the FMA latency, so a
    step costs max(t * per_column, chains) slots. Ties go to a divisor of the
    row (no remainder nest), then to the wider tile. On AVX2 (6 columns fit)
    a 14-wide row gets 5+5+4, not 7 tiles of 2 that leave half the FMA slots
    idle.
    """

    def slots(r: int) -> int:
        full, rest = divmod(width, r)
        return full * max(r * per_column, chains) + (max(rest * per_column, chains) if rest else 0)

    candidates = range(1, max(1, min(most, width)) + 1)
    return min(candidates, key=lambda r: (slots(r), width % r != 0, -r))


def _threads(b: ScheduleBuilder, target: CpuTarget, axes: list[str]) -> int:
    work = 1
    for a in axes:
        work *= trips(b, a)
    return target.thread_count if work >= target.min_parallel_work else 1


def reduction_order(b: ScheduleBuilder, reductions: list[str], last: str | None = None) -> list[str]:
    """Knob `order`: the order of the reduction loops in the tile (`last`, if present, stays innermost)."""
    reds = present(b, reductions)
    free = [r for r in reds if r != last]
    if len(free) < 2:
        return reds
    tail = [last] if last in reds else []
    choices = [",".join([*p, *tail]) for p in permutations(free)]
    return str(b.knobs.pick("order", choices, ",".join(reds))).split(",")


def conv_blocked_rule(b: ScheduleBuilder, target: CpuTarget) -> None:
    lanes = target.lanes(32)
    block = trips(b, "oc")
    per_column = max(1, -(-block // lanes))
    most = max(1, (target.vector_registers - 1 - per_column) // per_column)
    width = trips(b, "ow")
    tile = register_tile(width, min(most, 12), per_column, target.fma_chains)
    threads = _threads(b, target, ["n", "ob", "oh", "ow", "oc", "icb", "kh", "kw", "ii"])
    if b.has("ow"):
        tile = b.knobs.pick("tile", range(1, min(width, most, 16) + 1), tile)
        # Accumulators, the weight vectors of one input channel, one broadcast input.
        b.knobs.use_registers(tile * per_column + per_column + 1)
        order = reduction_order(b, ["icb", "kh", "kw", "ii"], last="ii")
        tile_row(b, "ow", tile, "oc" if b.has("oc") else None, order, vector_axis=False)
        if not integer_dot(b, target):
            unroll_knob(b, "unroll_ii", "ii")
    parallel_first(b, present(b, ["n", "ob", "oh"]), threads, target)


def narrow_operands(b: ScheduleBuilder) -> int:
    """Bits of the input and weight of a narrow integer conv (i16/i8 read, i32 sums), else 0."""
    types = [arg.type for arg in b.kernel.args]
    if len(types) < 3 or not all(isinstance(t, MemRefType) for t in types):
        return 0
    x, w = (t.element_type for t in types[:2])
    if x != w or x not in (IntegerType(16), IntegerType(8)):
        return 0
    return x.width.data


def integer_dot(b: ScheduleBuilder, target: CpuTarget) -> bool:
    """A narrow integer conv's reduction over input channels in groups, one dot-product instruction each.

    The weight's input-channel lane axis `ii` is packed by the group g
    ([.., ii, oc] -> [.., ii/g, oc, g]: the g weights of one output channel
    adjacent), each tile's `ii` split by g with the group moved inside the
    channel vector, which `dot` then marks (see compiler/schedule/dot.py).
    i16 operands take the target's `int_dot` (pmaddwd, or VNNI's vpdpwssd; g = 2);
    8-bit ones (a u8 input and an s8 weight, `narrow-integer-conv{u8-dot=true}`)
    take vpdpbusd (g = 4) where the target has VNNI (`int_dot` vpdpwssd: every
    VNNI extension has both), else the plain widening loop.
    """
    bits = narrow_operands(b)
    if bits not in (8, 16) or not target.int_dot or not b.has("ii"):
        return False
    instruction = target.int_dot
    if instruction not in ("pmaddwd", "vpdpwssd"):
        return False
    if bits == 8:
        if instruction != "vpdpwssd":
            return False
        instruction = "vpdpbusd"
    group = GROUP[instruction]
    if trips(b, "ii") % group or not b.has("oc"):
        return False
    tiles = [lp for lp in all_loops(b.kernel) if lp.axis_name.split(".")[0] == "ii"]
    for ii in tiles:
        name = ii.axis_name
        vec = next((lp for lp in ii.body.walk() if isinstance(lp, ForOp) and lp.kind == VECTORIZE), None)
        if vec is None or not b.attempt(Split(name, group)):
            return False
        inner = f"{name}.inner"
        between = [lp.axis_name for lp in find_loop(b.kernel, inner).body.walk() if isinstance(lp, ForOp)]
        if not b.attempt(Unroll(inner)) or not b.attempt(Reorder((*between, inner))):
            return False
        if not b.attempt(Dot(vec.axis_name, inner, instruction)):
            return False
    return b.attempt(Pack(1, 4, group, outer=4))


def conv_nchw_rule(b: ScheduleBuilder, target: CpuTarget) -> None:
    lanes = target.lanes(32)
    threads = _threads(b, target, ["n", "g", "co", "oh", "ow", "ci", "kh", "kw"])
    if not b.has("ow"):
        generic_rule(b, target)
        return
    channels = 8
    if b.has("co"):
        channels = b.knobs.pick("channels", [c for c in (1, 2, 4, 6, 8, 12, 16) if c < trips(b, "co")], channels)
    columns = b.knobs.pick("columns", [c for c in (lanes // 2, lanes, 2 * lanes) if c >= 2], lanes)
    vectors = -(-columns // lanes)
    # Accumulators (channels x column vectors), the input vectors, one broadcast weight.
    b.knobs.use_registers(channels * vectors + vectors + 1)
    reds = reduction_order(b, ["ci", "kh", "kw"])
    co_outer = None
    if b.has("co"):
        co_outer, co_inner, co_rest = split(b, "co", channels) if trips(b, "co") > channels else (None, "co", None)
        rows = [(co_outer, co_inner)]
        if co_rest is not None:
            rows.append((None, co_rest))
        for outer, co in rows:
            if outer is None and co != "co" and co != co_inner:
                names = chain(b, co)  # (co tail, oh?, ow, reductions)
                oh = next((n for n in names if n.startswith("oh")), None)
                ow = next(n for n in names if n.startswith("ow"))
                red = [n for n in names if n.split(".")[0] in reds]
                if b.knobs.tuning:
                    red = in_order(red, reds)
            else:
                oh, ow, red = ("oh" if b.has("oh") else None), "ow", reds
            b.attempt(Reorder(tuple([*([outer] if outer else []), *([oh] if oh else []), ow, co, *[r for r in red if b.has(r)]])))
            tile_row(b, ow, columns, co, red, vector_axis=True)
    else:
        tile_row(b, "ow", columns, None, reds, vector_axis=True)
    unroll_knob(b, "unroll_kw", "kw")
    parallel_first(
        b,
        present(b, ["n", "g"]) + ([co_outer] if co_outer else []) + present(b, ["oh"]),
        threads,
        target,
        present(b, ["n", "g"]) + ["co.outer"] + present(b, ["oh"]),
    )
