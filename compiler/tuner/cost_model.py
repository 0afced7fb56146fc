"""The tuner's cost model: gradient-boosted trees that rank candidate schedules.

`CostModel` learns `features -> normalized throughput` with scikit-learn's
`HistGradientBoostingRegressor` (histogram-binned trees: fast to refit on a
few thousand rows, indifferent to feature scale, no tuning needed):

- **target**: throughput (FLOP/s, or 1 / seconds) divided by the best
  throughput seen in its group (the workload key), so every task's labels
  lie in [0, 1] with 1 for its best candidate. Candidates that failed (no
  throughput, or 0, NaN, negative) get 0. Only the order within a task
  matters to the search, and normalizing per task is what lets one model
  learn from many tasks at once.
- **regression target**: sqrt of the normalized throughput. Throughputs
  are heavy-tailed (a few good candidates, many several times slower); on
  the raw ratio the squared error spends itself on the top few and ranks
  the rest poorly. The square root keeps the order and spreads the slow
  ones apart (held-out rank correlation 0.75 -> 0.97 on the synthetic test).
- **training**: `fit` retrains from scratch on everything it is given; at a
  few thousand rows that takes well under a second, so the tuner simply
  refits after every measured batch.
- **transfer / warm start**: fit on the records of other tasks (and earlier
  runs) together with the current task's measurements, each row grouped by
  its own workload key. The features describe loop IR, not knob values, so
  what makes a conv tile fast on one task (registers used, contiguous
  vector loads, reuse distance) predicts it on another, and the model ranks
  candidates of a new task before it has measured any of them.
- **before any fit** `predict` returns zeros: every candidate ties, and the
  search falls back to its random exploration.
- **persistence**: `save` pickles the regressor with a version stamp and the
  feature length; `load` refuses, with a `CostModelError`, a file that is not
  one (corrupt, truncated, another program's) or that an incompatible
  version wrote. Pickles execute code when loaded: load only model files
  you wrote (the tuner keeps its own beside its records).
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from compiler.errors import CompilerError
from compiler.tuner.features import FEATURE_LENGTH

COST_MODEL_VERSION = 1
"""Bumped whenever the features or the saved format change: older files are refused."""

_FORMAT = "compiler.tuner.cost_model"


class CostModelError(CompilerError):
    """A cost-model file that cannot be read, or was written for other features."""


def normalize_throughputs(throughputs: Sequence[float] | np.ndarray, groups: Sequence[str]) -> np.ndarray:
    """Each throughput over the best of its group: values in [0, 1], failures 0."""
    y = np.asarray(throughputs, dtype=np.float64).reshape(-1)
    if len(groups) != len(y):
        raise ValueError(f"{len(y)} throughputs but {len(groups)} groups")
    y = np.where(np.isfinite(y) & (y > 0), y, 0.0)
    out = np.zeros_like(y)
    keys = np.asarray(list(groups), dtype=object)
    for group in dict.fromkeys(groups):
        mask = keys == group
        best = y[mask].max()
        if best > 0:
            out[mask] = y[mask] / best
    return out


class CostModel:
    """Predicts a candidate's normalized throughput (higher = faster) from its features."""

    def __init__(self, seed: int = 0, *, threads: int = 1) -> None:
        self.seed = seed
        self.threads = threads
        """OpenMP threads while fitting and predicting. More than the cores
        that are free makes OpenMP spin: 10x slower on a shared 2-core machine."""
        self._regressor: HistGradientBoostingRegressor | None = None
        self._columns: np.ndarray | None = None
        """The feature columns that varied in the training rows (the others
        cannot split and only cost time: most slots are empty for most kernels)."""
        self._constant: float | None = None
        self.samples = 0
        """Rows of the last fit."""

    @property
    def trained(self) -> bool:
        return self._regressor is not None or self._constant is not None

    def _check(self, features: np.ndarray) -> np.ndarray:
        x = np.asarray(features, dtype=np.float32)
        if x.ndim == 1:
            x = x.reshape(1, -1) if x.size else x.reshape(0, FEATURE_LENGTH)
        if x.ndim != 2 or x.shape[1] != FEATURE_LENGTH:
            raise ValueError(f"features must have shape (n, {FEATURE_LENGTH}), got {x.shape}")
        return x

    def fit(self, features: np.ndarray, throughputs: np.ndarray | Sequence[float], groups: Sequence[str]) -> None:
        """Retrain from scratch on all rows given (other tasks' rows are the transfer)."""
        x = self._check(features)
        if len(x) != len(groups):
            raise ValueError(f"{len(x)} feature rows but {len(groups)} groups")
        y = normalize_throughputs(throughputs, groups)
        self.samples = len(y)
        self._regressor, self._constant, self._columns = None, None, None
        if len(y) == 0:
            return
        columns = np.flatnonzero(x.max(axis=0) != x.min(axis=0))
        if len(y) < 4 or np.all(y == y[0]) or len(columns) == 0:
            # Too little to split on: every candidate gets the mean.
            self._constant = float(np.sqrt(y).mean())
            return
        regressor = HistGradientBoostingRegressor(
            loss="squared_error",
            learning_rate=0.1,
            max_iter=100,
            max_leaf_nodes=15,
            # The default 20 would forbid any split on the first batches.
            min_samples_leaf=max(3, min(10, len(y) // 20)),
            l2_regularization=1e-3,
            early_stopping=False,
            random_state=self.seed,
        )
        with threadpool_limits(limits=self.threads):
            regressor.fit(x[:, columns], np.sqrt(y))
        self._regressor, self._columns = regressor, columns

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Scores (float64, one per row): higher = faster; zeros before any fit.

        A score estimates sqrt(normalized throughput): about 1 for a
        candidate as fast as the best of its task, 0 for a failed one."""
        x = self._check(features)
        if self._regressor is not None and self._columns is not None:
            with threadpool_limits(limits=self.threads):
                return np.asarray(self._regressor.predict(x[:, self._columns]), dtype=np.float64)
        return np.full(len(x), self._constant or 0.0, dtype=np.float64)

    # -- persistence ----------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        import sklearn

        return {
            "format": _FORMAT,
            "version": COST_MODEL_VERSION,
            "feature_length": FEATURE_LENGTH,
            "sklearn": sklearn.__version__,
            "seed": self.seed,
            "samples": self.samples,
            "regressor": self._regressor,
            "columns": self._columns,
            "constant": self._constant,
        }

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model (atomically: a reader never sees half a file)."""
        path = Path(path)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            pickle.dump(self._state(), f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CostModel:
        """A model `save` wrote; CostModelError for anything else."""
        try:
            with open(path, "rb") as f:
                state = pickle.load(f)
        except OSError as err:
            raise CostModelError(f"cannot read cost model {os.fspath(path)}: {err.strerror or err}") from None
        except Exception as err:  # noqa: BLE001 - unpickling garbage raises anything
            raise CostModelError(
                f"{os.fspath(path)} is not a cost model file ({type(err).__name__})",
                hint="delete it; the tuner retrains from its records",
            ) from None
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise CostModelError(
                f"{os.fspath(path)} is not a cost model file",
                hint="delete it; the tuner retrains from its records",
            )
        if state.get("version") != COST_MODEL_VERSION or state.get("feature_length") != FEATURE_LENGTH:
            raise CostModelError(
                f"cost model {os.fspath(path)} was written for other features (version "
                f"{state.get('version')}, {state.get('feature_length')} features; this compiler: "
                f"version {COST_MODEL_VERSION}, {FEATURE_LENGTH})",
                hint="delete it; the tuner retrains from its records",
            )
        regressor = state.get("regressor")
        if regressor is not None and not isinstance(regressor, HistGradientBoostingRegressor):
            raise CostModelError(f"{os.fspath(path)} is not a cost model file")
        model = cls(seed=int(state.get("seed", 0)))
        columns = state.get("columns")
        if regressor is not None and not isinstance(columns, np.ndarray):
            raise CostModelError(f"{os.fspath(path)} is not a cost model file")
        model._regressor, model._columns = regressor, columns
        model._constant = state.get("constant")
        model.samples = int(state.get("samples", 0))
        return model
