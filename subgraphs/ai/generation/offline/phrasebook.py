"""What every language's phrasebook says: the same sentences, each language its own words."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from subgraphs.ai.generation.base import (
    Language,
    Tone,
)
from subgraphs.ai.generation.offline.subject import PartialDate, Subject, Work

MAX_LISTED = 4
"""At most this many tracks, albums or artists are named in one list."""

W, P, PL, B = Tone.WARM, Tone.PROFESSIONAL, Tone.PLAYFUL, Tone.BOLD


class Phrasebook(ABC):
    """Sentences about a subject in one language. A method returns None when the facts it
    needs are missing."""

    language: ClassVar[Language]
    months: ClassVar[tuple[str, ...]]
    conjunction: ClassVar[str]
    quotes: ClassVar[tuple[str, str]]
    thousands: ClassVar[str]
    fallback_genre: ClassVar[str]
    verse: ClassVar[str]
    chorus: ClassVar[str]

    def quote(self, text: str) -> str:
        return f"{self.quotes[0]}{text}{self.quotes[1]}"

    def join(self, items: Sequence[str]) -> str:
        if len(items) <= 1:
            return "".join(items)
        return f"{', '.join(items[:-1])} {self.conjunction} {items[-1]}"

    def number(self, value: int) -> str:
        return f"{value:,}".replace(",", self.thousands)

    def label(self, s: Subject) -> str:
        """How the subject is named in a sentence: an artist by name, a work in quotes."""
        return s.name if s.type == "artist" else self.quote(s.name)

    def genre_list(self, s: Subject) -> str:
        return self.join(list(s.genres[:MAX_LISTED]))

    def work_item(self, work: Work) -> str:
        year = work.year_shown
        return f"{self.quote(work.name)} ({year})" if year else self.quote(work.name)

    def works_list(self, works: Sequence[Work]) -> str:
        return self.join([self.work_item(w) for w in works[:MAX_LISTED]])

    def titles(self, works: Sequence[Work]) -> str:
        return self.join([self.quote(w.name) for w in works[:MAX_LISTED]])

    def sentence_with_quote(self, prefix: str, text: str) -> str:
        return f"{prefix}{self.quote(text)}" + ("" if text[-1] in ".!?…" else ".")

    # What each language writes.
    @abstractmethod
    def date(self, d: PartialDate) -> str: ...

    @abstractmethod
    def intro(self, s: Subject, tone: Tone) -> str: ...

    @abstractmethod
    def sound(self, s: Subject, tone: Tone) -> str | None: ...

    @abstractmethod
    def top_tracks(self, s: Subject, tone: Tone) -> str | None: ...

    @abstractmethod
    def albums(self, s: Subject) -> list[str]: ...

    @abstractmethod
    def tracklist(self, s: Subject) -> str | None: ...

    @abstractmethod
    def description(self, s: Subject) -> str | None: ...

    @abstractmethod
    def audience(self, s: Subject) -> str | None: ...

    @abstractmethod
    def bio_closer(self, tone: Tone) -> str: ...

    @abstractmethod
    def pitch_opener(self, s: Subject, tone: Tone) -> str: ...

    @abstractmethod
    def pitch_fit(self, s: Subject) -> str | None: ...

    @abstractmethod
    def pitch_close(self, tone: Tone) -> str: ...

    @abstractmethod
    def social_hook(self, s: Subject, tone: Tone) -> str: ...

    @abstractmethod
    def social_cta(self, tone: Tone) -> str: ...

    @abstractmethod
    def playlist_lead(self, s: Subject, tone: Tone) -> str: ...

    @abstractmethod
    def playlist_featuring(self, s: Subject) -> str | None: ...

    @abstractmethod
    def playlist_owner(self, s: Subject) -> str | None: ...

    @abstractmethod
    def lyrics_title(self, s: Subject) -> str: ...

    @abstractmethod
    def verse_lines(self, tone: Tone) -> tuple[str, ...]: ...

    @abstractmethod
    def chorus_lines(self) -> tuple[str, ...]: ...

    @abstractmethod
    def press_header(self) -> str: ...

    @abstractmethod
    def press_headline(self, s: Subject, tone: Tone) -> str: ...

    @abstractmethod
    def key_facts_heading(self) -> str: ...

    @abstractmethod
    def key_facts(self, s: Subject) -> list[str]: ...

    def lyric_genre(self, s: Subject) -> str:
        return s.genres[0] if s.genres else self.fallback_genre


def capitalise_words(text: str) -> str:
    return " ".join(word[:1].upper() + word[1:] for word in text.split())
