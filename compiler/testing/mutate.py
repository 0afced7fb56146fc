"""Mutations of valid ONNX models: the inputs of `compiler fuzz-models`.

A mutation takes the bytes of a valid model and returns the bytes of a
(probably) broken one. Two families:

* byte-level (`truncate`, `byte_flip`): what a damaged download or a bad
  disk produces; the result may not even parse as protobuf, or may parse into
  names that are not UTF-8.
* field-level: the model is parsed, one protobuf field is changed to a value
  that a careless exporter could write (wrong dims or dtypes, attributes of
  the wrong type, dangling or duplicated names, cycles, huge shapes, empty
  graphs, missing initializers, unknown opsets), and serialized again.

Every mutator is deterministic in its `random.Random`, so a seed reproduces
a campaign. A field mutator that finds nothing to change in a model (no
attributes, no initializers) falls back to a byte flip.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import onnx
from onnx import AttributeProto, TensorProto

Mutator = Callable[[bytes, random.Random], tuple[bytes, str]]
"""(model bytes, rng) -> (mutant bytes, one-line description of what changed)."""

# Dims a careless exporter writes: empty, one, negative, primes, absurdly large.
_ODD_DIMS = (0, 1, -1, -7, 2, 3, 7, 13, 1 << 20, 1 << 31, (1 << 63) - 1)
_HUGE_DIMS = (1 << 24, 1 << 31, 1 << 40, (1 << 63) - 1)


def truncate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """The first k bytes (0 <= k < len): an interrupted write or download."""
    cut = rng.randrange(len(data))
    return data[:cut], f"truncated to {cut} of {len(data)} bytes"


def byte_flip(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """1 to 8 random bytes XOR-ed with a random non-zero value."""
    out = bytearray(data)
    places = sorted(rng.randrange(len(out)) for _ in range(rng.randint(1, 8)))
    for i in places:
        out[i] ^= rng.randint(1, 255)
    return bytes(out), f"flipped bytes at {places}"


def _parse(data: bytes) -> onnx.ModelProto:
    model = onnx.ModelProto()
    model.ParseFromString(data)
    return model


def _field_mutator(edit: Callable[[onnx.ModelProto, random.Random], str | None]) -> Mutator:
    """Wraps an in-place edit of the parsed model; None from the edit: nothing to edit."""

    def mutate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
        model = _parse(data)
        what = edit(model, rng)
        if what is None:
            flipped, how = byte_flip(data, rng)
            return flipped, f"{edit.__name__}: nothing to change; {how}"
        return model.SerializeToString(), what

    mutate.__name__ = edit.__name__
    mutate.__doc__ = edit.__doc__
    return mutate


def _value_infos(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    g = model.graph
    return [*g.input, *g.output, *g.value_info]


def _tensor_dims(vi: onnx.ValueInfoProto) -> list[onnx.TensorShapeProto.Dimension]:
    if not vi.type.HasField("tensor_type") or not vi.type.tensor_type.HasField("shape"):
        return []
    return list(vi.type.tensor_type.shape.dim)


def wrong_dims(model: onnx.ModelProto, rng: random.Random) -> str | None:
    """A declared input/output dim, an initializer dim or a rank changed."""
    choices: list[str] = []
    if any(_tensor_dims(vi) for vi in _value_infos(model)):
        choices += ["dim", "rank"]
    if any(t.dims for t in model.graph.initializer):
        choices.append("initializer")
    if not choices:
        return None
    kind = rng.choice(choices)
    if kind == "initializer":
        tensor = rng.choice([t for t in model.graph.initializer if t.dims])
        i = rng.randrange(len(tensor.dims))
        tensor.dims[i] = rng.choice([d for d in _ODD_DIMS if d < (1 << 62)])
        return f"initializer '{tensor.name}' dim {i} = {tensor.dims[i]}"
    vi = rng.choice([v for v in _value_infos(model) if _tensor_dims(v)])
    shape = vi.type.tensor_type.shape
    if kind == "rank":
        if rng.random() < 0.5 and len(shape.dim) > 0:
            del shape.dim[rng.randrange(len(shape.dim))]
        else:
            shape.dim.add().dim_value = rng.choice((1, 3))
        return f"'{vi.name}' rank changed to {len(shape.dim)}"
    i = rng.randrange(len(shape.dim))
    dim = shape.dim[i]
    if rng.random() < 0.2:
        dim.dim_param = "N"
        return f"'{vi.name}' dim {i} made symbolic"
    dim.dim_value = rng.choice(_ODD_DIMS)
    return f"'{vi.name}' dim {i} = {dim.dim_value}"


def wrong_dtype(model: onnx.ModelProto, rng: random.Random) -> str | None:
    """An input/output element type or an initializer data type replaced by another (or a bogus) one."""
    dtype = rng.choice([*TensorProto.DataType.values(), 0, 99, -1])
    targets: list[object] = [vi for vi in _value_infos(model) if vi.type.HasField("tensor_type")]
    targets += list(model.graph.initializer)
    if not targets:
        return None
    target = rng.choice(targets)
    if isinstance(target, onnx.TensorProto):
        target.data_type = dtype
        return f"initializer '{target.name}' data_type = {dtype}"
    assert isinstance(target, onnx.ValueInfoProto)
    target.type.tensor_type.elem_type = dtype
    return f"'{target.name}' elem_type = {dtype}"


def attribute_type(model: onnx.ModelProto, rng: random.Random) -> str | None:
    """A node attribute's type tag, or its value, replaced (INT as FLOAT, a list emptied, ...)."""
    attrs = [(n, a) for n in model.graph.node for a in n.attribute]
    if not attrs:
        return None
    node, attr = rng.choice(attrs)
    how = rng.randrange(5)
    if how == 0:  # the tag says one type, the payload is another
        attr.type = rng.choice(list(AttributeProto.AttributeType.values()))
        return f"node '{node.name}' attribute '{attr.name}' type = {attr.type}"
    if how == 1:  # a consistent value of another type
        name = attr.name
        attr.Clear()
        attr.name = name
        choice = rng.randrange(4)
        if choice == 0:
            attr.type, attr.f = AttributeProto.FLOAT, 0.5
        elif choice == 1:
            attr.type, attr.s = AttributeProto.STRING, b"\xff\xfe"
        elif choice == 2:
            attr.type = AttributeProto.INTS
        else:
            attr.type, attr.i = AttributeProto.INT, rng.choice(_ODD_DIMS)
        return f"node '{node.name}' attribute '{attr.name}' replaced by type {attr.type}"
    if how == 2 and attr.ints:
        i = rng.randrange(len(attr.ints))
        attr.ints[i] = rng.choice([d for d in _ODD_DIMS if d < (1 << 62)])
        return f"node '{node.name}' attribute '{attr.name}'[{i}] = {attr.ints[i]}"
    if how == 3 and attr.ints:
        del attr.ints[rng.randrange(len(attr.ints))]
        return f"node '{node.name}' attribute '{attr.name}' lost an element"
    attr.name = rng.choice(["", "axis", "bogus", attr.name.upper()])
    return f"node '{node.name}' attribute renamed '{attr.name}'"


