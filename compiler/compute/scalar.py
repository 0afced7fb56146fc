"""Scalar semantics of elementwise graph ops as arith/math ops.

`emit_scalar` gets the already computed operand values of one element and
returns the result value, honouring the tensors' element types (float vs
signed vs unsigned integers vs i1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from xdsl.dialects import arith, math
from xdsl.dialects.builtin import Float32Type, IntegerAttr, IntegerType, i1
from xdsl.ir import Attribute, Operation, SSAValue

from compiler import dtypes
from compiler.compute.builder import KernelBuilder, is_unsigned, value_type
from compiler.dialects import graph as g


def _float(elem: Attribute) -> bool:
    return dtypes.is_float(elem)


def convert(kb: KernelBuilder, v: SSAValue, src: Attribute, dst: Attribute) -> SSAValue:
    """Element type conversion with ONNX Cast semantics (float->int truncates)."""
    if src == dst:
        return v
    vs, vd = value_type(src), value_type(dst)
    if dst == i1:
        if _float(src):
            return kb.value(arith.CmpfOp(v, kb.const(0.0, src), "une"))
        return kb.value(arith.CmpiOp(v, kb.const(0, src), "ne"))
    if src == i1:
        if _float(dst):
            return kb.value(arith.UIToFPOp(v, vd))
        return kb.value(arith.ExtUIOp(v, vd))
    if _float(src) and _float(dst):
        sw, dw = dtypes.to_numpy_dtype(src).itemsize, dtypes.to_numpy_dtype(dst).itemsize
        if sw == dw:  # f16 <-> bf16: through f32, which holds both exactly
            v, sw = kb.value(arith.ExtFOp(v, value_type(Float32Type()))), 4
        return kb.value(arith.ExtFOp(v, vd) if dw > sw else arith.TruncFOp(v, vd))
    if _float(src):
        return kb.value(arith.FPToUIOp(v, vd) if is_unsigned(dst) else arith.FPToSIOp(v, vd))
    if _float(dst):
        return kb.value(arith.UIToFPOp(v, vd) if is_unsigned(src) else arith.SIToFPOp(v, vd))
    assert isinstance(vs, IntegerType) and isinstance(vd, IntegerType)
    if vs.width.data == vd.width.data:
        return v
    if vd.width.data < vs.width.data:
        return kb.value(arith.TruncIOp(v, vd))
    return kb.value(arith.ExtUIOp(v, vd) if is_unsigned(src) else arith.ExtSIOp(v, vd))


def max_value(kb: KernelBuilder, a: SSAValue, b: SSAValue, elem: Attribute) -> SSAValue:
    if _float(elem):
        return kb.value(arith.MaximumfOp(a, b))
    return kb.value(arith.MaxUIOp(a, b) if is_unsigned(elem) else arith.MaxSIOp(a, b))


def min_value(kb: KernelBuilder, a: SSAValue, b: SSAValue, elem: Attribute) -> SSAValue:
    if _float(elem):
        return kb.value(arith.MinimumfOp(a, b))
    return kb.value(arith.MinUIOp(a, b) if is_unsigned(elem) else arith.MinSIOp(a, b))


def add(kb: KernelBuilder, a: SSAValue, b: SSAValue, elem: Attribute) -> SSAValue:
    return kb.value(arith.AddfOp(a, b) if _float(elem) else arith.AddiOp(a, b))


def mul(kb: KernelBuilder, a: SSAValue, b: SSAValue, elem: Attribute) -> SSAValue:
    return kb.value(arith.MulfOp(a, b) if _float(elem) else arith.MuliOp(a, b))


def _sub(kb: KernelBuilder, a: SSAValue, b: SSAValue, elem: Attribute) -> SSAValue:
    return kb.value(arith.SubfOp(a, b) if _float(elem) else arith.SubiOp(a, b))


def _div(kb: KernelBuilder, a: SSAValue, b: SSAValue, elem: Attribute) -> SSAValue:
    if _float(elem):
        return kb.value(arith.DivfOp(a, b))
    return kb.value(arith.DivUIOp(a, b) if is_unsigned(elem) else arith.DivSIOp(a, b))


def _mod(kb: KernelBuilder, a: SSAValue, b: SSAValue, elem: Attribute) -> SSAValue:
    if _float(elem):
        return _fmod(kb, a, b, elem)
    if is_unsigned(elem):
        return kb.value(arith.RemUIOp(a, b))
    # Sign of the divisor (Python/ONNX Mod): adjust C's truncated remainder.
    r = kb.value(arith.RemSIOp(a, b))
    zero = kb.const(0, elem)
    nonzero = kb.value(arith.CmpiOp(r, zero, "ne"))
    r_neg = kb.value(arith.CmpiOp(r, zero, "slt"))
    b_neg = kb.value(arith.CmpiOp(b, zero, "slt"))
    differ = kb.value(arith.XOrIOp(r_neg, b_neg))
    fix = kb.value(arith.AndIOp(nonzero, differ))
    return kb.value(arith.SelectOp(fix, kb.value(arith.AddiOp(r, b)), r))


def _fmod(kb: KernelBuilder, a: SSAValue, b: SSAValue, elem: Attribute) -> SSAValue:
    """C fmod (ONNX Mod with fmod=1): a - q * b for the truncated quotient q, with a's sign.

    The exact result is representable, but `a - trunc(a / b) * b` rounds twice
    (fmod(100, 0.3) came out 2.5e-5 off relative to |b|) and turns b = inf
    into NaN. Here the product and difference round once (fma); a quotient
    that a / b rounded across an integer is corrected by one |b| step; and
    fmod(finite, +-inf) = a. Exact while |a / b| < 2^24 (f32) or 2^53 (f64).
    """
    q = kb.value(math.TruncOp(kb.value(arith.DivfOp(a, b))))
    r = kb.value(math.FmaOp(kb.value(arith.NegfOp(q)), b, a))
    abs_b = kb.value(math.AbsFOp(b))
    zero = kb.const(0.0, elem)
    # Work on |r| in the direction of a: 0 <= ra < |b| is the target range.
    sign_a = kb.value(math.CopySignOp(kb.const(1.0, elem), a))
    ra = kb.value(arith.MulfOp(r, sign_a))
    low = kb.value(arith.CmpfOp(ra, zero, "olt"))
    ra = kb.value(arith.SelectOp(low, kb.value(arith.AddfOp(ra, abs_b)), ra))
    high = kb.value(arith.CmpfOp(ra, abs_b, "oge"))
    ra = kb.value(arith.SelectOp(high, kb.value(arith.SubfOp(ra, abs_b)), ra))
    r = kb.value(math.CopySignOp(ra, a))  # -0.0 for a < 0, as C's fmod
    inf = kb.const(float("inf"), elem)
    b_inf = kb.value(arith.CmpfOp(abs_b, inf, "oeq"))
    a_finite = kb.value(arith.CmpfOp(kb.value(math.AbsFOp(a)), inf, "olt"))
    return kb.value(arith.SelectOp(kb.value(arith.AndIOp(b_inf, a_finite)), a, r))


def _cmp(pred_f: str, pred_s: str, pred_u: str) -> Callable[[KernelBuilder, SSAValue, SSAValue, Attribute], SSAValue]:
    def emit(kb: KernelBuilder, a: SSAValue, b: SSAValue, elem: Attribute) -> SSAValue:
        if _float(elem):
            return kb.value(arith.CmpfOp(a, b, pred_f))
        return kb.value(arith.CmpiOp(a, b, pred_u if is_unsigned(elem) or elem == i1 else pred_s))

    return emit


def _pow(kb: KernelBuilder, a: SSAValue, b: SSAValue, elem: Attribute) -> SSAValue:
    if _float(elem):
        return kb.value(math.PowFOp(a, b))
    return _ipow(kb, a, b, elem)


def _ipow(kb: KernelBuilder, a: SSAValue, b: SSAValue, elem: Attribute) -> SSAValue:
    """Integer a ** b as the interpreter defines it (compiler/interpreter.py `_pow`).

    b >= 0: exact, wrapping like numpy. b < 0: what runtimes get from
    trunc(pow(double a, double b)): 1 for a = 1, +-1 for a = -1, 0 for |a| >= 2,
    and for a = 0 the x86 conversion of inf (INT_MIN).

    math.ipowi has no LLVM lowering, and a loop would stop the vectorizer, so
    this is straight-line square-and-multiply over the exponent's bits, with
    multiplies instead of selects (factor = 1 + bit * (base - 1)) so that it
    stays in vector registers.
    """
    width = value_type(elem).width.data  # type: ignore[attr-defined]
    one = kb.const(1, elem)
    known = _int_constant(b)
    if known is not None and known >= 0:
        # Constant exponent (x ** 2, x ** 3): only its bits, no selects.
        result: SSAValue | None = None
        base = a
        while known:
            if known & 1:
                result = base if result is None else kb.value(arith.MuliOp(result, base))
            known >>= 1
            if known:
                base = kb.value(arith.MuliOp(base, base))
        return result if result is not None else one
    bits = width if is_unsigned(elem) else width - 1
    result = one
    base = a
    for k in range(bits):
        bit = kb.value(arith.AndIOp(kb.value(arith.ShRUIOp(b, kb.const(k, elem))), one))
        factor = kb.value(arith.AddiOp(one, kb.value(arith.MuliOp(bit, kb.value(arith.SubiOp(base, one))))))
        result = kb.value(arith.MuliOp(result, factor))
        if k + 1 < bits:
            base = kb.value(arith.MuliOp(base, base))
    if is_unsigned(elem):
        return result
    zero = kb.const(0, elem)
    minus_one = kb.const(-1, elem)
    odd = kb.value(arith.CmpiOp(kb.value(arith.AndIOp(b, one)), zero, "ne"))
    negative = kb.value(
        arith.SelectOp(
            kb.value(arith.CmpiOp(a, one, "eq")),
            one,
            kb.value(
                arith.SelectOp(
                    kb.value(arith.CmpiOp(a, minus_one, "eq")),
                    kb.value(arith.SelectOp(odd, minus_one, one)),
                    kb.value(
                        arith.SelectOp(
                            kb.value(arith.CmpiOp(a, zero, "eq")),
                            kb.const(-(1 << (width - 1)), elem),
                            zero,
                        )
                    ),
                )
            ),
        )
    )
    return kb.value(arith.SelectOp(kb.value(arith.CmpiOp(b, zero, "slt")), negative, result))


def _int_constant(v: SSAValue) -> int | None:
    owner = v.owner
    if isinstance(owner, arith.ConstantOp) and isinstance(owner.value, IntegerAttr):
        return owner.value.value.data
    return None


_BINARY: dict[type[Operation], Callable[[KernelBuilder, SSAValue, SSAValue, Attribute], SSAValue]] = {
    g.AddOp: add,
    g.SubOp: _sub,
    g.MulOp: mul,
    g.DivOp: _div,
    g.PowOp: _pow,
    g.MaxOp: max_value,
    g.MinOp: min_value,
    g.ModOp: _mod,
    g.EqualOp: _cmp("oeq", "eq", "eq"),
    g.LessOp: _cmp("olt", "slt", "ult"),
    g.LessEqualOp: _cmp("ole", "sle", "ule"),
    g.GreaterOp: _cmp("ogt", "sgt", "ugt"),
    g.GreaterEqualOp: _cmp("oge", "sge", "uge"),
    g.AndOp: lambda kb, a, b, e: kb.value(arith.AndIOp(a, b)),
    g.OrOp: lambda kb, a, b, e: kb.value(arith.OrIOp(a, b)),
    g.XorOp: lambda kb, a, b, e: kb.value(arith.XOrIOp(a, b)),
    g.BitwiseAndOp: lambda kb, a, b, e: kb.value(arith.AndIOp(a, b)),
    g.BitwiseOrOp: lambda kb, a, b, e: kb.value(arith.OrIOp(a, b)),
    g.BitwiseXorOp: lambda kb, a, b, e: kb.value(arith.XOrIOp(a, b)),
    g.ShiftLeftOp: lambda kb, a, b, e: _shift(kb, a, b, e, left=True),
    g.ShiftRightOp: lambda kb, a, b, e: _shift(kb, a, b, e, left=False),
}


def _shift(kb: KernelBuilder, a: SSAValue, b: SSAValue, elem: Attribute, left: bool) -> SSAValue:
    """a << b or a >> b, defined for every b: LLVM's shifts are poison from the bit width on."""
    t = value_type(elem)
    assert isinstance(t, IntegerType)
    width = t.width.data
    over = kb.value(arith.CmpiOp(b, kb.const(width, elem), "uge"))  # negative b is huge unsigned
    if left or is_unsigned(elem):
        safe = kb.value(arith.SelectOp(over, kb.const(0, elem), b))
        shifted = kb.value(arith.ShLIOp(a, safe) if left else arith.ShRUIOp(a, safe))
        return kb.value(arith.SelectOp(over, kb.const(0, elem), shifted))
    # Arithmetic: shifting by width - 1 gives the sign fill that a wider shift would.
    top = kb.value(arith.SelectOp(over, kb.const(width - 1, elem), b))
    return kb.value(arith.ShRSIOp(a, top))


