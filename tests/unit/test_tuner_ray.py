"""Tuning on Ray: the same records as local tuning, no trial lost to a killed runner, one target kind."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from compiler.errors import CompilerError
from compiler.targets.cpu.machine import HostTarget
from compiler.tuner.records import load_records
from compiler.tuner.space import search_space
from compiler.tuner.task import extract_tasks, loop_module, order_by_share
from compiler.tuner.tune import tune

ray = pytest.importorskip("ray")


from compiler.tuner.ray_measure import NodeInfo, RayMeasurer, select_nodes  # noqa: E402


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One local Ray instance for the module (a measurer leaves a running instance up)."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=80 * 2**20)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One MatMul: one task, so the search's random stream does not depend on the order of tasks."""
    rng = np.random.default_rng(0)
    weight = numpy_helper.from_array(rng.standard_normal((96, 48)).astype(np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "one_matmul",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [32, 96])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [32, 48])],
        [weight],
    )
    path = tmp_path_factory.mktemp("tiny") / "matmul.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def test_ray_records_match_local_tuning(local_ray: None, model_path: Path, tmp_path: Path) -> None:
    """Same seeds and search: the same points are measured in the same order, at costs of the same order."""
    kwargs = {"trials": 4, "search": "random", "seed": 3, "batch_size": 4}
    tune(str(model_path), tmp_path / "local.jsonl", **kwargs)
    report = tune(str(model_path), tmp_path / "ray.jsonl", ray="local", runners_per_node=2, **kwargs)
    local, remote = load_records(tmp_path / "local.jsonl"), load_records(tmp_path / "ray.jsonl")
    assert [(r.workload_key, r.point) for r in remote] == [(r.workload_key, r.point) for r in local]
    assert all(r.error is None for r in remote), [r.error for r in remote if r.error]
    for a, b in zip(local, remote, strict=True):
        ratio = float(np.median(a.costs)) / float(np.median(b.costs))
        assert 0.1 < ratio < 10, (a.point, a.costs, b.costs)
    assert report.runners == 2 and 0.0 <= report.runner_idle < 1.0
    assert "runner(s), idle" in report.table()


def test_killed_runner_loses_no_trial(local_ray: None, model_path: Path) -> None:
    task = order_by_share(extract_tasks(loop_module(str(model_path))))[0]
    space = search_space(task.kernel, HostTarget.detect().schedule_target(threads=1))
    rng = random.Random(0)
    points = [space.default_point()]
    while len(points) < 5:
        p = space.sample(rng)
        if space.schedule(p) is not None and space.key(p) not in {space.key(q) for q in points}:
            points.append(p)
    schedules = [space.schedule(p) for p in points]
    with RayMeasurer(runners_per_node=2, repeat=2, min_repeat_ms=150) as m:
        assert len(m.actors) == 2
        first = m.measure(task.kernel, schedules[:1])  # the reference run happens here
        assert first[0].ok, first[0].error
        victim = m.actors[0]
        killer = threading.Timer(0.25, lambda: ray.kill(victim))
        killer.start()
        start = time.perf_counter()
        results = m.measure(task.kernel, schedules[1:])
        killer.join()
        assert time.perf_counter() - start > 0.25  # the kill came while the batch was timed
        assert len(results) == 4
        assert all(r.ok for r in results), [r.error for r in results]
        assert m.lost_runners == 1 and m.retries == 1 and len(m.actors) == 1


def _node(node_id: str, model: str, llvm_cpu: str) -> NodeInfo:
    target = {"cpu_model": model, "llvm_cpu": llvm_cpu, "features": "+avx2", "vector_bits": 256, "threads": 1}
    return NodeInfo(node_id, 2, "x86_64-unknown-linux-gnu", llvm_cpu, "+avx2", target)


def test_several_node_kinds_need_a_named_target() -> None:
    nodes = [_node("a", "AMD EPYC", "znver3"), _node("b", "Intel Xeon", "sapphirerapids"), _node("c", "AMD EPYC", "znver3")]
    with pytest.raises(CompilerError, match="2 kinds"):
        select_nodes(nodes, None)
    assert [n.node_id for n in select_nodes(nodes, "znver3")] == ["a", "c"]
    assert [n.node_id for n in select_nodes(nodes, "Intel Xeon")] == ["b"]
    with pytest.raises(CompilerError, match="no node"):
        select_nodes(nodes, "graviton3")
    assert len(select_nodes(nodes[:1], None)) == 1


def test_target_without_ray_is_refused(model_path: Path, tmp_path: Path) -> None:
    with pytest.raises(CompilerError, match="Ray cluster"):
        tune(str(model_path), tmp_path / "r.jsonl", trials=1, target="znver3")
