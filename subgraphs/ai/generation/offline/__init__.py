"""The offline composer: deterministic, data-grounded content without any model. Each kind
has a layout, each language (English, French, German) its own phrasebook, and the tone picks
among written variants. Every name, genre, date and number in the text comes from the facts;
a missing fact drops its sentence rather than being guessed.

Fields read from `facts["subject"]` (all optional but the name):
artist: name, genres, followers (a number or `{"total": n}`), popularity, topTracks [{name,
album, year}], albums [{name, releaseDate, totalTracks}]; track: name, artists, album, releaseDate,
genres, popularity; album: name, artists, releaseDate, totalTracks, genres, tracks; playlist: name,
description, owner, tracks [{name, artists}], genres; project: title, projectType, description,
tracks, genres. Names may be strings or objects with a `name`."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator, Iterable, Mapping, Sequence
from dataclasses import dataclass

from subgraphs.ai.generation.base import (
    ContentKind,
    GenerationRequest,
    Language,
    Prompt,
    StreamChunk,
    Tone,
    Usage,
)
from subgraphs.ai.generation.offline.english import English
from subgraphs.ai.generation.offline.french import French
from subgraphs.ai.generation.offline.german import German
from subgraphs.ai.generation.offline.phrasebook import MAX_LISTED, Phrasebook
from subgraphs.ai.generation.offline.subject import Subject, read_subject
from subgraphs.ai.generation.safety import count_words

OFFLINE_TEMPLATE_VERSION = "2026-12-07.1"
WORDS_PER_CHUNK = 3


PHRASEBOOKS: Mapping[Language, Phrasebook] = {
    Language.EN: English(),
    Language.FR: French(),
    Language.DE: German(),
}


# ---------------------------------------------------------------------------------------------
# Layouts: which sentences each kind is made of


@dataclass(frozen=True)
class Block:
    """A paragraph (sentences joined by spaces) or a run of lines, under an optional `title`
    line that is shown only with at least one of them. A `heading` block is dropped when the
    word limit cuts the text right after it."""

    sentences: tuple[str, ...]
    lines: bool = False
    heading: bool = False
    title: str | None = None

    def render(self) -> str:
        body = ("\n" if self.lines else " ").join(self.sentences)
        return f"{self.title}\n{body}" if self.title else body


def _prose(*sentences: str | None) -> Block | None:
    kept = tuple(s for s in sentences if s)
    return Block(kept) if kept else None


def _layout(kind: ContentKind, s: Subject, book: Phrasebook, tone: Tone) -> list[Block | None]:
    if kind is ContentKind.ARTIST_BIO:
        return [
            _prose(book.intro(s, tone), book.sound(s, tone)),
            _prose(book.top_tracks(s, tone), *book.albums(s), book.tracklist(s), book.description(s)),
            _prose(book.audience(s), book.bio_closer(tone)),
        ]
    if kind is ContentKind.RELEASE_PITCH:
        return [
            _prose(book.pitch_opener(s, tone)),
            _prose(book.intro(s, tone), book.sound(s, tone), book.top_tracks(s, tone), book.tracklist(s)),
            _prose(*book.albums(s)[:1], book.audience(s), book.pitch_fit(s)),
            _prose(book.pitch_close(tone)),
        ]
    if kind is ContentKind.SOCIAL_POST:
        tags = _hashtags(s)
        return [
            _prose(book.social_hook(s, tone)),
            _prose(book.intro(s, tone), book.social_cta(tone)),
            Block((tags,)) if tags else None,
        ]
    if kind is ContentKind.PLAYLIST_DESCRIPTION:
        return [_prose(book.playlist_lead(s, tone), book.playlist_featuring(s), book.playlist_owner(s))]
    if kind is ContentKind.LYRICS_DRAFT:
        return _lyrics(s, book, tone)
    key_facts = book.key_facts(s)
    return [
        Block((book.press_header(),), heading=True),
        Block((book.press_headline(s, tone),)),
        _prose(book.intro(s, tone), book.sound(s, tone)),
        _prose(book.top_tracks(s, tone), *book.albums(s), book.tracklist(s), book.description(s)),
        _prose(book.audience(s)),
        Block(tuple(key_facts), lines=True, title=book.key_facts_heading()) if key_facts else None,
        Block(("###",), heading=True),
    ]


def _lyrics(s: Subject, book: Phrasebook, tone: Tone) -> list[Block | None]:
    works = s.works
    a = works[0] if works else s.name
    others = [word for word in (*works[1:], *s.artists) if word != s.name]
    b = others[0] if others else s.name if a != s.name else book.lyric_genre(s)
    words = {"name": s.name, "a": a, "b": b, "g": book.lyric_genre(s)}

    def fill(lines: Iterable[str]) -> tuple[str, ...]:
        return tuple(_capitalise_first(line.format(**words)) for line in lines)

    return [
        Block((book.lyrics_title(s),)),
        Block(fill(book.verse_lines(tone)), lines=True, title=book.verse),
        Block(fill(book.chorus_lines()), lines=True, title=book.chorus),
    ]


def _capitalise_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _hashtags(s: Subject) -> str:
    words = [s.name, *s.genres[:MAX_LISTED]]
    tags = ["#" + re.sub(r"\W", "", word) for word in words]
    return " ".join(dict.fromkeys(tag for tag in tags if len(tag) > 1))


# ---------------------------------------------------------------------------------------------
# Word limit, composing and streaming


@dataclass(frozen=True)
class Composition:
    text: str
    truncated: bool


def fit_to_words(blocks: Sequence[Block], max_words: int) -> Composition:
    """The blocks as text, keeping whole sentences (lines) while they fit in `max_words`.
    When not even the first sentence after the headings fits, it is cut at a word and ends
    with an ellipsis; headings left dangling at the end are dropped."""
    kept: list[Block] = []
    used = 0
    has_content = False
    truncated = False
    for block in blocks:
        sentences: list[str] = []
        heading = block.heading
        title_words = count_words(block.title) if block.title else 0
        for sentence in block.sentences:
            words = count_words(sentence) + (0 if sentences else title_words)
            if used + words > max_words:
                truncated = True
                room = max_words - used - (0 if sentences else title_words)
                if not has_content and room > 0:
                    cut = " ".join(sentence.split()[:room]).rstrip(",;:")
                    sentences.append(cut + "…")
                    heading, used = False, max_words
                break
            sentences.append(sentence)
            used += words
            has_content = has_content or not heading
        if sentences:
            kept.append(Block(tuple(sentences), block.lines, heading, block.title))
        if truncated:
            break
    while truncated and kept and kept[-1].heading:
        kept.pop()
    return Composition(text="\n\n".join(b.render() for b in kept), truncated=truncated)


class OfflineComposer:
    """A `GenerationProvider` that needs no model or network: the same request always gives
    the same text. Usage is counted in whitespace-separated words, an honest approximation of
    tokens (a real tokenizer gives more), for the prompt it was handed and the text it wrote."""

    name = "offline-template"
    model = f"offline-template@{OFFLINE_TEMPLATE_VERSION}"

    def compose(self, request: GenerationRequest) -> Composition:
        subject = read_subject(request.facts)
        book = PHRASEBOOKS[request.language]
        blocks = [b for b in _layout(request.kind, subject, book, request.effective_tone) if b]
        return fit_to_words(blocks, request.max_words)

    async def stream(self, request: GenerationRequest, prompt: Prompt) -> AsyncGenerator[StreamChunk, None]:
        composition = self.compose(request)
        pieces = re.findall(r"\S+\s*", composition.text)
        for start in range(0, len(pieces), WORDS_PER_CHUNK):
            yield StreamChunk(delta="".join(pieces[start : start + WORDS_PER_CHUNK]))
            await asyncio.sleep(0)  # let other tasks (and a cancellation) in between chunks
        prompt_words = sum(count_words(message.content) for message in prompt.messages)
        completion_words = len(pieces)
        yield StreamChunk(
            finish_reason="length" if composition.truncated else "stop",
            usage=Usage(prompt_words, completion_words, prompt_words + completion_words),
        )

    async def aclose(self) -> None:
        """Nothing to release."""
