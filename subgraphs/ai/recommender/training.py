"""Fitting a recommender from interactions: co-occurrence of tracks in playlists and in
listening sessions, ALS (the `implicit` library, CPU) on play counts once there are enough
plays, and popularity. Pure computation over arrays; the job (tasks.py) brings the data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from subgraphs.ai.recommender.model import Floats, Ints, RecommenderModel, TrackInfo

SESSION_GAP_SECONDS = 30 * 60
"""Plays further apart than this start a new listening session."""


@dataclass
class Interactions:
    """Plays as parallel arrays, ordered by (user, time), and playlists as track positions."""

    users: Ints
    items: Ints
    times: npt.NDArray[np.int64]
    """Unix seconds."""
    user_keys: list[str]
    playlists: list[Ints] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        index: dict[str, int],
        plays: list[tuple[str, str, int]],
        playlists: list[list[str]],
    ) -> Interactions:
        """`plays`: (user key, track id, unix time); tracks the model does not know are left out."""
        known = [(user, index[track], at) for user, track, at in plays if track in index]
        known.sort(key=lambda play: (play[0], play[2]))
        user_keys = sorted({user for user, _, _ in known})
        code = {user: position for position, user in enumerate(user_keys)}
        return cls(
            users=np.array([code[user] for user, _, _ in known], dtype=np.int32),
            items=np.array([item for _, item, _ in known], dtype=np.int32),
            times=np.array([at for _, _, at in known], dtype=np.int64),
            user_keys=user_keys,
            playlists=[
                np.array(sorted({index[track] for track in tracks if track in index}), dtype=np.int32)
                for tracks in playlists
            ],
        )

    def subset(self, keep: npt.NDArray[np.bool_]) -> Interactions:
        return Interactions(
            self.users[keep], self.items[keep], self.times[keep], self.user_keys, self.playlists
        )

    def sessions(self) -> Ints:
        """A session number per play."""
        if len(self.users) == 0:
            return np.zeros(0, dtype=np.int32)
        breaks = np.ones(len(self.users), dtype=bool)
        breaks[1:] = (self.users[1:] != self.users[:-1]) | (
            self.times[1:] - self.times[:-1] > SESSION_GAP_SECONDS
        )
        return (np.cumsum(breaks) - 1).astype(np.int32)


@dataclass(frozen=True)
class TrainingParams:
    factors: int = 48
    regularization: float = 0.05
    iterations: int = 15
    alpha: float = 5.0
    """ALS confidence: 1 + alpha · log(1 + plays)."""
    min_plays_for_als: int = 1_000
    min_users_for_als: int = 20
    neighbours: int = 100
    """Co-occurrence neighbours kept per track (the strongest)."""
    playlist_weight: float = 1.0
    seed: int = 7

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def cooccurrence(size: int, interactions: Interactions, params: TrainingParams) -> sparse.csr_matrix:
    """Cosine-normalised co-occurrence in sessions and playlists, the strongest `neighbours`
    per row, zero diagonal."""
    baskets: list[sparse.csr_matrix] = []
    if len(interactions.items):
        sessions = interactions.sessions()
        incidence = sparse.csr_matrix(
            (np.ones(len(sessions), dtype=np.float32), (sessions, interactions.items)),
            shape=(int(sessions.max()) + 1, size),
        )
        incidence.data[:] = 1.0  # a track replayed in a session counts once
        baskets.append(incidence)
    lists = [tracks for tracks in interactions.playlists if len(tracks) > 1]
    if lists:
        rows = np.concatenate([np.full(len(tracks), n, dtype=np.int32) for n, tracks in enumerate(lists)])
        incidence = sparse.csr_matrix(
            (np.full(len(rows), params.playlist_weight, dtype=np.float32), (rows, np.concatenate(lists))),
            shape=(len(lists), size),
        )
        baskets.append(incidence)
    if not baskets:
        return sparse.csr_matrix((size, size), dtype=np.float32)
    stacked = sparse.vstack(baskets).tocsr()
    counts = (stacked.T @ stacked).tocsr().astype(np.float32)
    counts.setdiag(0)
    counts.eliminate_zeros()
    degree = np.sqrt(np.asarray(stacked.power(2).sum(axis=0)).ravel()).astype(np.float32)
    degree[degree == 0] = 1.0
    normalised = sparse.diags(1 / degree) @ counts @ sparse.diags(1 / degree)
    return _strongest(normalised.tocsr(), params.neighbours)


def _strongest(matrix: sparse.csr_matrix, keep: int) -> sparse.csr_matrix:
    data, indices, indptr = [], [], [0]
    for row in range(matrix.shape[0]):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        values, columns = matrix.data[start:end], matrix.indices[start:end]
        if len(values) > keep:
            top = np.argpartition(-values, keep)[:keep]
            values, columns = values[top], columns[top]
        data.append(values)
        indices.append(columns)
        indptr.append(indptr[-1] + len(values))
    return sparse.csr_matrix(
        (
            np.concatenate(data).astype(np.float32) if data else np.zeros(0, np.float32),
            np.concatenate(indices).astype(np.int32) if indices else np.zeros(0, np.int32),
            np.array(indptr, dtype=np.int64),
        ),
        shape=matrix.shape,
    )


def popularity(tracks: list[TrackInfo], interactions: Interactions) -> Floats:
    """Half the catalogue's popularity, half the (log) play count seen in the data."""
    catalogue = np.array([(track.popularity or 0) / 100 for track in tracks], dtype=np.float32)
    plays = np.bincount(interactions.items, minlength=len(tracks)).astype(np.float32)
    if plays.max(initial=0) == 0:
        return catalogue
    played = np.log1p(plays) / np.log1p(plays.max())
    return (0.5 * catalogue + 0.5 * played).astype(np.float32)


def als_factors(size: int, interactions: Interactions, params: TrainingParams) -> Floats | None:
    """ALS track factors, or None below the thresholds (too few plays or listeners to learn
    from: the other sources carry the recommendations)."""
    users = len(np.unique(interactions.users))
    if len(interactions.items) < params.min_plays_for_als or users < params.min_users_for_als:
        return None
    from implicit.cpu.als import AlternatingLeastSquares  # the worker's job only: scipy + BLAS threads
    from threadpoolctl import threadpool_limits

    counts = sparse.csr_matrix(
        (np.ones(len(interactions.items), dtype=np.float32), (interactions.users, interactions.items)),
        shape=(len(interactions.user_keys), size),
    )
    counts.sum_duplicates()
    counts.data = (1 + params.alpha * np.log1p(counts.data)).astype(np.float32)
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(
            factors=params.factors,
            regularization=params.regularization,
            iterations=params.iterations,
            random_state=params.seed,
            calculate_training_loss=False,
        )
        model.fit(counts, show_progress=False)
    return np.asarray(model.item_factors, dtype=np.float32)


def fit(
    version: str,
    tracks: list[TrackInfo],
    embeddings: Floats,
    interactions: Interactions,
    params: TrainingParams,
) -> RecommenderModel:
    size = len(tracks)
    return RecommenderModel(
        version=version,
        tracks=tracks,
        embeddings=embeddings.astype(np.float32),
        cooccurrence=cooccurrence(size, interactions, params),
        popularity=popularity(tracks, interactions),
        als_factors=als_factors(size, interactions, params),
        als_regularization=params.regularization,
        als_alpha=params.alpha,
        params=params.as_dict(),
    )
