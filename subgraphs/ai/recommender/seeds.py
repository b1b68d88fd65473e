"""Turning what a seed is made of (a user's plays, a playlist's or project's tracks, a track,
an artist) into the model's weighted seed tracks. Shared by the service and the evaluation,
so what is evaluated is what is served."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from subgraphs.ai.recommender.engine import Seed
from subgraphs.ai.recommender.model import RecommenderModel

HISTORY_HALF_LIFE_SECONDS = 30 * 86_400
"""A play a month older than the latest counts half as much."""
ARTIST_SEED_TRACKS = 10


def history_seed(
    model: RecommenderModel,
    plays: Iterable[tuple[str, int]],
    playlist_tracks: Sequence[str] = (),
    *,
    exclude_known: bool = True,
    exclude: Iterable[str] = (),
) -> Seed:
    """A listener's seed: each played track weighted by its plays, recent ones more
    (`plays`: (track id, unix time)), plus the tracks of their playlists."""
    weights: dict[int, float] = {}
    known = [(model.index[track], at) for track, at in plays if track in model.index]
    latest = max((at for _, at in known), default=0)
    for position, at in known:
        weights[position] = weights.get(position, 0.0) + 0.5 ** ((latest - at) / HISTORY_HALF_LIFE_SECONDS)
    for track in playlist_tracks:
        if track in model.index:
            weights[model.index[track]] = weights.get(model.index[track], 0.0) + 1.0
    excluded = set(weights) if exclude_known else set()
    return _seed(weights, excluded | positions(model, exclude))


def tracks_seed(
    model: RecommenderModel,
    track_ids: Sequence[str],
    *,
    exclude_known: bool = True,
    exclude: Iterable[str] = (),
) -> Seed:
    """A playlist's, a project's or one track's seed: every track counts the same."""
    weights = {model.index[track]: 1.0 for track in track_ids if track in model.index}
    excluded = set(weights) if exclude_known else set()
    return _seed(weights, excluded | positions(model, exclude))


def artist_seed(model: RecommenderModel, artist_id: str, *, exclude: Iterable[str] = ()) -> Seed:
    """An artist's most popular tracks stand for the artist."""
    own = sorted(model.tracks_of_artist.get(artist_id, []), key=lambda p: -float(model.popularity[p]))
    weights = {position: 1.0 for position in own[:ARTIST_SEED_TRACKS]}
    return _seed(weights, positions(model, exclude))


def positions(model: RecommenderModel, track_ids: Iterable[str]) -> set[int]:
    return {model.index[track] for track in track_ids if track in model.index}


def _seed(weights: dict[int, float], exclude: set[int]) -> Seed:
    tracks = np.array(list(weights), dtype=np.int32)
    return Seed(
        tracks=tracks, weights=np.array(list(weights.values()), dtype=np.float32), exclude=frozenset(exclude)
    )
