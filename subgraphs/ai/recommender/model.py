"""A trained recommender, as one artifact every replica loads: the catalogue's tracks with
their attributes, their MiniLM vectors, the item-item co-occurrence of playlists and
listening sessions, ALS item factors (when there were enough plays) and popularity. Item
side only: a seed (a user's history, a playlist, a track...) is folded in per request."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int32]


@dataclass(frozen=True)
class TrackInfo:
    """What a reason can say about a track."""

    id: str
    name: str
    artist_ids: tuple[str, ...]
    artist_names: tuple[str, ...]
    genres: tuple[str, ...]
    year: int | None
    popularity: int | None


@dataclass
class RecommenderModel:
    version: str
    tracks: list[TrackInfo]
    embeddings: Floats
    """Unit-length rows, one per track (cosine = dot product)."""
    cooccurrence: sparse.csr_matrix
    """Track-by-track, cosine-normalised counts of appearing together in a playlist or a
    listening session; zero diagonal."""
    popularity: Floats
    """0..1: the catalogue's popularity blended with play counts in the training data."""
    als_factors: Floats | None = None
    """Track factors of the ALS model, None while too few interactions exist."""
    als_regularization: float = 0.05
    als_alpha: float = 5.0
    params: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def index(self) -> dict[str, int]:
        return {track.id: position for position, track in enumerate(self.tracks)}

    @cached_property
    def tracks_of_artist(self) -> dict[str, list[int]]:
        by_artist: dict[str, list[int]] = {}
        for position, track in enumerate(self.tracks):
            for artist_id in track.artist_ids:
                by_artist.setdefault(artist_id, []).append(position)
        return by_artist

    @cached_property
    def genre_matrix(self) -> tuple[list[str], sparse.csr_matrix]:
        """(genres, track-by-genre indicator)."""
        genres = sorted({genre for track in self.tracks for genre in track.genres})
        column = {genre: position for position, genre in enumerate(genres)}
        rows, cols = [], []
        for position, track in enumerate(self.tracks):
            for genre in track.genres:
                rows.append(position)
                cols.append(column[genre])
        data = np.ones(len(rows), dtype=np.float32)
        return genres, sparse.csr_matrix((data, (rows, cols)), shape=(len(self.tracks), len(genres)))

    @cached_property
    def als_gram(self) -> Floats | None:
        """YᵀY of the item factors: folding a seed in costs one small solve."""
        if self.als_factors is None:
            return None
        return (self.als_factors.T @ self.als_factors).astype(np.float32)

    def to_bytes(self) -> bytes:
        arrays: dict[str, Any] = {
            "embeddings": self.embeddings.astype(np.float32),
            "popularity": self.popularity.astype(np.float32),
            "cooc_data": self.cooccurrence.data.astype(np.float32),
            "cooc_indices": self.cooccurrence.indices.astype(np.int32),
            "cooc_indptr": self.cooccurrence.indptr.astype(np.int64),
            "meta": np.frombuffer(json.dumps(self._meta()).encode(), dtype=np.uint8),
        }
        if self.als_factors is not None:
            arrays["als_factors"] = self.als_factors.astype(np.float32)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        return buffer.getvalue()

    def _meta(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "tracks": [
                [t.id, t.name, list(t.artist_ids), list(t.artist_names), list(t.genres), t.year, t.popularity]
                for t in self.tracks
            ],
            "als_regularization": self.als_regularization,
            "als_alpha": self.als_alpha,
            "params": self.params,
        }

    @classmethod
    def from_bytes(cls, data: bytes) -> RecommenderModel:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            meta = json.loads(arrays["meta"].tobytes().decode())
            tracks = [
                TrackInfo(id, name, tuple(artist_ids), tuple(artist_names), tuple(genres), year, popularity)
                for id, name, artist_ids, artist_names, genres, year, popularity in meta["tracks"]
            ]
            size = len(tracks)
            cooccurrence = sparse.csr_matrix(
                (arrays["cooc_data"], arrays["cooc_indices"], arrays["cooc_indptr"]), shape=(size, size)
            )
            return cls(
                version=meta["version"],
                tracks=tracks,
                embeddings=arrays["embeddings"],
                cooccurrence=cooccurrence,
                popularity=arrays["popularity"],
                als_factors=arrays["als_factors"] if "als_factors" in arrays.files else None,
                als_regularization=meta["als_regularization"],
                als_alpha=meta["als_alpha"],
                params=meta["params"],
            )
