"""Running a float model on calibration feeds and watching its intermediate tensors.

The tensors to watch become extra graph outputs of a copy of the model, which
one of two backends runs feed by feed:

    onnxruntime  an InferenceSession (fast to start; the default when installed);
    compiler     our own `compiler.compile` of the augmented model (no extra
                 dependency; each watched tensor is an output, so it is not fused away).

The same runner serves the quantization report, which reads the dequantized
tensors of the QDQ model next to the float ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper

from compiler.errors import CompilerError
from compiler.quantization.observers import Observer

Feeds = Mapping[str, np.ndarray]
BACKENDS = ("auto", "onnxruntime", "compiler")


def with_outputs(model: onnx.ModelProto, names: Sequence[str]) -> onnx.ModelProto:
    """A copy of `model` whose graph outputs are `names` (float tensors of the graph)."""
    augmented = onnx.ModelProto()
    augmented.CopyFrom(model)
    graph = augmented.graph
    del graph.output[:]
    graph.output.extend(helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in names)
    return augmented


def resolve_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise CompilerError(f"unknown calibration backend '{backend}'", hint=f"use one of {', '.join(BACKENDS)}")
    if backend != "auto":
        return backend
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return "compiler"
    return "onnxruntime"


def make_runner(model: onnx.ModelProto, names: Sequence[str], backend: str) -> Callable[[Feeds], list[np.ndarray]]:
    """A function feeds -> the values of `names`, running `model` on `backend`."""
    augmented = with_outputs(model, names)
    if resolve_backend(backend) == "onnxruntime":
        from compiler.testing.oracle import ort_session

        session = ort_session(augmented, num_threads=0)
        inputs = [i.name for i in session.get_inputs()]
        return lambda feeds: session.run(list(names), {k: np.asarray(feeds[k]) for k in inputs})
    from compiler.driver import compile

    compiled = compile(augmented, opt_level=1)
    return lambda feeds: [np.asarray(v) for v in compiled.run(None, dict(feeds))]


def observe(
    model: onnx.ModelProto, names: Sequence[str], feeds: Iterable[Feeds], backend: str = "auto"
) -> dict[str, Observer]:
    """Min, max and |x| histogram of each tensor in `names` over all `feeds`."""
    run = make_runner(model, names, backend)
    observers = {name: Observer() for name in names}
    for sample in feeds:
        for name, value in zip(names, run(sample), strict=True):
            observers[name].update(value)
    return observers


def split_samples(model: onnx.ModelProto, arrays: Mapping[str, np.ndarray], source: str) -> Iterator[dict[str, np.ndarray]]:
    """Calibration samples from arrays keyed by input name.

    An array with one more dimension than its input holds one sample per
    index of its first axis; one with the input's rank is a single sample.
    """
    init = {t.name for t in model.graph.initializer}
    inputs = {i.name: len(i.type.tensor_type.shape.dim) for i in model.graph.input if i.name not in init}
    missing = sorted(set(inputs) - set(arrays))
    unknown = sorted(set(arrays) - set(inputs))
    if missing or unknown:
        what = f"has no array for input '{missing[0]}'" if missing else f"holds array '{unknown[0]}', which is not a model input"
        raise CompilerError(what, file=source, hint=f"save one array per input, named {sorted(inputs)}, with a leading sample axis")
    counts = set()
    for name, rank in inputs.items():
        ndim = np.asarray(arrays[name]).ndim
        if ndim not in (rank, rank + 1):
            raise CompilerError(
                f"array '{name}' has rank {ndim}, input '{name}' has rank {rank}",
                file=source, hint=f"give shape [samples, ...] of rank {rank + 1}, or one sample of rank {rank}",
            )
        counts.add(1 if ndim == rank else np.asarray(arrays[name]).shape[0])
    if len(counts) != 1 or 0 in counts:
        raise CompilerError(f"arrays hold different or zero sample counts {sorted(counts)}", file=source,
                            hint="give every input the same number of samples along axis 0")
    count = counts.pop()
    for index in range(count):
        yield {
            name: np.asarray(arrays[name]) if np.asarray(arrays[name]).ndim == rank else np.asarray(arrays[name])[index]
            for name, rank in inputs.items()
        }