def dangling_input(model: onnx.ModelProto, rng: random.Random) -> str | None:
    """A node input (or a graph output) names a value that nothing produces."""
    nodes = [n for n in model.graph.node if n.input]
    if not nodes or rng.random() < 0.15:
        if not model.graph.output:
            return None
        out = rng.choice(list(model.graph.output))
        out.name = "no_such_value"
        return "graph output renamed 'no_such_value'"
    node = rng.choice(nodes)
    i = rng.randrange(len(node.input))
    node.input[i] = "no_such_value"
    return f"node '{node.name}' input {i} = 'no_such_value'"


def cycle(model: onnx.ModelProto, rng: random.Random) -> str | None:
    """A node reads a value produced by itself or a later node."""
    nodes = list(model.graph.node)
    candidates = [i for i, n in enumerate(nodes) if n.input]
    if not candidates:
        return None
    i = rng.choice(candidates)
    j = rng.randrange(i, len(nodes))
    outputs = [o for o in nodes[j].output if o]
    if not outputs:
        return None
    k = rng.randrange(len(nodes[i].input))
    nodes[i].input[k] = rng.choice(outputs)
    return f"node {i} '{nodes[i].op_type}' input {k} reads node {j}'s output"


def huge_shape(model: onnx.ModelProto, rng: random.Random) -> str | None:
    """An input dim, or an initializer's dims, so large that the tensor cannot exist."""
    inputs = [vi for vi in model.graph.input if _tensor_dims(vi)]
    inits = [t for t in model.graph.initializer if t.dims]
    if inits and (not inputs or rng.random() < 0.4):
        tensor = rng.choice(inits)
        tensor.dims[rng.randrange(len(tensor.dims))] = rng.choice(_HUGE_DIMS[:-1])
        return f"initializer '{tensor.name}' dims = {list(tensor.dims)}"
    if not inputs:
        return None
    vi = rng.choice(inputs)
    dims = vi.type.tensor_type.shape.dim
    dims[rng.randrange(len(dims))].dim_value = rng.choice(_HUGE_DIMS)
    return f"input '{vi.name}' dims = {[d.dim_value for d in dims]}"


