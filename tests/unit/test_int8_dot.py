"""INT8 convs through the integer dot product (narrow-integer-conv, `dot`, pmaddwd / vpdpwssd).

A hand-written QDQ model (u8 activations with a zero point, symmetric
per-channel s8 weights, int32 bias: what onnxruntime's quantizer writes)
compiles to convs that read i16 operands; on this host they run pmaddwd
(every x86-64 has it) and must match onnxruntime exactly, integer for
integer. The VNNI path cannot run on a host without VNNI, but it compiles:
for a Zen 4 target (AVX-512 VNNI, features given, not detected) the default
schedule chooses vpdpwssd and LLVM emits it.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import compiler
from compiler import driver
from compiler.api import run_pipeline
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


def _assembly_for(host: HostTarget) -> str:
    module = compiler.import_onnx(_qdq_conv_net(size=4, both=False))
    run_pipeline(module, driver.graph_pipeline(3))
    lowered, _, _ = driver.lower_to_llvm(module, host=host)
    return assembly(to_llvm_ir(llvm_module(lowered), host.triple, host.data_layout), host)


def test_vnni_target_emits_vpdpwssd_and_avx2_target_vpmaddwd() -> None:
    """The default schedule picks the dot product from the given target's features."""
    triple = HostTarget.detect().triple
    zen4 = HostTarget(triple, "znver4", "+avx512f,+avx512bw,+avx512vl,+avx512vnni,+avx512dq,+avx2,+fma,+sse2")
    asm = _assembly_for(zen4)
    assert "vpdpwssd" in asm and "%zmm" in asm
    zen3 = HostTarget(triple, "znver3", "+avx2,+fma,+sse2,-avx512f,-avx512vnni,-avxvnni")
    asm = _assembly_for(zen3)
    assert "vpmaddwd" in asm and "vpdpwssd" not in asm
