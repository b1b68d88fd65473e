"""The judged relevance set is sound (its keys exist, its typos are forgivable and point at one
name, its moods name no genre, its nonsense matches nothing) and its metrics score hand-made
rankings as they should."""

from __future__ import annotations

from collections import Counter

import pytest
from rapidfuzz.distance import OSA

from subgraphs.search.matching import allowed_typos, words_of
from tests.search import relevance
from tests.search.relevance import (
    JUDGED_QUERIES,
    MOOD_GENRES,
    Judged,
    ambiguous_misspellings,
    catalogue,
    completions,
    ndcg_at,
    rank_of,
    recall_at,
    summarise,
)

MINIMUM = {
    "exact": 10,
    "misspelling": 12,
    "partial": 8,
    "artist_title": 8,
    "genre": 8,
    "mood": 10,
    "nothing": 6,
}


def of_kind(kind: str) -> list[Judged]:
    return [judged for judged in JUDGED_QUERIES if judged.kind == kind]


def ideal(judged: Judged) -> list[str]:
    return sorted(judged.grades, key=lambda key: -judged.grades[key])


# --- metrics ---------------------------------------------------------------------------------


def test_a_perfect_ranking_scores_one_and_a_reversed_one_less():
    grades = {"a": 3, "b": 2, "c": 1}
    assert ndcg_at(["a", "b", "c"], grades) == pytest.approx(1.0)
    assert ndcg_at(["a", "b", "c", "x", "y"], grades) == pytest.approx(1.0)
    assert 0 < ndcg_at(["c", "b", "a"], grades) < 1
    assert ndcg_at(["x", "y"], grades) == 0.0
    assert ndcg_at([], grades) == 0.0


def test_ndcg_uses_exponential_gain_and_a_log2_discount():
    # gains 7 and 3, the lesser first: (3 + 7/log2(3)) / (7 + 3/log2(3))
    assert ndcg_at(["b", "a"], {"a": 3, "b": 2}) == pytest.approx(
        (3 + 7 / 1.584962500721156) / (7 + 3 / 1.584962500721156)
    )
    # only the first k count, on both sides
    assert ndcg_at(["x", "a"], {"a": 1}, k=1) == 0.0
    assert ndcg_at(["a", "x"], {"a": 1, "b": 3}, k=1) == pytest.approx(1 / 7)


def test_a_key_returned_twice_counts_once():
    assert ndcg_at(["a", "a", "b"], {"a": 1, "b": 1}, k=2) == pytest.approx(1 / (1 + 1 / 1.584962500721156))
    assert recall_at(["a", "a"], {"a": 1, "b": 1}) == 0.5


def test_a_query_that_should_find_nothing():
    assert ndcg_at([], {}) == 1.0
    assert recall_at([], {}) == 1.0
    assert ndcg_at(["track:x"], {}) == 0.0
    assert recall_at(["track:x"], {}) == 0.0
    assert ndcg_at([], {"a": 0}) == 1.0  # a zero grade is no relevance


def test_recall_is_capped_at_k_relevant_documents():
    few = {"a": 3, "b": 1, "c": 1}
    assert recall_at(["a", "x", "b"], few) == pytest.approx(2 / 3)
    assert recall_at(["x"] * 3 + ["a", "b", "c"], few) == 1.0
    assert recall_at(["x"] * 10 + ["a"], few) == 0.0  # rank 11 is past the cut
    many = {f"t{index}": 2 for index in range(300)}
    assert recall_at([f"t{index}" for index in range(10)], many) == 1.0  # not 10/300
    assert recall_at([f"t{index}" for index in range(5)] + ["x"] * 5, many) == 0.5
    assert recall_at(["t0", "t1"], many, k=2) == 1.0


def test_rank_of_is_one_based():
    assert rank_of(["a", "b"], "b") == 2
    assert rank_of(["a", "b"], "a") == 1
    assert rank_of(["a"], "z") is None
    assert rank_of([], "a") is None


def test_summarise_per_kind_and_overall():
    perfect = {judged.query: ideal(judged) for judged in JUDGED_QUERIES}
    summary = summarise(perfect)
    assert set(summary) == {*MINIMUM, "overall"}
    for kind, scores in summary.items():
        assert scores["ndcg@10"] == pytest.approx(1.0), kind
        assert scores["recall@10"] == pytest.approx(1.0), kind
    assert summary["overall"]["queries"] == len(JUDGED_QUERIES)

    exact, nothing = of_kind("exact")[0], of_kind("nothing")[0]
    summary = summarise({exact.query: [], nothing.query: ["track:x"]})
    assert list(summary) == ["exact", "nothing", "overall"]
    assert summary["exact"] == {"ndcg@10": 0.0, "recall@10": 0.0, "queries": 1.0}
    assert summary["nothing"]["ndcg@10"] == 0.0
    misspelling = of_kind("misspelling")[0]
    summary = summarise({misspelling.query: ["track:x", misspelling.target or ""], nothing.query: []})
    assert summary["overall"]["ndcg@10"] == pytest.approx((1 / 1.584962500721156 + 1) / 2)
    assert summary["overall"]["recall@10"] == 1.0
    assert summarise({}) == {}
    with pytest.raises(KeyError):
        summarise({"not judged at all": []})


