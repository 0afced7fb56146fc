"""The model zoo used by tests, benchmarks and the demo.

Two families of models live here:

* The nine "light" models shipped inside the ``onnx`` wheel under
  ``onnx/backend/test/data/light/``. They have real architectures (ResNet-50,
  Inception v1/v2, DenseNet-121, ShuffleNet, SqueezeNet, VGG-19, AlexNet,
  ZFNet-512), but their weights are ``ConstantOfShape`` placeholders filled
  with 0.02. :func:`seeded_light_model` replaces every float parameter with a
  seeded random initializer so the models compute something non-degenerate.
* The small PyTorch-exported BERT-like encoders committed under
  ``tests/models/`` (see ``tests/models/make_bert.py``).

:func:`random_inputs` builds seeded feeds for any of them.
"""

from __future__ import annotations

import functools
import zlib
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

__all__ = [
    "LIGHT_MODELS",
    "MODELS_DIR",
    "bert_model_path",
    "light_model_path",
    "random_inputs",
    "save_seeded_light_model",
    "seeded_light_model",
]

#: Names accepted by :func:`light_model_path` and :func:`seeded_light_model`.
LIGHT_MODELS: tuple[str, ...] = (
    "resnet50",
    "inception_v1",
    "inception_v2",
    "densenet121",
    "shufflenet",
    "squeezenet",
    "vgg19",
    "bvlc_alexnet",
    "zfnet512",
)

#: Folder of the committed test models (``tests/models`` in the repository).
MODELS_DIR: Path = Path(__file__).resolve().parents[2] / "tests" / "models"

# Vocabulary size of the committed BERT encoders (see tests/models/make_bert.py).
_BERT_VOCAB = 1000
_BERT_TYPE_VOCAB = 2


def light_model_path(name: str) -> Path:
    """Return the path of ``light_<name>.onnx`` inside the installed onnx wheel.

    Raises ``ValueError`` for a name not in :data:`LIGHT_MODELS` and
    ``FileNotFoundError`` if the wheel does not ship the file.
    """
    if name not in LIGHT_MODELS:
        raise ValueError(f"unknown light model {name!r}; expected one of {', '.join(LIGHT_MODELS)}")
    path = Path(onnx.__file__).resolve().parent / "backend" / "test" / "data" / "light"
    path = path / f"light_{name}.onnx"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the installed onnx package")
    return path


def bert_model_path(dynamic: bool = False) -> Path:
    """Path of the committed BERT-like encoder: ``bert_tiny.onnx`` or ``bert_tiny_dynamic.onnx``."""
    return MODELS_DIR / ("bert_tiny_dynamic.onnx" if dynamic else "bert_tiny.onnx")


# --------------------------------------------------------------------------------------
# Seeded light models
# --------------------------------------------------------------------------------------

# How a float parameter is used, found by following its consumers.
_CONV_W = "conv_weight"
_GEMM_W = "gemm_weight"
_GEMM_W_T = "gemm_weight_transposed"  # Gemm with transB=0: B is [K, N]
_BN_SCALE = "bn_scale"
_VARIANCE = "bn_variance"
_SCALE = "scale"  # a per-channel multiplier
_SHIFT = "shift"  # biases, BN bias and mean, a per-channel addend
_OTHER = "other"

# Ops a parameter may flow through before reaching the op that gives it meaning.
_PASS_THROUGH = {"Unsqueeze", "Reshape", "Identity", "Squeeze", "Flatten"}


