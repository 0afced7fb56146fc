"""Lowering of `dot`-marked vectorized loops to widening dot-product intrinsics.

The schedule's `dot` primitive (compiler/schedule/dot.py) marks a vectorized
loop `v` whose body is one unrolled group loop `k` of g iterations:

    for v (vectorize, loop.dot = pmaddwd):
      for k in 0..g:  acc[.., v] += ext(x[.., k]) * ext(w[.., v, k])

For each vector of VL 32-bit lanes this emits

    xs  = vector.load x[.., 0] : vector<g x i16>         (the g inputs, the same for every lane)
    xb  = vector.shuffle xs, xs [0, 1, 0, 1, ...]        (broadcast of the group: vpbroadcastd)
    ws  = vector.load w[.., v0, 0] : vector<VL*g x i16>  (g weights per lane, adjacent)
    acc = acc + pmaddwd(xb, ws)                          (llvm.x86.*.pmadd.wd)
    acc = vpdpwssd(acc, xb, ws)                          (VNNI: the add fused)

and for vpdpbusd (g = 4, x zero-extended from u8, w sign-extended from s8)
the same with <4 x i8> / <VL*4 x i8> vectors: the four inputs are one 32-bit
broadcast, the 4 x VL weights one load, and each lane sums four u8 x s8
products into its accumulator (exact: |sum| <= 4 * 255 * 128, no saturation).

so that one instruction does the g multiplies and the pairwise sum per lane,
instead of widening every operand and multiplying 32-bit lanes (vpmulld).
Loops that do not have this exact shape are left to the ordinary vectorizer
(`None` from `lower_dot` comes with the reason).
"""

from __future__ import annotations

from xdsl.dialects import arith, memref, vector
from xdsl.dialects.builtin import (
    DenseArrayBase,
    IndexType,
    IntegerAttr,
    IntegerType,
    VectorType,
    i64,
)
from xdsl.ir import Operation, SSAValue

from compiler.dialects.llvm_ext import TargetIntrinsicOp
from compiler.dialects.loop import ForOp, YieldOp
from compiler.schedule.analysis import IV, LoopAccessAnalysis
from compiler.schedule.dot import DOT_ATTR, GROUP

PMADDWD = {128: "llvm.x86.sse2.pmadd.wd", 256: "llvm.x86.avx2.pmadd.wd", 512: "llvm.x86.avx512.pmaddw.d.512"}
"""pmaddwd by register width: (<n x i16>, <n x i16>) -> <n/2 x i32>."""

VPDPWSSD = {128: "llvm.x86.avx512.vpdpwssd.128", 256: "llvm.x86.avx512.vpdpwssd.256", 512: "llvm.x86.avx512.vpdpwssd.512"}
"""VNNI's accumulating pmaddwd by register width: (acc, a, b), all <n x i32> (the i16 pairs bitcast).
The 256-bit form is also AVX-VNNI's (VEX-encoded where AVX-512 VL is absent)."""

VPDPBUSD = {128: "llvm.x86.avx512.vpdpbusd.128", 256: "llvm.x86.avx512.vpdpbusd.256", 512: "llvm.x86.avx512.vpdpbusd.512"}
"""VNNI's u8 x s8 dot product by register width: (acc, a: u8 quads, b: s8 quads) -> acc.
Called in the <n x i32> form (the bytes bitcast), which every LLVM since 8
accepts; LLVM 22 (llvmlite 0.50) upgrades it on parsing to its own
(<n x i32>, <4n x i8>, <4n x i8>) declaration."""

I8, I16, I32 = IntegerType(8), IntegerType(16), IntegerType(32)


class _Pattern:
    """The loads, the arithmetic and the store of `acc += ext(x) * ext(w)` in the group loop."""

    def __init__(self, inner: ForOp) -> None:
        ops = [op for op in inner.body.block.ops if not isinstance(op, YieldOp)]
        stores = [op for op in ops if isinstance(op, memref.StoreOp)]
        if len(stores) != 1:
            raise ValueError("the group loop must store once")
        self.store = stores[0]
        add = self.store.value.owner
        if not isinstance(add, arith.AddiOp):
            raise ValueError("the stored value is not an integer add")
        acc, mul = (add.lhs, add.rhs) if isinstance(add.rhs.owner, arith.MuliOp) else (add.rhs, add.lhs)
        if not isinstance(mul.owner, arith.MuliOp) or not isinstance(acc.owner, memref.LoadOp):
            raise ValueError("the stored value is not acc + a product")
        self.acc = acc.owner
        if self.acc.memref != self.store.memref:
            raise ValueError("the accumulator is not the stored buffer")
        exts = [mul.owner.lhs.owner, mul.owner.rhs.owner]
        if not all(
            isinstance(e, arith.ExtSIOp | arith.ExtUIOp) and isinstance(e.input.owner, memref.LoadOp) for e in exts
        ):
            raise ValueError("the product is not of two extended loads")
        self.operand_loads: list[memref.LoadOp] = [e.input.owner for e in exts]  # type: ignore[union-attr]
        self.unsigned: set[memref.LoadOp] = {
            e.input.owner for e in exts if isinstance(e, arith.ExtUIOp)  # type: ignore[union-attr]
        }
        self.pattern_ops: set[Operation] = {self.store, add, mul.owner, self.acc, *exts, *self.operand_loads}
        self.index_ops = [op for op in ops if op not in self.pattern_ops]
        if any(op.name.split(".")[0] != "arith" for op in self.index_ops):
            raise ValueError("the group loop holds more than index arithmetic and the multiply-add")


