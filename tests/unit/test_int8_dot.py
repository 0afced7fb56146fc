"""INT8 convs through the integer dot product (narrow-integer-conv, `dot`, pmaddwd / vpdpwssd / vpdpbusd).

A hand-written QDQ model (u8 activations with a zero point, symmetric
per-channel s8 weights, int32 bias: what onnxruntime's quantizer writes)
compiles, on a host with VNNI, to convs that read the u8 activations and s8
weights (the zero point compensated in the bias, `vpdpbusd`), elsewhere to
convs that read i16 operands (pmaddwd, which every x86-64 has); either way
they must match onnxruntime exactly, integer for integer. The VNNI paths
cannot run on a host without VNNI (those tests skip), but they compile: for
a Zen 4 target (AVX-512 VNNI, features given, not detected) the default
schedule chooses vpdpbusd (u8 graph) or vpdpwssd (i16 graph) and LLVM emits it.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from xdsl.dialects.builtin import IntegerType, Signedness

import compiler
from compiler import driver
from compiler.api import run_pipeline
from compiler.dialects import graph as g
from compiler.targets.cpu.jit import llvm_module
from compiler.targets.cpu.machine import HostTarget, assembly, int_dot
from compiler.targets.cpu.translate import to_llvm_ir
from compiler.testing import models, oracle

SX, ZX = 0.05, 128


def _qdq_conv_net(size: int = 10, both: bool = True) -> onnx.ModelProto:
    """x -> Q/DQ -> conv 32->48 3x3 -> relu -> Q/DQ [-> conv 48->32 3x3 stride 2] -> Q/DQ."""
    rng = np.random.default_rng(0)
    inits: list[onnx.TensorProto] = []
    nodes: list[onnx.NodeProto] = []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(value, name))
        return name

    def qdq(src: str, name: str, scale: float, zp: int) -> str:
        s, z = const(f"{name}_s", np.float32(scale)), const(f"{name}_z", np.uint8(zp))
        nodes.append(helper.make_node("QuantizeLinear", [src, s, z], [f"{name}_q"]))
        nodes.append(helper.make_node("DequantizeLinear", [f"{name}_q", s, z], [f"{name}_dq"]))
        return f"{name}_dq"

    def conv(src: str, name: str, cin: int, cout: int, sx: float, stride: int) -> str:
        wq = rng.integers(-127, 128, (cout, cin, 3, 3)).astype(np.int8)
        sw = (rng.uniform(0.5, 1.5, cout) * 0.0005).astype(np.float32)
        bq = rng.integers(-2000, 2000, cout).astype(np.int32)
        w = f"{name}_w"
        nodes.append(helper.make_node(
            "DequantizeLinear", [const(f"{name}_wq", wq), const(f"{name}_sw", sw), const(f"{name}_zw", np.zeros(cout, np.int8))],
            [w], axis=0))
        b = f"{name}_b"
        nodes.append(helper.make_node(
            "DequantizeLinear", [const(f"{name}_bq", bq), const(f"{name}_sb", (np.float32(sx) * sw).astype(np.float32)),
                                 const(f"{name}_zb", np.zeros(cout, np.int32))], [b], axis=0))
        nodes.append(helper.make_node("Conv", [src, w, b], [name], pads=[1, 1, 1, 1], strides=[stride, stride]))
        return name

    h = conv(qdq("x", "in", SX, ZX), "c1", 32, 48, SX, 1)
    nodes.append(helper.make_node("Relu", [h], ["r1"]))
    h = conv(qdq("r1", "a1", 0.08, 3), "c2", 48, 32, 0.08, 2) if both else "r1"
    y = qdq(h, "out", 0.1, 120)
    out_shape = [1, 32, (size + 1) // 2, (size + 1) // 2] if both else [1, 48, size, size]
    nodes.append(helper.make_node("Identity", [y], ["y"]))
    graph = helper.make_graph(
        nodes, "qdq_conv_net",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 32, size, size])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model


def test_int_dot_from_host_features() -> None:
    assert int_dot({"+avx512f", "+avx512bw", "+avx512vnni", "+avx512vl"}, 512) == "vpdpwssd"
    assert int_dot({"+avx512f", "+avx512bw"}, 512) == "pmaddwd"
    assert int_dot({"+avx2", "+sse2"}, 256) == "pmaddwd"
    assert int_dot({"+avx2", "+avxvnni"}, 256) == "vpdpwssd"
    assert int_dot({"+sse2"}, 128) == "pmaddwd"
    zen4 = HostTarget("x86_64-unknown-linux-gnu", "znver4", "+avx512f,+avx512bw,+avx512vl,+avx512vnni,+avx2,+sse2")
    assert zen4.schedule_target().int_dot == "vpdpwssd"


def test_qdq_convs_match_onnxruntime_exactly() -> None:
    model = _qdq_conv_net()
    feeds = {"x": (models.random_inputs(model, seed=3)["x"] * 4).astype(np.float32)}
    want = oracle.run_onnxruntime(model, feeds)[0]
    for level in (0, 3):
        (got,) = compiler.compile(model, opt_level=level).run(None, feeds)
        differing = int(np.sum(np.abs(np.asarray(got) - want) > 1e-6))
        print(f"O{level}: {differing} of {want.size} outputs differ from onnxruntime")
        if level == 3:
            np.testing.assert_array_equal(np.asarray(got), want)
        else:  # O0 computes the dequantized float convs: at most one output step off
            assert np.max(np.abs(np.asarray(got) - want)) <= 0.1 + 1e-6


def _assembly_for(host: HostTarget, u8_dot: bool | None = None) -> str:
    """Host assembly of the one-conv net; `u8_dot` None: as the driver chooses for `host`."""
    module = compiler.import_onnx(_qdq_conv_net(size=4, both=False))
    if u8_dot is None:
        run_pipeline(module, driver.graph_pipeline(3, host))
    else:
        run_pipeline(module, f"graph-optimize{{level=3 u8-dot={'true' if u8_dot else 'false'}}}")
    lowered, _, _ = driver.lower_to_llvm(module, host=host)
    return assembly(to_llvm_ir(llvm_module(lowered), host.triple, host.data_layout), host)


def test_vnni_target_emits_vpdpbusd_and_avx2_target_vpmaddwd() -> None:
    """The driver and the default schedule pick the dot product from the given target's features."""
    triple = HostTarget.detect().triple
    zen4 = HostTarget(triple, "znver4", "+avx512f,+avx512bw,+avx512vl,+avx512vnni,+avx512dq,+avx2,+fma,+sse2")
    assert driver.host_has_u8_dot(zen4)
    asm = _assembly_for(zen4)
    assert "vpdpbusd" in asm and "%zmm" in asm
    assert "vpmaddwd" not in asm and "vpdpwssd" not in asm
    # The same target with an i16 graph (narrow-integer-conv without u8-dot): vpdpwssd.
    asm = _assembly_for(zen4, u8_dot=False)
    assert "vpdpwssd" in asm and "vpdpbusd" not in asm
    zen3 = HostTarget(triple, "znver3", "+avx2,+fma,+sse2,-avx512f,-avx512vnni,-avxvnni")
    assert not driver.host_has_u8_dot(zen3)
    asm = _assembly_for(zen3)
    assert "vpmaddwd" in asm and "vpdpwssd" not in asm and "vpdpbusd" not in asm