def _tensor_rng(seed: int, name: str) -> np.random.Generator:
    """A generator for one tensor, stable whatever order tensors are visited in."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


# Ops an activation may flow through without changing whether it is rectified.
_KEEPS_SIGN = {
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "Reshape",
    "Flatten",
    "Transpose",
    "Dropout",
    "LRN",
    "Concat",
    "Identity",
}

# Share of the second moment given to the BN scale that closes a residual branch
# (its output feeds a Sum/Add): the residual stream then grows by 10% per block
# instead of doubling (ShuffleNet has 13 such blocks and no projection to reset it).
_RESIDUAL_GAIN = 0.1

# Extra std factor for each model's classifier (its last Conv/Gemm weight), tuned
# so that with standard-normal images the logits have a std of about 2: the
# softmax is then neither near-uniform nor one-hot. White-noise images make
# features spatially uncorrelated, so global pooling shrinks them by a
# model-dependent amount that no local rule predicts.
_CLASSIFIER_STD: dict[str, float] = {
    "resnet50": 5.0,
    "inception_v1": 10.0,
    "inception_v2": 1.0,
    "densenet121": 1.0,
    "shufflenet": 0.5,
    "squeezenet": 2.0,
    "vgg19": 0.7,
    "bvlc_alexnet": 0.5,
    "zfnet512": 1.5,
}
# E[u^2] of u ~ uniform(0.5, 1.5) and E[1/v] of v ~ uniform(0.5, 1.5): multiplicative
# scales are divided by these so that, on average, they keep the second moment.
_UNIFORM_SECOND_MOMENT = 13.0 / 12.0
_UNIFORM_INV_MEAN = float(np.log(3.0))


def _is_rectified(value: str, producers: dict[str, onnx.NodeProto]) -> bool:
    """Whether ``value`` comes out of a Relu, looking back through pooling/reshapes/concat."""
    seen: set[str] = set()
    while value in producers and value not in seen:
        seen.add(value)
        node = producers[value]
        if node.op_type == "Relu":
            return True
        if node.op_type not in _KEEPS_SIGN or not node.input:
            return False
        value = node.input[0]
    return False


def _classify(
    name: str,
    consumers: dict[str, list[tuple[onnx.NodeProto, int]]],
    producers: dict[str, onnx.NodeProto],
) -> tuple[str, float]:
    """Return ``(role, gain)`` for the parameter ``name``.

    For weights the gain is the He factor: 2 when the layer's input went
    through a Relu (which halves its second moment), else 1. For the BN scale
    that closes a residual branch (its output feeds a Sum/Add) it is _RESIDUAL_GAIN, to
    keep the residual stream from doubling its variance in every block.
    """
    seen: set[str] = set()
    value = name
    while value not in seen:
        seen.add(value)
        uses = consumers.get(value, [])
        if not uses:
            return _OTHER, 1.0
        node, index = uses[0]
        op = node.op_type
        if op in _PASS_THROUGH and index == 0:
            value = node.output[0]
            continue
        if op in ("Conv", "Gemm", "MatMul") and index == 1:
            gain = 2.0 if _is_rectified(node.input[0], producers) else 1.0
            if op == "Conv":
                return _CONV_W, gain
            trans_b = op == "Gemm" and any(a.name == "transB" and a.i for a in node.attribute)
            return (_GEMM_W if trans_b else _GEMM_W_T), gain
        if op in ("Conv", "Gemm"):
            return _SHIFT, 1.0
        if op == "BatchNormalization":
            if index == 4:
                return _VARIANCE, 1.0
            if index == 1:
                closes_branch = any(
                    c.op_type in ("Sum", "Add") for c, _ in consumers.get(node.output[0], [])
                )
                return _BN_SCALE, _RESIDUAL_GAIN if closes_branch else 1.0
            return _SHIFT, 1.0
        if op == "Mul":
            return _SCALE, 1.0
        if op in ("Add", "Sub", "Sum"):
            return _SHIFT, 1.0
        return _OTHER, 1.0
    return _OTHER, 1.0


def _sample(role: str, gain: float, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Draw one parameter tensor for its role (float32)."""
    if role in (_CONV_W, _GEMM_W, _GEMM_W_T):
        if role == _GEMM_W_T:
            fan_in = shape[0]
        else:
            fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        values = rng.standard_normal(shape, dtype=np.float32)
        values *= np.float32(np.sqrt(gain / max(fan_in, 1)))
    elif role == _VARIANCE:
        values = rng.uniform(0.5, 1.5, shape)
    elif role == _BN_SCALE:
        # gamma / sqrt(var) then has a second moment of ``gain``.
        norm = np.sqrt(_UNIFORM_SECOND_MOMENT * _UNIFORM_INV_MEAN)
        values = rng.uniform(0.5, 1.5, shape) / norm * np.sqrt(gain)
    elif role == _SCALE:
        values = rng.uniform(0.5, 1.5, shape) / np.sqrt(_UNIFORM_SECOND_MOMENT)
    elif role == _SHIFT:
        values = rng.standard_normal(shape) * 0.1
    else:
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        values = rng.standard_normal(shape) / np.sqrt(max(fan_in, 1)) * (1.0 if shape else 0.1)
    return np.asarray(values, dtype=np.float32)


def _consumer_map(graph: onnx.GraphProto) -> dict[str, list[tuple[onnx.NodeProto, int]]]:
    consumers: dict[str, list[tuple[onnx.NodeProto, int]]] = defaultdict(list)
    for node in graph.node:
        for index, value in enumerate(node.input):
            if value:
                consumers[value].append((node, index))
    return consumers


