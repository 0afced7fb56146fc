"""Shrink a failing graph by deleting nodes while the failure persists (delta debugging on nodes).

Three kinds of candidate, tried until none is accepted:

* keep one graph output (the nodes only the others need die with them);
* cut a node: its readers read one of its inputs of the same type instead,
  or else a new graph input of its output's type (random feeds);
* end the graph before a node that produces an output: the node's inputs
  that nodes compute become the graph's outputs instead (the intermediate
  values are exposed).

After each edit, dead nodes, unused inputs and unused initializers go. A
candidate must pass `onnx.checker` and `still_fails(model, feeds)`, which the
caller defines (for the fuzzer: the same outcome in a child process).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np
import onnx
from onnx import helper

Predicate = Callable[[onnx.ModelProto, dict[str, np.ndarray]], bool]


def _types(model: onnx.ModelProto) -> dict[str, onnx.TypeProto]:
    """The type of every named value (inputs, outputs, intermediates, initializers)."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False)
    except Exception:
        inferred = model
    g = inferred.graph
    types = {vi.name: vi.type for vi in [*g.input, *g.value_info, *g.output]}
    for init in g.initializer:
        types[init.name] = helper.make_tensor_type_proto(init.data_type, list(init.dims))
    return types


def _static(t: onnx.TypeProto | None) -> bool:
    if t is None or not t.HasField("tensor_type") or not t.tensor_type.HasField("shape"):
        return False
    return all(d.HasField("dim_value") for d in t.tensor_type.shape.dim)


def _random_feed(name: str, t: onnx.TypeProto) -> np.ndarray:
    shape = tuple(int(d.dim_value) for d in t.tensor_type.shape.dim)
    dtype = helper.tensor_dtype_to_np_dtype(t.tensor_type.elem_type)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    if dtype.kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, size=shape).astype(dtype)
    return rng.integers(-8, 9, size=shape).astype(dtype)


def prune(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    """Drops the nodes no output needs, and the inputs, initializers and feeds nothing reads."""
    g = model.graph
    needed = {o.name for o in g.output}
    kept: list[onnx.NodeProto] = []
    for node in reversed(list(g.node)):
        if any(o in needed for o in node.output):
            kept.append(node)
            needed.update(i for i in node.input if i)
    kept.reverse()
    out = onnx.ModelProto()
    out.CopyFrom(model)
    del out.graph.node[:]
    out.graph.node.extend(kept)
    inputs = [i for i in g.input if i.name in needed]
    del out.graph.input[:]
    out.graph.input.extend(inputs)
    inits = [t for t in g.initializer if t.name in needed]
    del out.graph.initializer[:]
    out.graph.initializer.extend(inits)
    del out.graph.value_info[:]
    return out, {k: v for k, v in feeds.items() if k in {i.name for i in inputs}}


def _with_outputs(model: onnx.ModelProto, outputs: list[onnx.ValueInfoProto]) -> onnx.ModelProto:
    out = onnx.ModelProto()
    out.CopyFrom(model)
    del out.graph.output[:]
    out.graph.output.extend(outputs)
    return out


def _cut(
    model: onnx.ModelProto, feeds: dict[str, np.ndarray], index: int, types: dict[str, onnx.TypeProto]
) -> tuple[onnx.ModelProto, dict[str, np.ndarray]] | None:
    """Node `index` removed, its readers fed by a same-typed input of it or by new graph inputs."""
    g = model.graph
    node = g.node[index]
    outputs = {o.name for o in g.output}
    if any(o in outputs for o in node.output):
        return None
    feeds = dict(feeds)
    new_inputs: list[onnx.ValueInfoProto] = []
    rename: dict[str, str] = {}
    for name in node.output:
        t = types.get(name)
        if not name or not _static(t):
            continue
        same = [i for i in node.input if i and types.get(i) == t]
        if same:
            rename[name] = same[0]
        else:
            new = f"{name}_in"
            rename[name] = new
            new_inputs.append(helper.make_value_info(new, t))  # type: ignore[arg-type]
            feeds[new] = _random_feed(new, t)  # type: ignore[arg-type]
    if any(o and o not in rename for o in node.output if any(o in n.input for n in g.node)):
        return None
    out = onnx.ModelProto()
    out.CopyFrom(model)
    del out.graph.node[index]
    for n in out.graph.node:
        for k, name in enumerate(n.input):
            if name in rename:
                n.input[k] = rename[name]
    out.graph.input.extend(new_inputs)
    return prune(out, feeds)


def _expose(
    model: onnx.ModelProto, feeds: dict[str, np.ndarray], index: int, types: dict[str, onnx.TypeProto]
) -> tuple[onnx.ModelProto, dict[str, np.ndarray]] | None:
    """A node that produces graph outputs removed; its computed inputs become the outputs instead."""
    g = model.graph
    node = g.node[index]
    produced = {o for n in g.node for o in n.output}
    mine = set(node.output)
    if not mine & {o.name for o in g.output}:
        return None
    if any(i in mine for n in g.node for i in n.input):
        return None  # other nodes read it: cut it instead
    exposed = [i for i in dict.fromkeys(node.input) if i in produced and _static(types.get(i))]
    if not exposed:
        return None
    keep = [o for o in g.output if o.name not in mine]
    have = {o.name for o in keep}
    keep += [helper.make_value_info(i, types[i]) for i in exposed if i not in have]
    return prune(_with_outputs(model, keep), feeds)


def _valid(model: onnx.ModelProto) -> bool:
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception:
        return False
    return len(model.graph.node) > 0


def minimize(
    model: onnx.ModelProto,
    feeds: dict[str, np.ndarray],
    still_fails: Predicate,
    max_checks: int = 200,
    log: Callable[[str], None] | None = None,
) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    """The smallest graph found (by deleting nodes) for which `still_fails` holds.

    `still_fails` is called at most `max_checks` times; the input graph is
    assumed to fail.
    """
    checks = 0

    def accept(candidate: tuple[onnx.ModelProto, dict[str, np.ndarray]] | None) -> bool:
        nonlocal checks
        if candidate is None or checks >= max_checks or not _valid(candidate[0]):
            return False
        checks += 1
        return bool(still_fails(*candidate))

    current = (model, dict(feeds))
    progress = True
    while progress and checks < max_checks:
        progress = False
        m, f = current
        outputs = list(m.graph.output)
        if len(outputs) > 1:
            for out in outputs:
                candidate = prune(_with_outputs(m, [out]), f)
                if accept(candidate):
                    current, progress = candidate, True  # type: ignore[assignment]
                    break
            if progress:
                continue
        types = _types(m)
        for index in reversed(range(len(m.graph.node))):
            if m.graph.node[index].op_type == "Constant":
                continue
            for edit in (_cut, _expose):
                candidate = edit(m, f, index, types)
                if accept(candidate):
                    current, progress = candidate, True  # type: ignore[assignment]
                    if log is not None:
                        log(f"minimize: {len(candidate[0].graph.node)} nodes")  # type: ignore[index]
                    break
            if progress:
                break
    return current
