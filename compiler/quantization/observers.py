"""Activation statistics gathered during calibration, and the ranges chosen from them.

An `Observer` watches one tensor over every calibration batch: its running
min and max, and a histogram of |x| with a fixed bin count over [0, R] where
R only grows (an old histogram is re-binned into the wider range, so nothing
is kept per batch). From those, `choose_range` picks the real range [rmin,
rmax] that the quantization scale must cover:

    minmax      the observed min and max;
    percentile  |x| clipped at the given percentile of the |x| histogram;
    entropy     |x| clipped at the threshold whose quantized histogram is
                closest to the observed one in KL divergence (TensorRT's
                entropy calibrator, see `kl_threshold`).

The clipped methods keep each side of the observed range (a Relu output stays
[0, T], not [-T, T]), so their range is always inside the min-max range.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

METHODS = ("minmax", "percentile", "entropy")
HISTOGRAM_BINS = 2048


@dataclass
class Observer:
    """Running min, max and |x| histogram of one tensor."""

    bins: int = HISTOGRAM_BINS
    min: float = float("inf")
    max: float = float("-inf")
    bound: float = 0.0  # the histogram covers [0, bound]
    histogram: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))

    def update(self, x: np.ndarray) -> None:
        x = np.asarray(x, dtype=np.float32).reshape(-1)
        x = x[np.isfinite(x)]
        if x.size == 0:
            return
        self.min = min(self.min, float(x.min()))
        self.max = max(self.max, float(x.max()))
        magnitude = np.abs(x)
        top = float(magnitude.max())
        if self.histogram.size == 0:
            self.bound = top if top > 0 else 1.0
            self.histogram = np.zeros(self.bins, np.float64)
        elif top > self.bound:
            self._widen(top)
        counts, _ = np.histogram(magnitude, bins=self.bins, range=(0.0, self.bound))
        self.histogram += counts

    def _widen(self, top: float) -> None:
        """Re-bin the histogram into [0, top]: each old bin's count goes to the new bin of its centre."""
        width = self.bound / self.bins
        centres = (np.arange(self.bins) + 0.5) * width
        new_width = top / self.bins
        index = np.minimum((centres / new_width).astype(np.int64), self.bins - 1)
        widened = np.zeros(self.bins, np.float64)
        np.add.at(widened, index, self.histogram)
        self.histogram, self.bound = widened, top

    @property
    def seen(self) -> bool:
        return self.min <= self.max


def percentile_threshold(histogram: np.ndarray, bound: float, percentile: float) -> float:
    """The |x| below which `percentile` percent of the counts lie (upper edge of that bin)."""
    total = float(histogram.sum())
    if total == 0:
        return bound
    cumulative = np.cumsum(histogram) / total
    index = int(np.searchsorted(cumulative, percentile / 100.0))
    return min(bound, (index + 1) * bound / histogram.size)


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    mask = p > 0
    p = p / p.sum()
    q = q / q.sum()
    q_masked = q[mask]
    if np.any(q_masked == 0):
        return float("inf")
    return float(np.sum(p[mask] * np.log(p[mask] / q_masked)))


def kl_threshold(histogram: np.ndarray, bound: float, levels: int = 128) -> float:
    """TensorRT's entropy calibration: the clipping threshold of |x| with the least KL divergence.

    For each candidate threshold (bin i from `levels` up), the reference
    distribution P is the histogram cut at i with the clipped tail added to
    its last bin; the candidate Q merges P's i bins into `levels` groups and
    spreads each group's count evenly over the group's non-empty bins. The
    threshold is the upper edge of the bin with the least KL(P || Q).

    The first bin's count is replaced by the second's first: the exact zeros
    of a Relu output (half the values) would otherwise dominate every
    merged group that contains bin 0 and push the threshold far too low
    (NVIDIA's pytorch-quantization does the same).
    """
    bins = histogram.size
    histogram = histogram.copy()
    if bins > 1:
        histogram[0] = histogram[1]
    if histogram.sum() == 0 or bins <= levels:
        return bound
    best_kl, best_i = float("inf"), bins
    tail = np.cumsum(histogram[::-1])[::-1]  # tail[i] = sum(histogram[i:])
    for i in range(levels, bins + 1):
        p = histogram[:i].copy()
        if i < bins:
            p[-1] += tail[i]
        if p.sum() == 0:
            continue
        q = _expanded(histogram[:i], levels)
        kl = _kl(p, q)
        if kl < best_kl:
            best_kl, best_i = kl, i
    return best_i * bound / bins


def _expanded(p: np.ndarray, levels: int) -> np.ndarray:
    """p merged into `levels` groups, each group's sum spread over its non-zero bins."""
    edges = np.linspace(0, p.size, levels + 1).astype(np.int64)
    group = np.repeat(np.arange(levels), np.diff(edges))
    nonzero = p > 0
    sums = np.bincount(group, weights=p, minlength=levels)
    counts = np.bincount(group, weights=nonzero.astype(np.float64), minlength=levels)
    per_bin = np.divide(sums, counts, out=np.zeros(levels), where=counts > 0)
    return np.where(nonzero, per_bin[group], 0.0)


def choose_range(observer: Observer, method: str, percentile: float = 99.99) -> tuple[float, float]:
    """The real range [rmin, rmax] to quantize, by `method` (one of METHODS)."""
    if not observer.seen:
        return 0.0, 0.0
    if method == "minmax":
        return observer.min, observer.max
    if method == "percentile":
        threshold = percentile_threshold(observer.histogram, observer.bound, percentile)
    elif method == "entropy":
        one_sided = observer.min >= 0 or observer.max <= 0
        threshold = kl_threshold(observer.histogram, observer.bound, 256 if one_sided else 128)
    else:
        raise ValueError(f"unknown calibration method {method!r}; expected one of {METHODS}")
    return max(observer.min, -threshold), min(observer.max, threshold)