def _one(kb: KernelBuilder, elem: Attribute) -> SSAValue:
    return kb.const(1.0, elem)


def _sigmoid(kb: KernelBuilder, x: SSAValue, elem: Attribute) -> SSAValue:
    e = kb.value(math.ExpOp(kb.value(arith.NegfOp(x))))
    return kb.value(arith.DivfOp(_one(kb, elem), kb.value(arith.AddfOp(_one(kb, elem), e))))


def _softplus(kb: KernelBuilder, x: SSAValue, elem: Attribute) -> SSAValue:
    # max(x, 0) + log1p(exp(-|x|)) never overflows.
    absx = kb.value(math.AbsFOp(x))
    tail = kb.value(math.Log1pOp(kb.value(math.ExpOp(kb.value(arith.NegfOp(absx))))))
    return kb.value(arith.AddfOp(kb.value(arith.MaximumfOp(x, kb.const(0.0, elem))), tail))


def _neg(kb: KernelBuilder, x: SSAValue, elem: Attribute) -> SSAValue:
    if _float(elem):
        return kb.value(arith.NegfOp(x))
    return kb.value(arith.SubiOp(kb.const(0, elem), x))


def _abs(kb: KernelBuilder, x: SSAValue, elem: Attribute) -> SSAValue:
    if _float(elem):
        return kb.value(math.AbsFOp(x))
    if is_unsigned(elem):
        return x
    return kb.value(math.AbsIOp(x))


