"""Checks on generated text before it is shown: blocked terms and length. They raise flags
for a person to look at; the text itself is kept as written."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class FlagCode(StrEnum):
    BLOCKED_TERM = "blocked_term"
    TOO_LONG = "too_long"


@dataclass(frozen=True)
class Flag:
    code: FlagCode
    detail: str


def count_words(text: str) -> int:
    """Whitespace-separated words, the measure `maxWords` is given in."""
    return len(text.split())


def check_output(text: str, blocked_terms: Sequence[str], max_words: int) -> list[Flag]:
    """One `blocked_term` flag per blocked term found (case-insensitively, as a whole word or
    phrase, in any script), then a `too_long` flag if the text has more than `max_words`."""
    flags: list[Flag] = []
    searchable = _fold(text)
    seen: set[str] = set()
    for term in blocked_terms:
        folded = _fold(term).strip()
        if not folded or folded in seen:
            continue
        seen.add(folded)
        matches = len(_term_pattern(folded).findall(searchable))
        if matches:
            times = "once" if matches == 1 else f"{matches} times"
            flags.append(Flag(FlagCode.BLOCKED_TERM, f"blocked term {term.strip()!r} appears {times}"))
    words = count_words(text)
    if words > max_words:
        flags.append(Flag(FlagCode.TOO_LONG, f"{words} words, more than the limit of {max_words}"))
    return flags


def _fold(text: str) -> str:
    # NFC so a composed and a decomposed "é" compare equal; casefold so "STRASSE" finds "straße".
    return unicodedata.normalize("NFC", text).casefold()


def _term_pattern(folded_term: str) -> re.Pattern[str]:
    # Look-arounds rather than \b: a term may start or end with a non-word character ("f*ck").
    # Inside a phrase, any run of whitespace matches.
    body = r"\s+".join(re.escape(part) for part in folded_term.split())
    return re.compile(rf"(?<!\w){body}(?!\w)")
