"""How a query's words are read, how many typos each may carry, and how matches are marked,
the same way for every backend (Meilisearch's defaults: one typo from 5 letters, two from 9,
the last word also a prefix)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from rapidfuzz.distance import OSA

ONE_TYPO_FROM = 5
TWO_TYPOS_FROM = 9
MAX_WORDS = 16
"""Words of a query that are matched (the rest are ignored, as Meilisearch does past 10)."""
MARK_START, MARK_END = "<em>", "</em>"
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
"""Runs of letters and digits, as tantivy's default tokenizer splits text."""


def allowed_typos(word: str) -> int:
    if len(word) >= TWO_TYPOS_FROM:
        return 2
    return 1 if len(word) >= ONE_TYPO_FROM else 0


@dataclass(frozen=True)
class Words:
    raw: str
    """The query as typed, trimmed (an id is matched exactly, never with typos)."""
    terms: tuple[str, ...]

    def dropping_from_the_end(self) -> Iterator[Words]:
        """All the words, then all but the last, ...: Meilisearch's `last` matching strategy
        (a query with a word nothing contains still finds what matches the others)."""
        for end in range(len(self.terms), 0, -1):
            yield Words(self.raw if end == len(self.terms) else "", self.terms[:end])

    def matches(self, token: str) -> bool:
        token = token.lower()
        for index, term in enumerate(self.terms):
            last = index == len(self.terms) - 1
            if token == term or (last and token.startswith(term)):
                return True
            typos = allowed_typos(term)
            if typos:
                candidate = token[: len(term) + typos] if last else token
                if OSA.distance(term, candidate, score_cutoff=typos) <= typos:
                    return True
                if last and any(
                    OSA.distance(term, token[:length], score_cutoff=typos) <= typos
                    for length in range(max(len(term) - typos, 1), min(len(term) + typos, len(token)) + 1)
                ):
                    return True
        return False


def words_of(query: str) -> Words:
    raw = query.strip()
    return Words(raw, tuple(token.lower() for token in _WORD.findall(raw)[:MAX_WORDS]))


def highlight(text: str, words: Words) -> str:
    """`text` with each word that matched a query word between the marks."""
    out: list[str] = []
    position = 0
    for found in _WORD.finditer(text):
        if words.matches(found.group()):
            out.append(text[position : found.start()])
            out.append(f"{MARK_START}{found.group()}{MARK_END}")
            position = found.end()
    out.append(text[position:])
    return "".join(out)
