"""The judged relevance set (tests/search/relevance.py) run against the indexed offline catalogue
in each mode: hybrid search is at least as good as the better of keyword and semantic, and
every misspelling finds its target in the top 3. `make bench` prints the same table."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.embeddings import sentence_encoder
from subgraphs.search.backends.base import DEFAULT_SEMANTIC_RATIO, Mode, Reader, SearchRequest
from subgraphs.search.backends.embedded import EmbeddedBackend
from tests.search.relevance import JUDGED_QUERIES, rank_of, summarise

READER = Reader("usr_judge", "ten_judge", ())


async def rankings(index: Path, mode: Mode) -> dict[str, list[str]]:
    backend = EmbeddedBackend(index)
    queries = [judged.query for judged in JUDGED_QUERIES]
    vectors = sentence_encoder().encode(queries) if mode is not Mode.KEYWORD else [None] * len(queries)
    ranked: dict[str, list[str]] = {}
    try:
        for query, vector in zip(queries, vectors, strict=True):
            request = SearchRequest(
                query,
                READER,
                mode=mode,
                semantic_ratio=DEFAULT_SEMANTIC_RATIO,
                vector=None if vector is None else vector.tolist(),
            )
            page = await backend.search(request)
            ranked[query] = [hit.key for hit in page.hits]
    finally:
        await backend.aclose()
    return ranked


@pytest.fixture(scope="module")
async def by_mode(catalogue_index: Path) -> dict[Mode, dict[str, list[str]]]:
    return {mode: await rankings(catalogue_index, mode) for mode in Mode}


def test_hybrid_is_at_least_as_good_as_the_better_single_mode(by_mode):
    table = {mode: summarise(ranked)["overall"] for mode, ranked in by_mode.items()}
    for metric in ("ndcg@10", "recall@10"):
        best_single = max(table[Mode.KEYWORD][metric], table[Mode.SEMANTIC][metric])
        assert table[Mode.HYBRID][metric] >= best_single, (metric, table)


@pytest.mark.parametrize("mode", [Mode.KEYWORD, Mode.HYBRID])
def test_every_misspelling_finds_its_target_in_the_top_three(by_mode, mode):
    misses = {}
    for judged in JUDGED_QUERIES:
        if judged.kind == "misspelling":
            assert judged.target is not None
            rank = rank_of(by_mode[mode][judged.query], judged.target)
            if rank is None or rank > 3:
                misses[judged.query] = rank
    assert misses == {}


def test_nonsense_finds_nothing_in_any_mode(by_mode):
    for mode, ranked in by_mode.items():
        found = {judged.query: ranked[judged.query] for judged in JUDGED_QUERIES if judged.kind == "nothing"}
        assert all(keys == [] for keys in found.values()), (mode, found)