def _sign(kb: KernelBuilder, x: SSAValue, elem: Attribute) -> SSAValue:
    zero, one = kb.const(0, elem), kb.const(1, elem)
    minus = kb.const(-1, elem) if not is_unsigned(elem) else zero
    gt = _cmp("ogt", "sgt", "ugt")(kb, x, zero, elem)
    lt = _cmp("olt", "slt", "ult")(kb, x, zero, elem)
    return kb.value(arith.SelectOp(gt, one, kb.value(arith.SelectOp(lt, minus, zero))))


def _relu(kb: KernelBuilder, x: SSAValue, elem: Attribute) -> SSAValue:
    return max_value(kb, x, kb.const(0, elem), elem)


_UNARY: dict[type[Operation], Callable[[KernelBuilder, SSAValue, Attribute], SSAValue]] = {
    g.IdentityOp: lambda kb, x, e: x,
    g.NegOp: _neg,
    g.AbsOp: _abs,
    g.SignOp: _sign,
    g.ReluOp: _relu,
    g.ExpOp: lambda kb, x, e: kb.value(math.ExpOp(x)),
    g.LogOp: lambda kb, x, e: kb.value(math.LogOp(x)),
    g.SqrtOp: lambda kb, x, e: kb.value(math.SqrtOp(x)),
    g.ReciprocalOp: lambda kb, x, e: kb.value(arith.DivfOp(_one(kb, e), x)),
    g.SigmoidOp: _sigmoid,
    g.TanhOp: lambda kb, x, e: kb.value(math.TanhOp(x)),
    g.ErfOp: lambda kb, x, e: kb.value(math.ErfOp(x)),
    g.FloorOp: lambda kb, x, e: kb.value(math.FloorOp(x)),
    g.CeilOp: lambda kb, x, e: kb.value(math.CeilOp(x)),
    g.RoundOp: lambda kb, x, e: kb.value(math.RoundEvenOp(x)),
    g.SinOp: lambda kb, x, e: kb.value(math.SinOp(x)),
    g.CosOp: lambda kb, x, e: kb.value(math.CosOp(x)),
    g.TanOp: lambda kb, x, e: kb.value(math.TanOp(x)),
    g.AsinOp: lambda kb, x, e: kb.value(math.AsinOp(x)),
    g.AcosOp: lambda kb, x, e: kb.value(math.AcosOp(x)),
    g.AtanOp: lambda kb, x, e: kb.value(math.AtanOp(x)),
    g.SinhOp: lambda kb, x, e: kb.value(math.SinhOp(x)),
    g.CoshOp: lambda kb, x, e: kb.value(math.CoshOp(x)),
    g.AsinhOp: lambda kb, x, e: kb.value(math.AsinhOp(x)),
    g.AcoshOp: lambda kb, x, e: kb.value(math.AcoshOp(x)),
    g.AtanhOp: lambda kb, x, e: kb.value(math.AtanhOp(x)),
    g.SoftplusOp: _softplus,
    g.NotOp: lambda kb, x, e: kb.value(arith.XOrIOp(x, kb.const(1, i1))),
    g.BitwiseNotOp: lambda kb, x, e: kb.value(arith.XOrIOp(x, kb.const(-1, e))),
}


