"""Post-training quantization: an FP32 ONNX model in, a QDQ (int8) ONNX model out.

    result = quantize(model, calibration_feeds, method="entropy")
    result.save("model.int8.onnx"); print(result.report())
    compiler.compile(result.model)        # fold-qdq turns the QDQ pairs into int8 kernels

Steps (one module each): `prepare` (opset 13, batch norms folded into
convs), `qdq_writer.plan` (which tensors are quantized), `calibrate.observe`
(run the calibration feeds, record each tensor's range and |x| histogram),
`observers.choose_range` (minmax, percentile or entropy), `qdq_writer.write_qdq`
(int8 weights per channel, int32 biases, QuantizeLinear/DequantizeLinear pairs
on activations) and `report.layer_errors` (SQNR of each quantized layer).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx

from compiler.errors import CompilerError, ModelLoadError
from compiler.quantization.calibrate import Feeds, observe, split_samples
from compiler.quantization.observers import METHODS, choose_range
from compiler.quantization.prepare import prepare
from compiler.quantization.qdq_writer import ACTIVATION_TYPES, plan, write_qdq
from compiler.quantization.report import LayerError, format_report, layer_errors

__all__ = ["METHODS", "QuantizedModel", "quantize"]


@dataclass
class QuantizedModel:
    """The QDQ model, the chosen activation ranges and the per-layer error."""

    model: onnx.ModelProto
    method: str
    ranges: dict[str, tuple[float, float]]
    layers: list[LayerError] = field(default_factory=list)

    def report(self) -> str:
        return format_report(self.layers, f"quantization error per layer ({self.method} calibration), vs FP32:")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the model to `path` atomically (a temporary file renamed into place)."""
        out = Path(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent or ".")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(self.model.SerializeToString())
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it 0600; give it a plain file's mode
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return out


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _load(model: onnx.ModelProto | str | os.PathLike[str]) -> tuple[onnx.ModelProto, str]:
    if isinstance(model, onnx.ModelProto):
        return model, "<model>"
    try:
        return onnx.load(str(model)), str(model)
    except FileNotFoundError:
        raise ModelLoadError("no such file", file=str(model), hint="check the path") from None
    except Exception as err:  # protobuf's decode errors
        raise ModelLoadError(f"cannot read the model ({type(err).__name__})", file=str(model)) from None


def _samples(model: onnx.ModelProto, feeds: Iterable[Feeds] | Mapping[str, np.ndarray], source: str) -> list[dict[str, np.ndarray]]:
    if isinstance(feeds, Mapping):
        return list(split_samples(model, feeds, source))
    samples = []
    for sample in feeds:
        samples.extend(split_samples(model, sample, source))
    if not samples:
        raise CompilerError("no calibration samples", file=source, hint="give at least one feed")
    return samples


def quantize(
    model: onnx.ModelProto | str | os.PathLike[str],
    calibration_feeds: Iterable[Feeds] | Mapping[str, np.ndarray],
    *,
    method: str = "minmax",
    per_channel: bool = True,
    percentile: float = 99.99,
    activation_type: str = "int8",
    quantize_outputs: bool = False,
    backend: str = "auto",
    report_samples: int = 4,
    feeds_source: str = "calibration feeds",
) -> QuantizedModel:
    """Quantize a float ONNX model to QDQ int8 from calibration feeds.

    calibration_feeds: an iterable of {input name: array} (one sample each), or
    one mapping whose arrays carry a leading sample axis (as a .npz file does).
    method: minmax, percentile (of |x|, `percentile`) or entropy (KL, TensorRT's).
    per_channel: one weight scale per output channel (else one per tensor).
    activation_type: int8 (onnxruntime's default) or uint8, asymmetric.
    quantize_outputs: also quantize the graph outputs (default: they stay float).
    backend: what runs the float model: onnxruntime, compiler or auto.
    report_samples: calibration samples the SQNR report runs (0: no report).
    """
    if method not in METHODS:
        raise CompilerError(f"unknown calibration method '{method}'", hint=f"use one of {', '.join(METHODS)}")
    if activation_type not in ACTIVATION_TYPES:
        raise CompilerError(f"unknown activation type '{activation_type}'", hint="use int8 or uint8")
    if not 0.0 < percentile <= 100.0:
        raise CompilerError(f"percentile {percentile} is not in (0, 100]", hint="e.g. 99.99")
    original, _ = _load(model)
    samples = _samples(original, calibration_feeds, feeds_source)
    prepared = prepare(original)
    qplan = plan(prepared, per_channel=per_channel, quantize_outputs=quantize_outputs)
    observers = observe(prepared, qplan.observed, samples, backend)
    ranges = {name: choose_range(obs, method, percentile) for name, obs in observers.items()}
    qdq = write_qdq(qplan, ranges, activation_type)
    layers = layer_errors(prepared, qdq, qplan, samples[:report_samples], backend) if report_samples else []
    return QuantizedModel(qdq, method, ranges, layers)
