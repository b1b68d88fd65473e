"""Offline evaluation: hold out the last 20 % of each listener's plays (time split) and 20 %
of each playlist's tracks, fit on the rest, and score our recommender against popularity and
random baselines on recall@k, NDCG@k, catalogue coverage and intra-list diversity.

recall@k is hits / min(k, |held out|) (so a perfect list scores 1 whatever the size of the
held-out set); NDCG@k has binary gains; held-out tracks already in the training part of the
same listener or playlist are not targets, and every recommender excludes the training part.
Deterministic for a given seed."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

import numpy as np

from subgraphs.ai.recommender import engine
from subgraphs.ai.recommender.model import Floats, RecommenderModel, TrackInfo
from subgraphs.ai.recommender.seeds import history_seed
from subgraphs.ai.recommender.training import Interactions, TrainingParams, fit

HOLDOUT = 0.2
K = 10
MIN_PLAYS = 10
MIN_PLAYLIST_TRACKS = 5


@dataclass(frozen=True)
class Case:
    kind: str
    """`user` or `playlist`."""
    seed: engine.Seed
    targets: frozenset[int]


@dataclass(frozen=True)
class Metrics:
    recall: float
    ndcg: float
    coverage: float
    diversity: float
    cases: int

    def as_dict(self) -> dict[str, float]:
        return {
            f"recall@{K}": round(self.recall, 4),
            f"ndcg@{K}": round(self.ndcg, 4),
            "coverage": round(self.coverage, 4),
            "diversity": round(self.diversity, 4),
            "cases": self.cases,
        }


@dataclass(frozen=True)
class Evaluation:
    ours: Metrics
    popularity: Metrics
    random: Metrics
    by_kind: dict[str, dict[str, Metrics]]

    def as_dict(self) -> dict[str, object]:
        return {
            "k": K,
            "holdout": HOLDOUT,
            "ours": self.ours.as_dict(),
            "popularity": self.popularity.as_dict(),
            "random": self.random.as_dict(),
            "by_kind": {
                kind: {name: metrics.as_dict() for name, metrics in table.items()}
                for kind, table in self.by_kind.items()
            },
        }


def split(
    interactions: Interactions, *, seed: int, max_users: int = 400, max_playlists: int = 200
) -> tuple[
    Interactions,
    list[tuple[str, np.ndarray, np.ndarray, frozenset[int]]],
    list[tuple[np.ndarray, frozenset[int]]],
]:
    """(training interactions, user cases as (user key, train items, train times, held out),
    playlist cases as (train tracks, held out))."""
    rng = random.Random(seed)
    keep = np.ones(len(interactions.users), dtype=bool)
    user_cases = []
    boundaries = np.flatnonzero(np.diff(interactions.users)) + 1
    for block in np.split(np.arange(len(interactions.users)), boundaries):
        if len(block) < MIN_PLAYS:
            continue
        cut = math.floor(len(block) * (1 - HOLDOUT))
        train, held = block[:cut], block[cut:]
        keep[held] = False
        train_items = interactions.items[train]
        targets = frozenset(interactions.items[held].tolist()) - set(train_items.tolist())
        if targets:
            user = interactions.user_keys[int(interactions.users[block[0]])]
            user_cases.append((user, train_items, interactions.times[train], targets))
    playlist_train, playlist_cases = [], []
    for tracks in interactions.playlists:
        if len(tracks) < MIN_PLAYLIST_TRACKS:
            playlist_train.append(tracks)
            continue
        shuffled = tracks.tolist()
        rng.shuffle(shuffled)
        held_count = max(1, round(len(shuffled) * HOLDOUT))
        held, kept = shuffled[:held_count], np.array(sorted(shuffled[held_count:]), dtype=np.int32)
        playlist_train.append(kept)
        playlist_cases.append((kept, frozenset(held)))
    training = interactions.subset(keep)
    training.playlists = playlist_train
    rng.shuffle(user_cases)
    rng.shuffle(playlist_cases)
    return training, user_cases[:max_users], playlist_cases[:max_playlists]


def evaluate(
    tracks: list[TrackInfo],
    embeddings: Floats,
    interactions: Interactions,
    params: TrainingParams,
    *,
    diversity: float = 0.3,
    max_per_artist: int = 3,
) -> Evaluation:
    training, user_cases, playlist_cases = split(interactions, seed=params.seed)
    model = fit("evaluation", tracks, embeddings, training, params)
    cases = [
        Case(
            "user",
            history_seed(
                model, [(tracks[i].id, int(t)) for i, t in zip(items.tolist(), times.tolist(), strict=True)]
            ),
            held,
        )
        for _, items, times, held in user_cases
    ] + [
        Case(
            "playlist",
            engine.Seed(
                tracks=kept, weights=np.ones(len(kept), dtype=np.float32), exclude=frozenset(kept.tolist())
            ),
            held,
        )
        for kept, held in playlist_cases
    ]
    rng = np.random.default_rng(params.seed)
    by_popularity = np.argsort(-model.popularity, kind="stable")
    lists: dict[str, list[list[int]]] = {"ours": [], "popularity": [], "random": []}
    for case in cases:
        recommended = engine.recommend(
            model, case.seed, first=K, diversity=diversity, max_per_artist=max_per_artist, with_reasons=False
        )
        lists["ours"].append([model.index[item.track_id] for item in recommended])
        lists["popularity"].append(_first_allowed(by_popularity, case.seed.exclude))
        allowed = np.ones(len(tracks), dtype=bool)
        allowed[list(case.seed.exclude)] = False
        candidates = np.flatnonzero(allowed)
        lists["random"].append(rng.choice(candidates, size=min(K, len(candidates)), replace=False).tolist())
    overall = {name: _metrics(found, cases, model) for name, found in lists.items()}
    by_kind = {
        kind: {
            name: _metrics(
                [items for items, case in zip(found, cases, strict=True) if case.kind == kind],
                [case for case in cases if case.kind == kind],
                model,
            )
            for name, found in lists.items()
        }
        for kind in ("user", "playlist")
    }
    return Evaluation(overall["ours"], overall["popularity"], overall["random"], by_kind)


def _first_allowed(order: np.ndarray, exclude: frozenset[int]) -> list[int]:
    found: list[int] = []
    for position in order.tolist():
        if position not in exclude:
            found.append(position)
            if len(found) == K:
                break
    return found


def _metrics(lists: list[list[int]], cases: list[Case], model: RecommenderModel) -> Metrics:
    if not cases:
        return Metrics(0.0, 0.0, 0.0, 0.0, 0)
    recalls, ndcgs, diversities = [], [], []
    seen: set[int] = set()
    for items, case in zip(lists, cases, strict=True):
        hits = [1.0 if item in case.targets else 0.0 for item in items[:K]]
        recalls.append(sum(hits) / min(K, len(case.targets)))
        ideal = sum(1 / math.log2(rank + 2) for rank in range(min(K, len(case.targets))))
        ndcgs.append(sum(hit / math.log2(rank + 2) for rank, hit in enumerate(hits)) / ideal)
        seen.update(items)
        if len(items) > 1:
            vectors = model.embeddings[items]
            similarity = vectors @ vectors.T
            pairs = len(items) * (len(items) - 1)
            diversities.append(1 - (similarity.sum() - np.trace(similarity)) / pairs)
    return Metrics(
        recall=float(np.mean(recalls)),
        ndcg=float(np.mean(ndcgs)),
        coverage=len(seen) / len(model.tracks),
        diversity=float(np.mean(diversities)) if diversities else 0.0,
        cases=len(cases),
    )


def table_lines(metrics: dict[str, Any]) -> list[str]:
    """An evaluation (`Evaluation.as_dict()`) as a printed table, overall then per kind of case."""
    header = (
        f"{'cases':<9}{'recommender':<12}{'recall@10':>10}{'ndcg@10':>10}{'coverage':>10}{'diversity':>10}"
    )
    lines = [f"  {header}{'n':>6}"]
    for cases, table in [("all", metrics), *metrics.get("by_kind", {}).items()]:
        for name in ("ours", "popularity", "random"):
            row = table[name]
            lines.append(
                f"  {cases:<9}{name:<12}{row['recall@10']:>10.4f}{row['ndcg@10']:>10.4f}"
                f"{row['coverage']:>10.4f}{row['diversity']:>10.4f}{row['cases']:>6}"
            )
    return lines
