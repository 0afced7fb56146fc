"""compiler.tuner.cost_model: gradient-boosted ranking of candidates, and its file."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from scipy.stats import spearmanr

from compiler.errors import CompilerError
from compiler.tuner.cost_model import (
    COST_MODEL_VERSION,
    CostModel,
    CostModelError,
    normalize_throughputs,
)
from compiler.tuner.features import FEATURE_LENGTH


def _synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """Two tasks whose throughput grows with a latent score of a few features;
    the second task is 10x faster overall (normalization must remove that)."""
    rng = np.random.default_rng(seed)
    # Like real feature vectors: most slots empty (constant), a few vary.
    x = np.zeros((n, FEATURE_LENGTH), dtype=np.float32)
    x[:, :24] = rng.standard_normal((n, 24))
    score = x[:, 3] + 0.5 * x[:, 10] - 0.3 * x[:, 20]
    groups = ["a" if i % 2 else "b" for i in range(n)]
    scale = np.where(np.asarray(groups) == "a", 1e9, 1e10)
    return x, scale * np.exp(score), groups, score


def test_normalize_per_group_and_failures() -> None:
    y = normalize_throughputs([2.0, 4.0, np.nan, 10.0, 0.0, -1.0, 5.0], list("aaabbbb"))
    np.testing.assert_allclose(y, [0.5, 1.0, 0.0, 1.0, 0.0, 0.0, 0.5])


def test_untrained_predicts_zeros() -> None:
    model = CostModel()
    assert not model.trained
    np.testing.assert_array_equal(model.predict(np.zeros((3, FEATURE_LENGTH))), np.zeros(3))


def test_learns_a_monotone_relation_on_held_out_rows() -> None:
    x, y, groups, score = _synthetic(400, seed=0)
    model = CostModel(seed=0)
    model.fit(x[:300], y[:300], groups[:300])
    assert model.trained
    predicted = model.predict(x[300:])
    for g in ("a", "b"):
        rows = [i for i in range(300, 400) if groups[i] == g]
        rho = spearmanr(predicted[np.asarray(rows) - 300], score[rows]).statistic
        assert rho > 0.8, (g, rho)


def test_refit_starts_from_scratch_and_is_deterministic() -> None:
    x, y, groups, _ = _synthetic(120, seed=1)
    a, b = CostModel(seed=3), CostModel(seed=3)
    a.fit(x[:60], -y[:60], groups[:60])  # nonsense first (all failed)
    a.fit(x, y, groups)
    b.fit(x, y, groups)
    np.testing.assert_array_equal(a.predict(x), b.predict(x))


def test_save_load_round_trip(tmp_path) -> None:
    x, y, groups, _ = _synthetic(100, seed=2)
    model = CostModel(seed=1)
    model.fit(x, y, groups)
    path = tmp_path / "model.pkl"
    model.save(path)
    loaded = CostModel.load(path)
    assert loaded.trained and loaded.samples == 100
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    untrained = tmp_path / "empty.pkl"
    CostModel().save(untrained)
    assert not CostModel.load(untrained).trained


def test_load_refuses_garbage_and_other_versions(tmp_path) -> None:
    garbage = tmp_path / "garbage.pkl"
    garbage.write_bytes(b"\x80\x05not a pickle at all")
    with pytest.raises(CostModelError, match="not a cost model file"):
        CostModel.load(garbage)
    other = tmp_path / "other.pkl"
    other.write_bytes(pickle.dumps({"some": "dict"}))
    with pytest.raises(CostModelError, match="not a cost model file"):
        CostModel.load(other)
    path = tmp_path / "old.pkl"
    CostModel().save(path)
    state = pickle.loads(path.read_bytes())
    state["version"] = COST_MODEL_VERSION + 1
    path.write_bytes(pickle.dumps(state))
    with pytest.raises(CostModelError, match="other features"):
        CostModel.load(path)
    with pytest.raises(CompilerError, match="cannot read"):
        CostModel.load(tmp_path / "missing.pkl")