def emit_scalar(kb: KernelBuilder, op: Operation, args: Sequence[SSAValue]) -> SSAValue:
    """The value of one element of `op`'s result from its operands' elements."""
    in_elem = g.elem_of(op.operands[0]) if op.operands else None
    out_elem = g.elem_of(op.results[0])
    if type(op) in _UNARY:
        assert in_elem is not None
        return _UNARY[type(op)](kb, args[0], in_elem)
    if type(op) in _BINARY:
        assert in_elem is not None
        return _BINARY[type(op)](kb, args[0], args[1], in_elem)
    x = args[0] if args else None
    match op:
        case g.WhereOp():
            return kb.value(arith.SelectOp(args[0], args[1], args[2]))
        case g.CastOp():
            assert x is not None and in_elem is not None
            return convert(kb, x, in_elem, out_elem)
        case g.LeakyReluOp():
            assert x is not None
            alpha = kb.const(op.float_prop("alpha"), out_elem)
            neg = kb.value(arith.CmpfOp(x, kb.const(0.0, out_elem), "olt"))
            return kb.value(arith.SelectOp(neg, kb.value(arith.MulfOp(x, alpha)), x))
        case g.EluOp():
            assert x is not None
            alpha = kb.const(op.float_prop("alpha"), out_elem)
            em1 = kb.value(math.ExpM1Op(x))
            neg = kb.value(arith.CmpfOp(x, kb.const(0.0, out_elem), "olt"))
            return kb.value(arith.SelectOp(neg, kb.value(arith.MulfOp(alpha, em1)), x))
        case g.HardSigmoidOp():
            assert x is not None
            y = kb.value(arith.MulfOp(x, kb.const(op.float_prop("alpha"), out_elem)))
            y = kb.value(arith.AddfOp(y, kb.const(op.float_prop("beta"), out_elem)))
            y = kb.value(arith.MaximumfOp(y, kb.const(0.0, out_elem)))
            return kb.value(arith.MinimumfOp(y, kb.const(1.0, out_elem)))
        case g.ClipOp():
            assert x is not None
            y = x
            if op.min is not None:
                y = max_value(kb, y, _bound(kb, op.min.value.data, out_elem), out_elem)
            if op.max is not None:
                y = min_value(kb, y, _bound(kb, op.max.value.data, out_elem), out_elem)
            return y
    raise NotImplementedError(f"no scalar semantics for {op.name}")


def _bound(kb: KernelBuilder, value: float, elem: Attribute) -> SSAValue:
    if _float(elem):
        return kb.const(value, elem)
    return kb.const(int(value), elem)


def is_scalar_op(op: Operation) -> bool:
    return type(op) in _UNARY or type(op) in _BINARY or isinstance(
        op, g.WhereOp | g.CastOp | g.LeakyReluOp | g.EluOp | g.HardSigmoidOp | g.ClipOp
    )