def _is(form: object, coeff: int) -> bool:
    """A Linear form that is `coeff * iv + invariant` (coeff 0: invariant in the loop and its inner loops)."""
    if form is None:
        return False
    if coeff == 0:
        return form.invariant  # type: ignore[attr-defined]
    return form.atom == IV and form.coeff == coeff and form.lo == 0 and form.hi == 0  # type: ignore[attr-defined]


def _check_access(
    access: memref.LoadOp | memref.StoreOp,
    outer: LoopAccessAnalysis,
    inner: LoopAccessAnalysis,
    pos_v: int | None,
    pos_k: int | None,
) -> bool:
    """Index `pos_v` (from the end) steps by 1 with the vector loop, `pos_k` with
    the group loop; every other index stays the same in both loops."""
    n = len(access.indices)
    v_dim = None if pos_v is None else n + pos_v
    k_dim = None if pos_k is None else n + pos_k
    for d, index in enumerate(access.indices):
        if not _is(inner.form(index), 1 if d == k_dim else 0):
            return False
        in_v = outer.form(index)
        if d == v_dim:
            if not _is(in_v, 1):
                return False
        elif in_v is None or in_v.has_atom:
            return False
    return True


def _const(value: int, ops: list[Operation]) -> SSAValue:
    op = arith.ConstantOp(IntegerAttr(value, IndexType()))
    ops.append(op)
    return op.result


def lower_dot(loop: ForOp, vector_bits: int) -> list[Operation] | str:
    """The dot-product code of a `dot`-marked vectorized loop, or why it has none."""
    attr = loop.attributes.get(DOT_ATTR)
    instruction = getattr(attr, "data", "")
    if instruction not in GROUP:
        return f"no {instruction} lowering for these operands"
    nested = [op for op in loop.body.block.ops if not isinstance(op, YieldOp)]
    if len(nested) != 1 or not isinstance(nested[0], ForOp):
        return "the vectorized loop must hold the group loop alone"
    inner = nested[0]
    group = GROUP[instruction]
    if inner.trip_count != group or inner.lower != 0 or inner.stride != 1 or loop.stride != 1:
        return f"the group loop must run 0..{group}"
    try:
        p = _Pattern(inner)
    except ValueError as err:
        return str(err)
    outer_a, inner_a = LoopAccessAnalysis(loop), LoopAccessAnalysis(inner)
    x, w = p.operand_loads
    if not _check_access(x, outer_a, inner_a, None, -1):
        x, w = w, x
    if not (
        _check_access(x, outer_a, inner_a, None, -1)
        and _check_access(w, outer_a, inner_a, -2, -1)
        and _check_access(p.acc, outer_a, inner_a, -1, None)
        and _check_access(p.store, outer_a, inner_a, -1, None)
    ):
        return "the accesses are not x[.., k], w[.., v, k] and acc[.., v]"
    if instruction == "vpdpbusd":
        if x.res.type != I8 or w.res.type != I8 or p.acc.res.type != I32:
            return "vpdpbusd multiplies 8-bit operands into i32 accumulators"
        if x not in p.unsigned or w in p.unsigned:
            return "vpdpbusd multiplies a zero-extended u8 input by a sign-extended s8 weight"
        narrow = I8
    else:
        if x.res.type != I16 or w.res.type != I16 or p.acc.res.type != I32:
            return f"{instruction} multiplies i16 operands into i32 accumulators"
        if p.unsigned:
            return f"{instruction} multiplies sign-extended operands"
        narrow = I16
    lanes = min(vector_bits // 32, loop.trip_count)
    while lanes > 1 and loop.trip_count % lanes:
        lanes //= 2
    bits = lanes * 32
    if bits not in PMADDWD:
        return f"{loop.trip_count} lanes do not fill a {instruction} register"
    ops: list[Operation] = []
    zero = _const(0, ops)
    mask = DenseArrayBase.from_list(i64, [i % group for i in range(lanes * group)])
    wide = VectorType(narrow, [lanes * group])
    acc_t = VectorType(I32, [lanes])
    for chunk in range(loop.trip_count // lanes):
        mapping: dict[SSAValue, SSAValue] = {loop.iv: _const(loop.lower + chunk * lanes, ops), inner.iv: zero}
        for op in p.index_ops:
            ops.append(op.clone(value_mapper=mapping))

        def idx(access: memref.LoadOp | memref.StoreOp, m: dict[SSAValue, SSAValue] = mapping) -> list[SSAValue]:
            return [m.get(i, i) for i in access.indices]

        xs = vector.LoadOp(x.memref, idx(x), VectorType(narrow, [group]))
        xb = vector.ShuffleOp(xs.result, xs.result, mask, result_type=wide)
        ws = vector.LoadOp(w.memref, idx(w), wide)
        acc = vector.LoadOp(p.acc.memref, idx(p.acc), acc_t)
        ops += [xs, xb, ws, acc]
        if instruction == "pmaddwd":
            dot = TargetIntrinsicOp(PMADDWD[bits], [xb.results[0], ws.result], acc_t)
            total = arith.AddiOp(acc.result, dot.res)
            ops += [dot, total]
            result = total.result
        else:
            a, b = vector.BitcastOp(xb.results[0], acc_t), vector.BitcastOp(ws.result, acc_t)
            names = VPDPWSSD if instruction == "vpdpwssd" else VPDPBUSD
            dot = TargetIntrinsicOp(names[bits], [acc.result, a.result, b.result], acc_t)
            ops += [a, b, dot]
            result = dot.res
        ops.append(vector.StoreOp(result, p.store.memref, idx(p.store)))
    return ops
