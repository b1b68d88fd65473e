"""Recommending from a trained model and a seed: candidates from each source (content
similarity, co-occurrence, ALS, popularity within the seed's genres), fused by reciprocal
rank fusion, re-ranked by MMR for diversity with a per-artist cap, each item with the
reasons the data gives for it. Pure numpy over the item-side model: no I/O, no torch."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from subgraphs.ai.recommender.model import Floats, Ints, RecommenderModel

RRF_K = 60
CANDIDATES_PER_SOURCE = 300
MMR_POOL = 300
MAX_SEED_TRACKS = 200
"""The strongest seed tracks a request folds in (a long history is cut to its heaviest)."""


class Source(StrEnum):
    CONTENT = "content"
    COOCCURRENCE = "cooccurrence"
    COLLABORATIVE = "collaborative"
    POPULARITY = "popularity"


DEFAULT_WEIGHTS: dict[Source, float] = {
    Source.CONTENT: 1.0,
    Source.COOCCURRENCE: 1.0,
    Source.COLLABORATIVE: 1.0,
    Source.POPULARITY: 0.35,
}


class ReasonKind(StrEnum):
    SIMILAR_TO = "similar_to"
    PLAYED_TOGETHER = "played_together"
    LISTENERS_ALIKE = "listeners_alike"
    POPULAR_IN_GENRE = "popular_in_genre"
    POPULAR = "popular"
    SHARED_GENRE = "shared_genre"
    SAME_ARTIST = "same_artist"
    SAME_ERA = "same_era"
    NON_PERSONAL = "non_personal"
    EXCLUDED = "excluded"


@dataclass(frozen=True)
class Seed:
    """What recommendations start from: weighted seed tracks (model positions), genres to
    stay within when there are none (a tenant's, for non-personal recommendations), and
    tracks never to recommend."""

    tracks: Ints
    weights: Floats
    exclude: frozenset[int] = frozenset()
    genres: dict[str, float] = field(default_factory=dict)
    personalized: bool = True
    non_personal_note: str | None = None
    """Said as a reason on every item when the caller's own data was not used."""


@dataclass(frozen=True)
class Reason:
    kind: ReasonKind
    summary: str
    weight: float
    """The share of the item's fused score this reason's source brought (0 for attributes)."""
    source: Source | None = None
    related_track_ids: tuple[str, ...] = ()
    attribute: tuple[str, str] | None = None
    """(`genre` | `artist` | `era`, value)."""
    value: float | None = None
    """The measure behind it: a cosine, a co-occurrence strength, a popularity."""


@dataclass(frozen=True)
class Contribution:
    source: Source
    rank: int
    """1-based rank of the track in this source's candidates."""
    share: float


@dataclass(frozen=True)
class Recommended:
    track_id: str
    score: float
    rank: int | None
    contributions: tuple[Contribution, ...]
    reasons: tuple[Reason, ...]


@dataclass
class _Scored:
    scores: dict[Source, Floats]
    nearest: Ints | None
    """Per track: the seed position it is most similar to (content)."""


def _seed_tracks(seed: Seed) -> tuple[Ints, Floats]:
    if len(seed.tracks) <= MAX_SEED_TRACKS:
        return seed.tracks, seed.weights
    top = np.argsort(-seed.weights, kind="stable")[:MAX_SEED_TRACKS]
    return seed.tracks[top], seed.weights[top]


def _score(model: RecommenderModel, seed: Seed) -> _Scored:
    tracks, weights = _seed_tracks(seed)
    scores: dict[Source, Floats] = {}
    nearest = None
    if seed.personalized and len(tracks):
        weights = (weights / weights.sum()).astype(np.float32)
        similarity = model.embeddings @ model.embeddings[tracks].T
        nearest = tracks[np.argmax(similarity, axis=1)]
        positive = np.maximum(similarity, 0, out=similarity)
        cubed = positive * positive
        cubed *= positive  # two multiplications: `** 3` on a float array costs three times as much
        scores[Source.CONTENT] = cubed @ weights
        together = np.asarray(model.cooccurrence[tracks].T @ weights).ravel().astype(np.float32)
        if together.any():
            scores[Source.COOCCURRENCE] = together
        if model.als_factors is not None:
            scores[Source.COLLABORATIVE] = model.als_factors @ _fold_in(model, tracks, weights)
    scores[Source.POPULARITY] = _popular_within(model, _seed_genres(model, seed, tracks, weights))
    return _Scored(scores, nearest)


def _fold_in(model: RecommenderModel, tracks: Ints, weights: Floats) -> Floats:
    """The ALS factor of a pseudo-user who played the seed (weights as play counts): the
    closed-form least-squares step ALS itself takes for a user."""
    factors, gram = model.als_factors, model.als_gram
    if factors is None or gram is None:
        raise RuntimeError("folding a seed into ALS needs a model with ALS factors")
    confidence = 1 + model.als_alpha * np.log1p(weights * len(weights))
    seed_factors = factors[tracks]
    lhs = gram + (seed_factors.T * (confidence - 1)) @ seed_factors
    lhs += model.als_regularization * np.eye(lhs.shape[0], dtype=np.float32)
    return np.linalg.solve(lhs, seed_factors.T @ confidence).astype(np.float32)


def _seed_genres(model: RecommenderModel, seed: Seed, tracks: Ints, weights: Floats) -> dict[str, float]:
    if seed.genres:
        return seed.genres
    genres: Counter[str] = Counter()
    for position, weight in zip(tracks.tolist(), weights.tolist(), strict=True):
        for genre in model.tracks[position].genres:
            genres[genre] += weight
    return dict(genres)


def _popular_within(model: RecommenderModel, genres: dict[str, float]) -> Floats:
    if not genres:
        return model.popularity
    names, matrix = model.genre_matrix
    wanted = np.array([genres.get(name, 0.0) for name in names], dtype=np.float32)
    affinity = np.asarray(matrix @ wanted).ravel()
    if affinity.max(initial=0) <= 0:
        return model.popularity
    return ((affinity / affinity.max()) * model.popularity).astype(np.float32)


def _ranks(scores: Floats, allowed: np.ndarray) -> Ints:
    """1-based rank among allowed tracks with a positive score; 0 for the rest."""
    order = np.argsort(-scores, kind="stable")
    order = order[allowed[order] & (scores[order] > 0)]
    ranks = np.zeros(len(scores), dtype=np.int32)
    ranks[order] = np.arange(1, len(order) + 1, dtype=np.int32)
    return ranks


def _fuse(
    scored: _Scored, allowed: np.ndarray, weights: dict[Source, float]
) -> tuple[Floats, dict[Source, Ints]]:
    size = len(allowed)
    fused = np.zeros(size, dtype=np.float32)
    ranks = {source: _ranks(scores, allowed) for source, scores in scored.scores.items()}
    for source, rank in ranks.items():
        taken = (rank > 0) & (rank <= CANDIDATES_PER_SOURCE)
        fused[taken] += weights.get(source, 0.0) / (RRF_K + rank[taken])
    return fused, ranks


def _allowed(model: RecommenderModel, seed: Seed) -> np.ndarray:
    allowed = np.ones(len(model.tracks), dtype=bool)
    if seed.exclude:
        allowed[list(seed.exclude)] = False
    return allowed


def _mmr(
    model: RecommenderModel, fused: Floats, first: int, diversity: float, max_per_artist: int
) -> list[int]:
    pool = np.argsort(-fused, kind="stable")[:MMR_POOL]
    pool = pool[fused[pool] > 0]
    if len(pool) == 0:
        return []
    relevance = fused[pool] / fused[pool[0]]
    vectors = model.embeddings[pool]
    closest = np.full(len(pool), -np.inf, dtype=np.float32)
    open_ = np.ones(len(pool), dtype=bool)
    per_artist: Counter[str] = Counter()
    chosen: list[int] = []
    balance = 1.0 - diversity
    while len(chosen) < first and open_.any():
        redundancy = np.where(np.isfinite(closest), closest, 0.0)
        value = np.where(open_, balance * relevance - (1 - balance) * redundancy, -np.inf)
        pick = int(np.argmax(value))
        open_[pick] = False
        artists = model.tracks[int(pool[pick])].artist_ids
        if any(per_artist[artist] >= max_per_artist for artist in artists):
            continue
        per_artist.update(artists)
        chosen.append(int(pool[pick]))
        closest = np.maximum(closest, vectors @ vectors[pick])
    return chosen


def recommend(
    model: RecommenderModel,
    seed: Seed,
    *,
    first: int,
    diversity: float,
    max_per_artist: int,
    weights: dict[Source, float] = DEFAULT_WEIGHTS,
    with_reasons: bool = True,
) -> list[Recommended]:
    """The first `first` tracks for the seed, best first; `with_reasons=False` leaves the
    reasons out (the offline evaluation scores lists only)."""
    scored = _score(model, seed)
    fused, ranks = _fuse(scored, _allowed(model, seed), weights)
    chosen = _mmr(model, fused, first, diversity, max_per_artist)
    if not with_reasons:
        return [
            Recommended(model.tracks[position].id, float(fused[position]), rank, (), ())
            for rank, position in enumerate(chosen, start=1)
        ]
    explainer = _Explainer(model, seed, scored, fused, ranks, weights, chosen)
    return [explainer.explained(position, rank) for rank, position in enumerate(chosen, start=1)]


def explain(
    model: RecommenderModel,
    seed: Seed,
    position: int,
    *,
    first: int,
    diversity: float,
    max_per_artist: int,
    weights: dict[Source, float] = DEFAULT_WEIGHTS,
) -> Recommended:
    """Why this track, for this seed: each source's rank of it and the reasons, and its rank
    in the recommendations (None when it is not among the first `first`)."""
    scored = _score(model, seed)
    fused, ranks = _fuse(scored, _allowed(model, seed), weights)
    chosen = _mmr(model, fused, first, diversity, max_per_artist)
    rank = chosen.index(position) + 1 if position in chosen else None
    explained = _Explainer(model, seed, scored, fused, ranks, weights, [position]).explained(position, rank)
    if position in seed.exclude:
        excluded = Reason(
            ReasonKind.EXCLUDED,
            "Not recommended: it is already in the seed (played, or in it) or was excluded.",
            0.0,
        )
        return Recommended(
            explained.track_id, explained.score, None, explained.contributions, (excluded, *explained.reasons)
        )
    return explained


class _Explainer:
    """Reasons for the chosen tracks of one request: what the seed is made of (genres,
    artists, era) and its co-occurrence with the chosen tracks are computed once."""

    def __init__(
        self,
        model: RecommenderModel,
        seed: Seed,
        scored: _Scored,
        fused: Floats,
        ranks: dict[Source, Ints],
        weights: dict[Source, float],
        positions: list[int],
    ) -> None:
        self.model, self.seed, self.scored = model, seed, scored
        self.fused, self.ranks, self.weights = fused, ranks, weights
        self.seed_positions = seed.tracks.tolist()
        self.genres: Counter[str] = Counter(seed.genres)
        self.artists: dict[str, list[int]] = {}
        decades: Counter[int] = Counter()
        for position, weight in zip(self.seed_positions, seed.weights.tolist(), strict=True):
            track = model.tracks[position]
            for genre in track.genres:
                self.genres[genre] += weight
            for artist_id in track.artist_ids:
                self.artists.setdefault(artist_id, []).append(position)
            if track.year:
                decades[track.year // 10 * 10] += 1
        self.decade = None
        if decades:
            decade, count = decades.most_common(1)[0]
            self.decade = decade if count * 2 >= sum(decades.values()) else None
        self.column = {position: n for n, position in enumerate(positions)}
        self.together = (
            model.cooccurrence[seed.tracks][:, positions].toarray()
            if len(seed.tracks) and Source.COOCCURRENCE in scored.scores
            else None
        )

    def explained(self, position: int, rank: int | None) -> Recommended:
        total = float(self.fused[position])
        contributions = []
        for source, source_ranks in self.ranks.items():
            source_rank = int(source_ranks[position])
            if source_rank == 0:
                continue
            part = (
                self.weights.get(source, 0.0) / (RRF_K + source_rank)
                if source_rank <= CANDIDATES_PER_SOURCE
                else 0.0
            )
            contributions.append(Contribution(source, source_rank, part / total if total else 0.0))
        contributions.sort(key=lambda contribution: -contribution.share)
        reasons = [
            reason
            for contribution in contributions
            if contribution.share > 0
            for reason in [self._source_reason(position, contribution)]
            if reason is not None
        ]
        reasons += self._shared_attributes(position)
        if self.seed.non_personal_note:
            reasons.append(Reason(ReasonKind.NON_PERSONAL, self.seed.non_personal_note, 0.0))
        return Recommended(self.model.tracks[position].id, total, rank, tuple(contributions), tuple(reasons))

    def _title(self, position: int) -> str:
        track = self.model.tracks[position]
        by = f" by {', '.join(track.artist_names)}" if track.artist_names else ""
        return f"“{track.name}”{by}"

    def _source_reason(self, position: int, contribution: Contribution) -> Reason | None:
        model, share = self.model, contribution.share
        if contribution.source is Source.CONTENT and self.scored.nearest is not None:
            near = int(self.scored.nearest[position])
            cosine = float(model.embeddings[position] @ model.embeddings[near])
            return Reason(
                ReasonKind.SIMILAR_TO,
                f"Close to {self._title(near)} in title, artists, album, genres and year "
                f"(cosine {cosine:.2f}).",
                share,
                Source.CONTENT,
                (model.tracks[near].id,),
                value=round(cosine, 4),
            )
        if contribution.source is Source.COOCCURRENCE and self.together is not None:
            strengths = self.together[:, self.column[position]]
            best = self.seed_positions[int(np.argmax(strengths))]
            return Reason(
                ReasonKind.PLAYED_TOGETHER,
                f"Often in the same playlists and listening sessions as {self._title(best)}.",
                share,
                Source.COOCCURRENCE,
                (model.tracks[best].id,),
                value=round(float(strengths.max()), 4),
            )
        if contribution.source is Source.COLLABORATIVE:
            return Reason(
                ReasonKind.LISTENERS_ALIKE,
                "Listeners whose plays resemble this seed play it (ALS matrix factorisation).",
                share,
                Source.COLLABORATIVE,
            )
        if contribution.source is Source.POPULARITY:
            popularity = round(float(model.popularity[position]), 4)
            genre = self._top_shared_genre(position)
            if genre is None:
                return Reason(
                    ReasonKind.POPULAR, "Popular on the platform.", share, Source.POPULARITY, value=popularity
                )
            return Reason(
                ReasonKind.POPULAR_IN_GENRE,
                f"Popular in {genre}.",
                share,
                Source.POPULARITY,
                attribute=("genre", genre),
                value=popularity,
            )
        return None

    def _top_shared_genre(self, position: int) -> str | None:
        shared = [genre for genre in self.model.tracks[position].genres if self.genres.get(genre, 0) > 0]
        return max(shared, key=lambda genre: self.genres[genre]) if shared else None

    def _shared_attributes(self, position: int) -> list[Reason]:
        if not self.seed.personalized or not self.seed_positions:
            return []
        track = self.model.tracks[position]
        reasons = []
        genre = self._top_shared_genre(position)
        if genre is not None:
            reasons.append(
                Reason(
                    ReasonKind.SHARED_GENRE,
                    f"Shares the genre {genre} with the seed.",
                    0.0,
                    attribute=("genre", genre),
                )
            )
        for artist_id, name in zip(track.artist_ids, track.artist_names, strict=False):
            if artist_id in self.artists:
                related = tuple(self.model.tracks[p].id for p in self.artists[artist_id][:5])
                reasons.append(
                    Reason(
                        ReasonKind.SAME_ARTIST,
                        f"By {name}, who is in the seed.",
                        0.0,
                        None,
                        related,
                        ("artist", artist_id),
                    )
                )
                break
        if track.year and self.decade is not None and track.year // 10 * 10 == self.decade:
            reasons.append(
                Reason(
                    ReasonKind.SAME_ERA,
                    f"From the {self.decade}s, like most of the seed.",
                    0.0,
                    attribute=("era", f"{self.decade}s"),
                )
            )
        return reasons