# --- u8 x s8 convs (vpdpbusd) against onnxruntime --------------------------------------------

_HOST_U8_DOT = driver.host_has_u8_dot(HostTarget.detect())
needs_vnni = pytest.mark.skipif(not _HOST_U8_DOT, reason="the host has no VNNI vpdpbusd")


def _qdq_single_conv(
    cin: int, cout: int, kernel: int, pads: list[int], stride: int, zx: int,
    dilation: int = 1, size: int = 9, seed: int = 0, bias: bool = True, signed: bool = False,
    residual: bool = False,
) -> onnx.ModelProto:
    """x -> Q/DQ (u8, or s8 if `signed`; zero point zx) -> conv (per-channel s8 weights, full
    range) -> Q/DQ (u8) [+ DQ(xq), a second reader of the quantized input, then Q/DQ]."""
    rng = np.random.default_rng(seed)
    sx = 0.05
    inits = [
        numpy_helper.from_array(np.float32(sx), "sx"),
        numpy_helper.from_array(np.int8(zx) if signed else np.uint8(zx), "zx"),
        numpy_helper.from_array(rng.integers(-128, 128, (cout, cin, kernel, kernel)).astype(np.int8), "wq"),
        numpy_helper.from_array((rng.uniform(0.5, 1.5, cout) * 0.002).astype(np.float32), "sw"),
        numpy_helper.from_array(np.zeros(cout, np.int8), "zw"),
        numpy_helper.from_array(np.float32(0.25), "sy"), numpy_helper.from_array(np.uint8(100), "zy"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "sx", "zx"], ["xq"]),
        helper.make_node("DequantizeLinear", ["xq", "sx", "zx"], ["xdq"]),
        helper.make_node("DequantizeLinear", ["wq", "sw", "zw"], ["w"], axis=0),
    ]
    conv_inputs = ["xdq", "w"]
    if bias:
        sw = numpy_helper.to_array(inits[3])
        inits += [
            numpy_helper.from_array(rng.integers(-5000, 5000, cout).astype(np.int32), "bq"),
            numpy_helper.from_array((np.float32(sx) * sw).astype(np.float32), "sb"),
            numpy_helper.from_array(np.zeros(cout, np.int32), "zb"),
        ]
        nodes.append(helper.make_node("DequantizeLinear", ["bq", "sb", "zb"], ["b"], axis=0))
        conv_inputs.append("b")
    nodes += [
        helper.make_node("Conv", conv_inputs, ["c"], pads=pads, strides=[stride, stride],
                         dilations=[dilation, dilation]),
        helper.make_node("QuantizeLinear", ["c", "sy", "zy"], ["yq"]),
        helper.make_node("DequantizeLinear", ["yq", "sy", "zy"], ["y" if not residual else "ydq"]),
    ]
    if residual:
        nodes += [
            helper.make_node("Add", ["ydq", "xdq"], ["s"]),
            helper.make_node("QuantizeLinear", ["s", "sy", "zy"], ["sq"]),
            helper.make_node("DequantizeLinear", ["sq", "sy", "zy"], ["y"]),
        ]
    graph = helper.make_graph(
        nodes, "qdq_single_conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, cin, size, size])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model


def _u8_convs(model: onnx.ModelProto, level: int = 3, host: HostTarget | None = None) -> int:
    """How many convs read ui8 activations after the driver's graph pipeline."""
    module = compiler.import_onnx(model)
    run_pipeline(module, driver.graph_pipeline(level, host))
    ui8 = IntegerType(8, Signedness.UNSIGNED)
    return sum(1 for op in module.walk() if isinstance(op, g.ConvOp) and g.elem_of(op.input) == ui8)


def _feeds(model: onnx.ModelProto, seed: int) -> dict[str, np.ndarray]:
    # Inputs over the whole u8 range around the zero point (scale 0.05: [-12.8, 12.8] and beyond).
    x = models.random_inputs(model, seed=seed)["x"]
    return {"x": (x * 8).astype(np.float32)}


_U8_CASES = {
    # name: (cin, cout, kernel, pads, stride, zx, dilation)
    "3x3-pads-blocked": (32, 32, 3, [1, 1, 1, 1], 1, 131, 1),
    "asymmetric-pads-stride2": (12, 16, 3, [0, 1, 2, 1], 2, 7, 1),
    "odd-out-channels": (8, 24, 3, [1, 1, 1, 1], 1, 200, 1),  # NCHW conv: the widening loop
    "1x1-zx-255": (16, 32, 1, [0, 0, 0, 0], 1, 255, 1),
    "zx-0-dilated": (16, 16, 3, [2, 2, 2, 2], 1, 0, 2),
    "no-bias": (16, 16, 3, [1, 1, 1, 1], 1, 60, 1),
    # s8 activations (quantize_static's default) are stored as u8, shifted by 128.
    "s8-3x3-pads": (32, 32, 3, [1, 1, 1, 1], 1, -5, 1),
    "s8-zx-127-residual": (16, 16, 3, [1, 1, 1, 1], 1, 127, 1),
    "s8-zx-minus-128-stride2": (16, 32, 3, [1, 0, 1, 2], 2, -128, 1),
}


def _case_model(name: str) -> onnx.ModelProto:
    cin, cout, kernel, pads, stride, zx, dilation = _U8_CASES[name]
    return _qdq_single_conv(
        cin, cout, kernel, pads, stride, zx, dilation,
        bias=name != "no-bias", signed=name.startswith("s8"), residual="residual" in name,
    )


@needs_vnni
@pytest.mark.parametrize("name", sorted(_U8_CASES))
def test_u8_convs_match_onnxruntime_exactly(name: str) -> None:
    model = _case_model(name)
    assert _u8_convs(model) == 1
    feeds = _feeds(model, seed=5)
    want = oracle.run_onnxruntime(model, feeds)[0]
    for level in (1, 3):  # O1: the conv pads nothing itself; O3: blocked, explicit pads, fused
        (got,) = compiler.compile(model, opt_level=level, cache=False).run(None, feeds)
        differing = int(np.sum(np.asarray(got) != want))
        print(f"{name} O{level}: {differing} of {want.size} outputs differ from onnxruntime")
        np.testing.assert_array_equal(np.asarray(got), want)


def test_odd_input_channels_keep_the_i16_conv() -> None:
    """6 input channels do not fill vpdpbusd's groups of 4: the i16 form stays, on any host."""
    model = _qdq_single_conv(6, 16, 3, [1, 1, 1, 1], 1, 90)
    assert _u8_convs(model) == 0
    feeds = _feeds(model, seed=6)
    want = oracle.run_onnxruntime(model, feeds)[0]
    (got,) = compiler.compile(model, opt_level=3, cache=False).run(None, feeds)
    np.testing.assert_array_equal(np.asarray(got), want)


@needs_vnni
def test_u8_graph_without_vpdpbusd_takes_the_exact_widening_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """A u8 conv scheduled for a target without VNNI (this host's features less VNNI) is still exact."""
    real = HostTarget.detect()
    features = ",".join(f for f in real.features.split(",") if f not in ("+avx512vnni", "+avxvnni"))
    plain = HostTarget(real.triple, real.cpu, features + ",-avx512vnni,-avxvnni")
    assert plain.schedule_target().int_dot != "vpdpwssd"
    monkeypatch.setattr(HostTarget, "detect", staticmethod(lambda: plain))
    monkeypatch.setattr(driver, "host_has_u8_dot", lambda host: True)
    model = _qdq_single_conv(32, 32, 3, [1, 1, 1, 1], 1, 131)
    assert _u8_convs(model, host=plain) == 1
    feeds = _feeds(model, seed=8)
    want = oracle.run_onnxruntime(model, feeds)[0]
    (got,) = compiler.compile(model, opt_level=3, cache=False).run(None, feeds)
    np.testing.assert_array_equal(np.asarray(got), want)


@pytest.mark.parametrize("level", [1, 3])
@pytest.mark.parametrize("name", ["3x3-pads-blocked", "asymmetric-pads-stride2", "no-bias", "s8-zx-127-residual"])
def test_u8_rewrite_keeps_the_result_in_the_interpreter(name: str, level: int) -> None:
    """The u8 graph (bias compensation, pads with the zero point, s8 stored as u8) on any host:
    the graph interpreter agrees exactly."""
    model = _case_model(name)
    feeds = _feeds(model, seed=9)
    want = oracle.run_onnxruntime(model, feeds)[0]
    module = compiler.import_onnx(model)
    run_pipeline(module, f"graph-optimize{{level={level} u8-dot=true}}")
    ui8 = IntegerType(8, Signedness.UNSIGNED)
    convs = [op for op in module.walk() if isinstance(op, g.ConvOp)]
    assert len(convs) == 1 and g.elem_of(convs[0].input) == ui8
    (got,) = compiler.interpret(module, feeds)
    np.testing.assert_array_equal(np.asarray(got), want)


def _conv_types(model: onnx.ModelProto, level: int = 3) -> list[str]:
    module = compiler.import_onnx(model)
    run_pipeline(module, driver.graph_pipeline(level))
    return [str(g.elem_of(op.input)) for op in module.walk() if isinstance(op, g.ConvOp)]


@pytest.mark.parametrize(
    ("cin", "kernel", "pads", "stride", "zx", "signed", "conv_type"),
    [
        (3, 7, [3, 3, 3, 3], 2, -5, True, "f32"),  # ResNet's stem: exact in float32
        (5, 5, [2, 1, 2, 1], 1, 200, False, "f32"),
        (11, 7, [3, 3, 3, 3], 2, 0, False, "i16"),  # 539 * 255 * 128 > 2^24: stays integer
        (3, 3, [1, 1, 1, 1], 1, 10, False, "i16"),  # winograd's shape: stays integer
    ],
)
def test_odd_channel_convs_match_onnxruntime_exactly(
    cin: int, kernel: int, pads: list[int], stride: int, zx: int, signed: bool, conv_type: str
) -> None:
    """Odd input channels take no dot product: float32 where every partial sum is exact, else i16."""
    model = _qdq_single_conv(cin, 16, kernel, pads, stride, zx, size=15, signed=signed, seed=cin)
    assert _conv_types(model) == [conv_type]
    if conv_type == "f32":  # its requantization fuses into it, as into an int32 conv
        module = compiler.import_onnx(model)
        run_pipeline(module, driver.graph_pipeline(3))
        (conv,) = [op for op in module.walk() if isinstance(op, g.ConvOp)]
        fused = conv.parent_op()
        assert isinstance(fused, g.FusedOp)
        assert any(isinstance(op, g.CastOp) and g.elem_of(op.result) == IntegerType(32) for op in fused.walk())
    feeds = _feeds(model, seed=10)
    want = oracle.run_onnxruntime(model, feeds)[0]
    for level in (1, 3):
        (got,) = compiler.compile(model, opt_level=level, cache=False).run(None, feeds)
        np.testing.assert_array_equal(np.asarray(got), want)
