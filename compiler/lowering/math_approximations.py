"""Vectorizable f32 approximations of exp, tanh and erf, emitted as llvm-dialect ops.

libm's expf/tanhf/erff are scalar calls: on a vector<16xf32> they cost 16
calls plus lane shuffling. These are straight-line FMA polynomials that LLVM
compiles to a handful of AVX-512 instructions per vector. They are emitted
directly as llvm ops (not arith) because xDSL's arith cannot express per-lane
selects or vector float<->int casts.

Accuracy (checked against float64 over dense grids, see tests):
- exp:  Cephes expf: Cody-Waite range reduction x = n ln2 + r, degree-5
        polynomial on r, scaling by 2^n in two steps so that results in the
        subnormal range round once. Max relative error 1.2e-7 (normal
        results); +inf above ln(FLT_MAX), NaN propagates.
- tanh: Cephes tanhf: odd polynomial for |x| <= 0.625, else
        1 - 2 / (exp(2|x|) + 1) with the sign of x. Max relative error 1.4e-7.
- erf:  Eigen's rational approximation x P(x^2) / Q(x^2) on [-4, 4], clamped to
        [-1, 1]. Max relative error about 4e-7.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects import llvm
from xdsl.dialects.builtin import Float32Type, VectorType, i32
from xdsl.ir import Attribute, SSAValue
from xdsl.pattern_rewriter import PatternRewriter

from compiler.dialects import llvm_ext
from compiler.lowering.llvm_common import constant


def is_f32_like(type_: Attribute) -> bool:
    element = type_.element_type if isinstance(type_, VectorType) else type_
    return isinstance(element, Float32Type)


class _Emitter:
    """Emits llvm ops on one f32-like type (f32 or vector<N x f32>)."""

    def __init__(self, rewriter: PatternRewriter, type_: Attribute) -> None:
        self.rewriter = rewriter
        self.type = type_
        self.int_type: Attribute = (
            VectorType(i32, type_.get_shape()) if isinstance(type_, VectorType) else i32
        )

    def c(self, value: float) -> SSAValue:
        return constant(value, self.type, self.rewriter)

    def ci(self, value: int) -> SSAValue:
        return constant(value, self.int_type, self.rewriter)

    def add(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.rewriter.insert(llvm.FAddOp(a, b)).res

    def sub(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.rewriter.insert(llvm.FSubOp(a, b)).res

    def mul(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.rewriter.insert(llvm.FMulOp(a, b)).res

    def div(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.rewriter.insert(llvm.FDivOp(a, b)).res

    def fma(self, a: SSAValue, b: SSAValue, c: SSAValue) -> SSAValue:
        return self.rewriter.insert(llvm.FMAOp(a, b, c)).res

    def max(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.rewriter.insert(llvm.VectorFMaxOp(a, b)).res

    def min(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.rewriter.insert(llvm.VectorFMinOp(a, b)).res

    def abs(self, a: SSAValue) -> SSAValue:
        return self.rewriter.insert(llvm.FAbsOp(a, a.type)).result

    def copysign(self, magnitude: SSAValue, sign: SSAValue) -> SSAValue:
        return self.rewriter.insert(llvm.FCopySignOp(magnitude, sign)).res

    def cmp(self, predicate: str, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.rewriter.insert(llvm_ext.FCmpOp(a, b, predicate)).res

    def select(self, cond: SSAValue, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.rewriter.insert(llvm_ext.SelectOp(cond, a, b)).res

    def horner(self, x: SSAValue, coefficients: Sequence[float]) -> SSAValue:
        """c0 x^k + c1 x^(k-1) + ... + ck, highest degree first, with FMAs."""
        result = self.c(coefficients[0])
        for coefficient in coefficients[1:]:
            result = self.fma(result, x, self.c(coefficient))
        return result

    def pow2(self, exponent: SSAValue) -> SSAValue:
        """2^n for an i32-like n in the normal exponent range, built from its bits."""
        biased = self.rewriter.insert(llvm.AddOp(exponent, self.ci(127))).res
        bits = self.rewriter.insert(llvm.ShlOp(biased, self.ci(23))).res
        return self.rewriter.insert(llvm.BitcastOp(bits, self.type)).result


# Cephes expf.
_EXP_HI = 88.72283905206835  # ln(FLT_MAX): above, exp overflows to +inf
_EXP_LO = -103.97208404541016  # below, exp underflows to 0
_LOG2E = 1.44269504088896341
_LN2_HI = 0.693359375
_LN2_LO = -2.12194440e-4
_EXP_POLY = (
    1.9875691500e-4,
    1.3981999507e-3,
    8.3334519073e-3,
    4.1665795894e-2,
    1.6666665459e-1,
    5.0000001201e-1,
)


def emit_exp(e: _Emitter, x: SSAValue) -> SSAValue:
    clamped = e.min(e.max(x, e.c(_EXP_LO)), e.c(_EXP_HI))
    n = e.rewriter.insert(llvm_ext.RoundEvenOp(e.mul(clamped, e.c(_LOG2E)))).result
    r = e.fma(n, e.c(-_LN2_HI), clamped)
    r = e.fma(n, e.c(-_LN2_LO), r)
    p = e.horner(r, _EXP_POLY)
    y = e.add(e.fma(p, e.mul(r, r), r), e.c(1.0))
    # 2^n as 2^(n>>1) * 2^(n - n>>1): both factors stay normal for n in
    # [-150, 128], so a subnormal result is rounded once, by the last multiply.
    ni = e.rewriter.insert(llvm_ext.FPToSIOp(n, e.int_type)).result
    n1 = e.rewriter.insert(llvm.AShrOp(ni, e.ci(1))).res
    n2 = e.rewriter.insert(llvm.SubOp(ni, n1)).res
    result = e.mul(e.mul(y, e.pow2(n1)), e.pow2(n2))
    result = e.select(e.cmp("ogt", x, e.c(_EXP_HI)), e.c(float("inf")), result)
    # maxnum/minnum dropped a NaN input above: give it back.
    return e.select(e.cmp("uno", x, x), x, result)


# Cephes tanhf.
_TANH_POLY = (
    -5.70498872745e-3,
    2.06390887954e-2,
    -5.37397155531e-2,
    1.33314422036e-1,
    -3.33332819422e-1,
)


def emit_tanh(e: _Emitter, x: SSAValue) -> SSAValue:
    z = e.mul(x, x)
    small = e.fma(e.mul(e.horner(z, _TANH_POLY), z), x, x)
    magnitude = e.abs(x)
    exp2x = emit_exp(e, e.add(magnitude, magnitude))
    large = e.sub(e.c(1.0), e.div(e.c(2.0), e.add(exp2x, e.c(1.0))))
    large = e.copysign(large, x)
    return e.select(e.cmp("ogt", magnitude, e.c(0.625)), large, small)


# Eigen's generic_fast_erf_float: numerator (odd, x^13..x^1) and denominator (even).
_ERF_NUM = (
    -2.72614225801306e-10,
    2.77068142495902e-08,
    -2.10102402082508e-06,
    -5.69250639462346e-05,
    -7.34990630326855e-04,
    -2.95459980854025e-03,
    -1.60960333262415e-02,
)
_ERF_DEN = (
    -1.45660718464996e-05,
    -2.13374055278905e-04,
    -1.68282697438203e-03,
    -7.37332916720468e-03,
    -1.42647390514189e-02,
)


def emit_erf(e: _Emitter, x: SSAValue) -> SSAValue:
    clamped = e.min(e.max(x, e.c(-4.0)), e.c(4.0))
    x2 = e.mul(clamped, clamped)
    numerator = e.mul(e.horner(x2, _ERF_NUM), clamped)
    denominator = e.horner(x2, _ERF_DEN)
    result = e.min(e.max(e.div(numerator, denominator), e.c(-1.0)), e.c(1.0))
    return e.select(e.cmp("uno", x, x), x, result)


def approximate(kind: str, x: SSAValue, rewriter: PatternRewriter) -> SSAValue:
    """Emit the approximation of `kind` ("exp", "tanh", "erf") of an f32-like value."""
    emitter = _Emitter(rewriter, x.type)
    emit = {"exp": emit_exp, "tanh": emit_tanh, "erf": emit_erf}[kind]
    return emit(emitter, x)