# --- the set -----------------------------------------------------------------------------------


def test_enough_queries_of_every_kind():
    counts = Counter(judged.kind for judged in JUDGED_QUERIES)
    assert len(JUDGED_QUERIES) >= 60
    assert set(counts) == set(MINIMUM)
    for kind, minimum in MINIMUM.items():
        assert counts[kind] >= minimum, kind
    assert len({words_of(judged.query).terms for judged in JUDGED_QUERIES}) == len(JUDGED_QUERIES)


def test_every_judged_key_is_a_catalogue_document():
    documents = catalogue().documents
    for judged in JUDGED_QUERIES:
        assert all(key in documents for key in judged.grades), judged.query
        assert all(grade in (1, 2, 3) for grade in judged.grades.values()), judged.query
        if judged.target is not None:
            assert judged.grades[judged.target] == 3, judged.query
        assert bool(judged.grades) is (judged.kind != "nothing"), judged.query


def test_the_set_is_deterministic():
    assert relevance.judged_queries.__wrapped__() == JUDGED_QUERIES


def test_exact_queries_grade_every_object_of_that_name():
    documents = catalogue().documents
    for judged in of_kind("exact"):
        named = {key for key, doc in documents.items() if doc.name.lower() == judged.query.lower()}
        assert {key for key, grade in judged.grades.items() if grade == 3} == named
    assert any(sum(grade == 3 for grade in judged.grades.values()) > 1 for judged in of_kind("exact"))


def test_every_misspelling_stays_within_the_typo_budget():
    documents = catalogue().documents
    for judged in of_kind("misspelling"):
        assert judged.target is not None and judged.grades == relevance.named_grades(judged.target)
        typed = words_of(judged.query).terms
        meant = words_of(documents[judged.target].name).terms
        assert len(typed) == len(meant), judged.query
        typos = [OSA.distance(a, b) for a, b in zip(typed, meant, strict=True)]
        assert sum(typos) >= 1, judged.query
        for a, b, count in zip(typed, meant, typos, strict=True):
            assert count <= min(allowed_typos(a), allowed_typos(b)), (judged.query, a, b)
            assert a[0] == b[0], (judged.query, a, b)


def test_no_misspelling_is_as_close_to_another_name():
    assert ambiguous_misspellings() == []


def test_partials_begin_one_name_only():
    documents = catalogue().documents
    for judged in of_kind("partial"):
        assert judged.target is not None and judged.grades == relevance.named_grades(judged.target)
        *whole, prefix = words_of(judged.query).terms
        name = words_of(documents[judged.target].name).terms
        assert list(name[:-1]) == whole and name[-1].startswith(prefix) and name[-1] != prefix
        assert 2 <= len(prefix) <= 4
        assert completions(judged.query) == [judged.target]


def test_artist_title_queries_name_the_artist_and_the_title():
    documents = catalogue().documents
    for judged in of_kind("artist_title"):
        assert judged.target is not None
        track = documents[judged.target]
        assert words_of(judged.query).terms == words_of(f"{track.artists[0]} {track.name}").terms
        assert judged.grades[f"artist:{track.artist_ids[0]}"] == 1
        assert all(track.artist_ids[0] in documents[key].artist_ids for key in judged.grades)


def test_genre_queries_grade_by_the_catalogue_genres():
    documents = catalogue().documents
    for judged in of_kind("genre"):
        genre = relevance.GENRE_QUERIES[judged.query]
        assert set(judged.grades) == {key for key, doc in documents.items() if genre in doc.genres}
        assert {documents[key].type.value for key, grade in judged.grades.items() if grade == 3} == {"artist"}


def test_mood_queries_name_no_genre():
    genre_words = {
        word
        for doc in catalogue().documents.values()
        for genre in doc.genres
        for word in words_of(genre).terms
    }
    assert {genre for genres in MOOD_GENRES.values() for genre in genres} <= {
        genre for doc in catalogue().documents.values() for genre in doc.genres
    }
    for judged in of_kind("mood"):
        words = words_of(judged.query)
        assert not [word for word in genre_words if words.matches(word)], judged.query
        assert any(grade >= 2 for grade in judged.grades.values()), judged.query


def test_nonsense_matches_no_word_of_any_document():
    tokens = set()
    for doc in catalogue().documents.values():
        for text in (doc.name, *doc.artists, doc.album or "", *doc.genres, doc.description or ""):
            tokens.update(words_of(text).terms)
    for judged in of_kind("nothing"):
        words = words_of(judged.query)
        assert not [token for token in tokens if words.matches(token)], judged.query