def empty_graph(model: onnx.ModelProto, rng: random.Random) -> str | None:
    """Nodes, outputs, inputs or the whole graph removed."""
    how = rng.randrange(4)
    if how == 0:
        del model.graph.node[:]
        return "all nodes removed"
    if how == 1:
        del model.graph.output[:]
        return "all graph outputs removed"
    if how == 2:
        del model.graph.input[:]
        return "all graph inputs removed"
    model.ClearField("graph")
    return "graph removed"


def duplicate_name(model: onnx.ModelProto, rng: random.Random) -> str | None:
    """Two nodes produce the same value, or two graph inputs share a name."""
    nodes = [n for n in model.graph.node if n.output]
    if len(nodes) >= 2 and rng.random() < 0.7:
        a, b = rng.sample(nodes, 2)
        b.output[0] = a.output[0]
        return f"node '{b.name}' output 0 = '{a.output[0]}' (also node '{a.name}''s)"
    if len(model.graph.input) == 0:
        return None
    vi = model.graph.input.add()
    vi.CopyFrom(rng.choice(list(model.graph.input)[:-1] or list(model.graph.input)))
    return f"graph input '{vi.name}' declared twice"


def missing_initializer(model: onnx.ModelProto, rng: random.Random) -> str | None:
    """An initializer removed (its consumers now read nothing), or its data cut short."""
    inits = list(model.graph.initializer)
    if not inits:
        return None
    i = rng.randrange(len(inits))
    tensor = model.graph.initializer[i]
    if tensor.raw_data and rng.random() < 0.4:
        tensor.raw_data = tensor.raw_data[: rng.randrange(len(tensor.raw_data))]
        return f"initializer '{tensor.name}' raw_data cut to {len(tensor.raw_data)} bytes"
    name = tensor.name
    del model.graph.initializer[i]
    return f"initializer '{name}' removed"


def wrong_op(model: onnx.ModelProto, rng: random.Random) -> str | None:
    """A node's op type, domain or arity changed, or the opset version made odd."""
    how = rng.randrange(4)
    if how == 0 and model.opset_import:
        imp = rng.choice(list(model.opset_import))
        imp.version = rng.choice((0, 1, 6, 29, 1000, -3))
        return f"opset of domain '{imp.domain}' = {imp.version}"
    nodes = list(model.graph.node)
    if not nodes:
        return None
    node = rng.choice(nodes)
    if how == 1:
        old = node.op_type
        node.op_type = rng.choice(sorted({n.op_type for n in nodes} | {"Relu", "Concat", "If", "Loop", "Foo"}))
        return f"node '{node.name}' op {old} -> {node.op_type}"
    if how == 2 and node.input:
        del node.input[rng.randrange(len(node.input))]
        return f"node '{node.name}' ({node.op_type}) lost an input"
    node.input.append(rng.choice([node.input[0] if node.input else "", "extra"]))
    return f"node '{node.name}' ({node.op_type}) got an extra input"


FIELD_EDITS = (
    wrong_dims,
    wrong_dtype,
    attribute_type,
    dangling_input,
    cycle,
    huge_shape,
    empty_graph,
    duplicate_name,
    missing_initializer,
    wrong_op,
)

MUTATORS: dict[str, Mutator] = {
    "truncate": truncate,
    "byte_flip": byte_flip,
    **{edit.__name__: _field_mutator(edit) for edit in FIELD_EDITS},
}
"""Every mutation by name. `compiler fuzz-models --mutators` picks among these."""


def mutate(data: bytes, name: str, rng: random.Random) -> tuple[bytes, str]:
    """Applies mutator `name` to `data` (a valid serialized model)."""
    return MUTATORS[name](data, rng)
