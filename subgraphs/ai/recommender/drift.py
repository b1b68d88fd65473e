"""Drift statistics: how far recent data has moved from what the production model was trained
on. Embeddings are compared by the population stability index over k-means clusters of the
reference (and by the cosine shift of their centroids); plays by the PSI of their spread over
the reference's popularity deciles. PSI >= 0.1 is a warning, >= 0.25 an alert."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from scipy.cluster.vq import kmeans2

from subgraphs.ai.recommender.model import Floats

WARNING_PSI = 0.1
ALERT_PSI = 0.25
MIN_RECENT = 30
"""Fewer recent observations than this give no verdict (`insufficient`)."""
SMOOTHING = 1e-4
CLUSTERS = 10
DECILES = 10


class Level(StrEnum):
    OK = "ok"
    WARNING = "warning"
    ALERT = "alert"
    INSUFFICIENT = "insufficient"


def level_of(psi: float | None) -> Level:
    if psi is None:
        return Level.INSUFFICIENT
    if psi >= ALERT_PSI:
        return Level.ALERT
    if psi >= WARNING_PSI:
        return Level.WARNING
    return Level.OK


@dataclass(frozen=True)
class Comparison:
    psi: float | None
    centroid_shift: float | None
    """1 - cosine of the two centroids (embeddings only)."""
    reference_count: int
    recent_count: int
    reference_share: list[float]
    recent_share: list[float]

    @property
    def level(self) -> Level:
        return level_of(self.psi)


def psi(reference: npt.NDArray[np.float64], recent: npt.NDArray[np.float64]) -> float:
    """Population stability index of two distributions over the same bins (smoothed, so an
    empty bin does not make it infinite)."""
    expected = (reference + SMOOTHING) / (reference + SMOOTHING).sum()
    actual = (recent + SMOOTHING) / (recent + SMOOTHING).sum()
    return float(np.sum((actual - expected) * np.log(actual / expected)))


@dataclass(frozen=True)
class EmbeddingReference:
    centroids: Floats
    share: npt.NDArray[np.float64]
    mean: Floats
    count: int

    @classmethod
    def fit(cls, vectors: Floats, *, clusters: int = CLUSTERS, seed: int = 7) -> EmbeddingReference:
        k = max(1, min(clusters, len(vectors) // 20))
        centroids, labels = kmeans2(vectors.astype(np.float64), k, minit="++", seed=seed, iter=25)
        share = np.bincount(labels, minlength=k).astype(np.float64)
        return cls(centroids.astype(np.float32), share / share.sum(), vectors.mean(axis=0), len(vectors))

    def compare(self, recent: Floats) -> Comparison:
        if len(recent) < MIN_RECENT:
            return Comparison(None, None, self.count, len(recent), self.share.tolist(), [])
        nearest = np.argmax(recent @ self.centroids.T - 0.5 * (self.centroids**2).sum(axis=1), axis=1)
        counts = np.bincount(nearest, minlength=len(self.centroids)).astype(np.float64)
        mean = recent.mean(axis=0)
        cosine = float(mean @ self.mean / (np.linalg.norm(mean) * np.linalg.norm(self.mean) or 1.0))
        return Comparison(
            psi(self.share, counts),
            round(1 - cosine, 6),
            self.count,
            len(recent),
            self.share.round(4).tolist(),
            (counts / counts.sum()).round(4).tolist(),
        )


def popularity_deciles(popularity: Floats) -> Floats:
    """The decile edges of the model's track popularity."""
    return np.quantile(popularity, np.linspace(0, 1, DECILES + 1)[1:-1]).astype(np.float32)


def compare_plays(
    popularity: Floats,
    edges: Floats,
    reference_plays: npt.NDArray[np.int64],
    recent_plays: npt.NDArray[np.int64],
) -> Comparison:
    """Plays (track positions) spread over the popularity deciles, reference vs recent."""

    def spread(plays: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        return np.bincount(np.searchsorted(edges, popularity[plays]), minlength=DECILES).astype(np.float64)

    reference, recent = spread(reference_plays), spread(recent_plays)
    if len(recent_plays) < MIN_RECENT or len(reference_plays) == 0:
        return Comparison(None, None, len(reference_plays), len(recent_plays), [], [])
    return Comparison(
        psi(reference, recent),
        None,
        len(reference_plays),
        len(recent_plays),
        (reference / reference.sum()).round(4).tolist(),
        (recent / recent.sum()).round(4).tolist(),
    )