def _used_values(graph: onnx.GraphProto) -> set[str]:
    used = {value for node in graph.node for value in node.input if value}
    used.update(output.name for output in graph.output)
    return used


@functools.lru_cache(maxsize=4)
def _seeded_light_model_cached(name: str, seed: int) -> onnx.ModelProto:
    """Build the seeded model; callers must not mutate the cached result."""
    model = onnx.load(str(light_model_path(name)))
    graph = model.graph
    initializers = {init.name: init for init in graph.initializer}

    # 1. Which values are weight placeholders, and their shapes.
    placeholder_shapes: dict[str, tuple[int, ...]] = {}
    placeholder_nodes: list[onnx.NodeProto] = []
    for node in graph.node:
        if node.op_type == "ConstantOfShape" and node.input[0] in initializers:
            shape = numpy_helper.to_array(initializers[node.input[0]])
            placeholder_shapes[node.output[0]] = tuple(int(d) for d in shape)
            placeholder_nodes.append(node)
    for node in placeholder_nodes:
        graph.node.remove(node)

    # 2. Every float parameter: placeholders plus the few real float initializers
    #    the light models keep (trained BN statistics and biases that do not match
    #    random weights: a BN variance of 5e-4 in front of a He-scaled conv blows
    #    activations up), so the whole model is determined by the seed.
    params: dict[str, tuple[int, ...]] = dict(placeholder_shapes)
    for init in initializers.values():
        if init.data_type == TensorProto.FLOAT:
            params[init.name] = tuple(int(d) for d in init.dims)

    consumers = _consumer_map(graph)
    producers = {out: node for node in graph.node for out in node.output if out}
    weight_layers = [n for n in graph.node if n.op_type in ("Conv", "Gemm") and len(n.input) > 1]
    classifier_weight = weight_layers[-1].input[1] if weight_layers else ""
    while classifier_weight in producers and producers[classifier_weight].op_type in _PASS_THROUGH:
        classifier_weight = producers[classifier_weight].input[0]  # Inception v1 reshapes it
    used = _used_values(graph)
    seeded = [p for p in params if p in consumers]  # unused ones are dropped

    # 3. Keep the non-float initializers that are still used (Reshape shapes),
    #    drop shape tensors of removed placeholders and unused tensors, then add
    #    the seeded parameters (built in place: copying 500 MB of VGG costs seconds).
    kept = [init for init in graph.initializer if init.name not in params and init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    for pname in seeded:
        shape = params[pname]
        role, gain = _classify(pname, consumers, producers)
        if pname == classifier_weight:
            gain *= _CLASSIFIER_STD.get(name, 1.0) ** 2
        values = _sample(role, gain, shape, _tensor_rng(seed, pname))
        tensor = graph.initializer.add()
        tensor.name = pname
        tensor.data_type = TensorProto.FLOAT
        tensor.dims.extend(shape)
        tensor.raw_data = values.astype("<f4", copy=False).tobytes()

    # 4. Graph inputs: only the real inputs. The models are IR version 3, where
    #    every initializer is also a graph input; with IR >= 4 they need not be,
    #    and onnxruntime only folds and fuses initializers that are not inputs.
    init_names = {init.name for init in graph.initializer}
    real_inputs = [i for i in graph.input if i.name not in init_names and i.name in used]
    del graph.input[:]
    graph.input.extend(real_inputs)
    model.ir_version = max(model.ir_version, 4)
    graph.name = f"{graph.name or name}_seeded_{seed}"
    return model


def seeded_light_model(name: str, seed: int = 0) -> onnx.ModelProto:
    """Return the light model ``name`` with seeded random weights.

    The ``ConstantOfShape`` placeholder nodes are removed, and every float
    parameter (placeholder or one of the few real float initializers the files
    keep) becomes an initializer drawn from a generator seeded by ``seed`` and
    the tensor's name:

    * conv and gemm weights: He-scaled normal, std = sqrt(gain / fan_in), with
      gain 2 when the layer's input comes out of a Relu and 1 otherwise; the
      classifier (the last Conv/Gemm) gets a per-model factor so the logits
      have a std of about 2 for standard-normal images;
    * BN variances: uniform(0.5, 1.5); BN scales: uniform(0.5, 1.5) divided by
      a constant (about 1.09) so that scale / sqrt(variance) keeps the second
      moment, and shrunk to a tenth of the energy for the BN that closes a
      residual branch (ResNet, ShuffleNet); other per-channel multipliers
      (the Unsqueeze -> Mul of Inception v2 / DenseNet): uniform(0.5, 1.5)
      over sqrt(13/12);
    * biases, BN biases and means: normal * 0.1.

    With these, intermediate activations of every model stay within a std of
    about 0.15 to 8 for standard-normal input. Shape tensors of the
    placeholders, unused initializers and the initializers' duplicate graph
    inputs are dropped, leaving the image as the only graph input; the IR
    version is raised to 4 for that.

    The built model is cached; each call returns a fresh copy that the caller
    may mutate.
    """
    model = onnx.ModelProto()
    model.CopyFrom(_seeded_light_model_cached(name, seed))
    return model


def save_seeded_light_model(name: str, directory: str | Path, seed: int = 0) -> Path:
    """Write :func:`seeded_light_model` to ``directory`` and return the file's path.

    The file is named ``<name>_seed<seed>.onnx`` and is reused if it exists.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}_seed{seed}.onnx"
    if not path.exists():
        tmp = path.with_suffix(".onnx.tmp")
        tmp.write_bytes(_seeded_light_model_cached(name, seed).SerializeToString())
        tmp.replace(path)
    return path


# --------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------

_NP_DTYPES: dict[int, type[np.generic]] = {
    TensorProto.FLOAT: np.float32,
    TensorProto.DOUBLE: np.float64,
    TensorProto.FLOAT16: np.float16,
    TensorProto.INT64: np.int64,
    TensorProto.INT32: np.int32,
    TensorProto.INT8: np.int8,
    TensorProto.UINT8: np.uint8,
    TensorProto.BOOL: np.bool_,
}


def _input_shape(value: onnx.ValueInfoProto, default_dims: dict[str, int]) -> tuple[int, ...]:
    dims: list[int] = []
    for dim in value.type.tensor_type.shape.dim:
        if dim.HasField("dim_value"):
            dims.append(int(dim.dim_value))
        else:
            dims.append(default_dims.get(dim.dim_param, 1))
    return tuple(dims)


def _real_inputs(graph: onnx.GraphProto) -> Iterable[onnx.ValueInfoProto]:
    init_names = {init.name for init in graph.initializer}
    return [value for value in graph.input if value.name not in init_names]


def random_inputs(
    model: onnx.ModelProto | str | Path,
    seed: int = 0,
    shapes: dict[str, tuple[int, ...]] | None = None,
) -> dict[str, np.ndarray]:
    """Seeded feeds for the real inputs of ``model`` (graph inputs that are not initializers).

    Float inputs are standard normal. Integer inputs are read by name:
    ``*mask*`` gets 0/1 values (ones with a zero-padded tail, so padding is
    exercised), ``*token_type*`` / ``*segment*`` gets 0/1 type ids, and other
    integer inputs (``input_ids``) get ids in ``[0, vocab)`` with the vocabulary
    of our BERT encoders (1000). Symbolic dimensions become ``shapes[name]``
    if given, else ``batch``-like dims 1 and sequence-like dims 16.
    """
    if not isinstance(model, onnx.ModelProto):
        model = onnx.load(str(model), load_external_data=False)
    rng = np.random.default_rng(seed)
    default_dims = {"batch": 1, "batch_size": 1, "sequence": 16, "seq": 16, "sequence_length": 16}
    feeds: dict[str, np.ndarray] = {}
    for value in _real_inputs(model.graph):
        elem_type = value.type.tensor_type.elem_type
        dtype = _NP_DTYPES.get(elem_type)
        if dtype is None:
            raise ValueError(
                f"input {value.name!r} has unsupported element type "
                f"{TensorProto.DataType.Name(elem_type)}"
            )
        shape = tuple(shapes[value.name]) if shapes and value.name in shapes else None
        if shape is None:
            shape = _input_shape(value, default_dims)
        lname = value.name.lower()
        if np.issubdtype(dtype, np.floating):
            feeds[value.name] = rng.standard_normal(shape).astype(dtype)
        elif dtype is np.bool_:
            feeds[value.name] = rng.integers(0, 2, shape).astype(np.bool_)
        elif "mask" in lname:
            mask = np.ones(shape, dtype=dtype)
            if shape and shape[-1] > 2:
                # Pad a random tail of each row (at least one real token stays).
                lengths = rng.integers(shape[-1] // 2, shape[-1] + 1, shape[:-1])
                positions = np.arange(shape[-1])
                mask = (positions < lengths[..., None]).astype(dtype)
            feeds[value.name] = mask
        elif "type" in lname or "segment" in lname:
            feeds[value.name] = rng.integers(0, _BERT_TYPE_VOCAB, shape).astype(dtype)
        else:
            feeds[value.name] = rng.integers(0, _BERT_VOCAB, shape).astype(dtype)
    return feeds
