"""Choosing the next batch of candidates to measure.

`gbm` search runs simulated annealing over the cost model's predictions: a
population of points (the best measured ones, topped up with random ones)
takes a few rounds of mutations, a mutation being kept when the model
predicts it faster, or with probability exp(gain / temperature) when not.
The batch is the best predicted unmeasured points seen on the way, plus an
epsilon share of random ones, so that a wrong model cannot lock the search
into one region (AutoTVM's and Ansor's epsilon-greedy). `random` search
samples uniformly. Neither ever proposes a point already measured or one
the space rejects.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from compiler.tuner.cost_model import CostModel
from compiler.tuner.space import Point, SearchSpace

SEARCHES = ("gbm", "random")


@dataclass
class Candidate:
    point: Point
    key: str


@dataclass
class SearchState:
    """What a task's search has seen: measured point keys and their scores."""

    measured: dict[str, float] = field(default_factory=dict)
    """Point key -> measured throughput (0 for a failed candidate)."""
    points: dict[str, Point] = field(default_factory=dict)
    rejected: set[str] = field(default_factory=set)

    def best(self, count: int) -> list[Point]:
        ranked = sorted(self.measured.items(), key=lambda kv: -kv[1])
        return [self.points[k] for k, score in ranked[:count] if score > 0 and k in self.points]


def _valid(space: SearchSpace, point: Point, state: SearchState) -> str | None:
    """The point's key when it is new and applies, else None."""
    key = space.key(point)
    if key in state.measured or key in state.rejected:
        return None
    if space.schedule(point) is None:
        state.rejected.add(key)
        return None
    return key


def random_batch(
    space: SearchSpace, state: SearchState, size: int, rng: random.Random, taken: set[str] | None = None
) -> list[Candidate]:
    """Up to `size` new valid points drawn uniformly (fewer when the space runs out)."""
    taken = set() if taken is None else taken
    out: list[Candidate] = []
    attempts = 0
    while len(out) < size and attempts < 40 * size:
        attempts += 1
        point = space.sample(rng)
        key = _valid(space, point, state)
        if key is None or key in taken:
            continue
        taken.add(key)
        out.append(Candidate(point, key))
    return out


def annealed_batch(
    space: SearchSpace,
    state: SearchState,
    model: CostModel,
    featurize: Callable[[Point], np.ndarray],
    size: int,
    rng: random.Random,
    *,
    epsilon: float = 0.2,
    population: int = 16,
    rounds: int = 4,
    temperature: float = 0.05,
) -> list[Candidate]:
    """The best predicted new points found by simulated annealing, plus random ones."""
    if not model.trained:
        return random_batch(space, state, size, rng)
    explore = max(1, round(size * epsilon)) if size > 1 else 0
    exploit = size - explore
    scores: dict[str, float] = {}
    pool: dict[str, Point] = {}

    def score(points: Sequence[Point]) -> list[float]:
        fresh = [p for p in points if space.key(p) not in scores]
        if fresh:
            predicted = model.predict(np.stack([featurize(p) for p in fresh]))
            for p, s in zip(fresh, predicted, strict=True):
                scores[space.key(p)] = float(s)
        return [scores[space.key(p)] for p in points]

    current = state.best(population // 2)
    while len(current) < population:
        drawn = random_batch(space, state, population - len(current), rng, set(pool))
        if not drawn:
            break
        current += [c.point for c in drawn]
    current = [p for p in current if space.schedule(p) is not None]
    if not current:
        return random_batch(space, state, size, rng)
    current_scores = score(current)
    for p in current:
        if _valid(space, p, state) is not None:
            pool[space.key(p)] = p
    for _ in range(rounds):
        proposals = []
        for p in current:
            q = space.mutate(p, rng)
            proposals.append(q if space.schedule(q) is not None else p)
        new_scores = score(proposals)
        for i, (q, s) in enumerate(zip(proposals, new_scores, strict=True)):
            gain = s - current_scores[i]
            if gain >= 0 or rng.random() < math.exp(gain / temperature):
                current[i], current_scores[i] = q, s
            if _valid(space, q, state) is not None:
                pool[space.key(q)] = q
    ranked = sorted(pool.items(), key=lambda kv: -scores.get(kv[0], 0.0))
    chosen = [Candidate(p, k) for k, p in ranked[:exploit]]
    taken = {c.key for c in chosen}
    chosen += random_batch(space, state, size - len(chosen), rng, taken)
    return chosen
