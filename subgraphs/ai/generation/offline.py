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
import html
import re
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from subgraphs.ai.generation.base import (
    ContentKind,
    GenerationRequest,
    Language,
    Prompt,
    StreamChunk,
    Tone,
    Usage,
)
from subgraphs.ai.generation.safety import count_words

OFFLINE_TEMPLATE_VERSION = "2026-12-07.1"
WORDS_PER_CHUNK = 3
MAX_LISTED = 4
"""At most this many tracks, albums or artists are named in one list."""

W, P, PL, B = Tone.WARM, Tone.PROFESSIONAL, Tone.PLAYFUL, Tone.BOLD


# ---------------------------------------------------------------------------------------------
# Reading the facts


@dataclass(frozen=True)
class PartialDate:
    """A release date as precise as the facts give it (Spotify: year, year-month or day)."""

    year: int
    month: int | None = None
    day: int | None = None


@dataclass(frozen=True)
class Work:
    """A track or an album named in the facts."""

    name: str
    artists: tuple[str, ...] = ()
    year: int | None = None
    released: PartialDate | None = None
    total_tracks: int | None = None

    @property
    def year_shown(self) -> int | None:
        return self.released.year if self.released else self.year


@dataclass(frozen=True)
class Subject:
    type: str
    name: str
    genres: tuple[str, ...] = ()
    artists: tuple[str, ...] = ()
    followers: int | None = None
    popularity: int | None = None
    album: str | None = None
    released: PartialDate | None = None
    total_tracks: int | None = None
    description: str | None = None
    owner: str | None = None
    project_type: str | None = None
    top_tracks: tuple[Work, ...] = ()
    albums: tuple[Work, ...] = ()
    tracks: tuple[Work, ...] = ()

    @property
    def works(self) -> tuple[str, ...]:
        """Names of the works the facts mention, most prominent first, without repeats."""
        names = [w.name for w in (*self.top_tracks, *self.tracks, *self.albums)]
        if self.album:
            names.insert(0, self.album)
        return tuple(dict.fromkeys(name for name in names if name != self.name))


def read_subject(facts: Mapping[str, Any]) -> Subject:
    """The subject of already validated facts (see `base.validate_facts`), with every field
    that is missing or not of a usable shape left out."""
    raw: Mapping[str, Any] = facts["subject"]
    subject_type = str(raw["type"])
    name = _text(raw.get("title") if subject_type == "project" else raw.get("name")) or ""
    album = raw.get("album")
    tracks = tuple(_work(item) for item in _list(raw.get("tracks")))
    return Subject(
        type=subject_type,
        name=name,
        genres=_unique(_text(g) for g in _list(raw.get("genres"))),
        artists=_names(raw.get("artists")),
        followers=_count(raw.get("followers")),
        popularity=_count(raw.get("popularity")),
        album=_name(album),
        released=_date(raw.get("releaseDate"))
        or (_date(album.get("releaseDate")) if isinstance(album, Mapping) else None),
        total_tracks=_count(raw.get("totalTracks")),
        description=_plain(raw.get("description")),
        owner=_name(raw.get("owner")),
        project_type=_text(raw.get("projectType")),
        top_tracks=tuple(w for w in (_work(item) for item in _list(raw.get("topTracks"))) if w.name),
        albums=tuple(w for w in (_work(item) for item in _list(raw.get("albums"))) if w.name),
        tracks=tuple(w for w in tracks if w.name),
    )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return " ".join(value.split())
    return None


def _plain(value: Any) -> str | None:
    """Text of a description, which Spotify serves with HTML tags and entities."""
    text = _text(value)
    return _text(html.unescape(re.sub(r"<[^>]*>", " ", text))) if text else None


def _name(value: Any) -> str | None:
    if isinstance(value, Mapping):
        for key in ("name", "title", "displayName", "display_name"):
            if found := _text(value.get(key)):
                return found
        return None
    return _text(value)


def _names(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    return _unique(_name(item) for item in items)


def _unique(values: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value for value in values if value))


def _count(value: Any) -> int | None:
    if isinstance(value, Mapping):
        value = value.get("total")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def _date(value: Any) -> PartialDate | None:
    match = _DATE.match(value) if isinstance(value, str) else None
    if not match:
        return None
    year, month, day = (int(part) if part else None for part in match.groups())
    if year is None:
        return None
    if month is not None and not 1 <= month <= 12:
        return PartialDate(year)
    if day is not None and not 1 <= day <= 31:
        return PartialDate(year, month)
    return PartialDate(year, month, day)


def _work(value: Any) -> Work:
    if not isinstance(value, Mapping):
        return Work(name=_name(value) or "")
    year = value.get("year")
    return Work(
        name=_name(value) or "",
        artists=_names(value.get("artists")),
        year=year if isinstance(year, int) and not isinstance(year, bool) and year > 0 else None,
        released=_date(value.get("releaseDate")),
        total_tracks=_count(value.get("totalTracks")),
    )


# ---------------------------------------------------------------------------------------------
# Phrasebooks: one per language, the same sentences in each


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


class English(Phrasebook):
    language = Language.EN
    months = (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    )  # fmt: skip
    conjunction = "and"
    quotes = ("“", "”")
    thousands = ","
    fallback_genre = "the music"
    verse, chorus = "[Verse]", "[Chorus]"

    def date(self, d: PartialDate) -> str:
        if d.month and d.day:
            return f"{d.day} {self.months[d.month - 1]} {d.year}"
        if d.month:
            return f"{self.months[d.month - 1]} {d.year}"
        return str(d.year)

    def when(self, d: PartialDate) -> str:
        return f"on {self.date(d)}" if d.day else f"in {self.date(d)}"

    def tracks_count(self, n: int) -> str:
        return f"{self.number(n)} track" + ("" if n == 1 else "s")

    def intro(self, s: Subject, tone: Tone) -> str:
        q = self.label(s)
        by = f" by {self.join(list(s.artists[:MAX_LISTED]))}" if s.artists else ""
        released = f", released {self.when(s.released)}" if s.released else ""
        if s.type == "artist" and s.genres:
            return {
                W: "{name} makes heartfelt music rooted in {genres}.",
                P: "{name} is an artist working in {genres}.",
                PL: "{name} is here to get you moving to {genres}.",
                B: "{name} plays {genres} with conviction and no compromise.",
            }[tone].format(name=s.name, genres=self.genre_list(s))
        if s.type == "artist":
            return {
                W: "{name} makes music that is meant to be felt.",
                P: "{name} is a recording artist.",
                PL: "Say hello to {name}.",
                B: "{name} is an artist with something to say.",
            }[tone].format(name=s.name)
        if s.type == "track":
            album = f" from the album {self.quote(s.album)}" if s.album else ""
            return f"{q} is a track{by}{album}{released}."
        if s.type == "album":
            count = f", with {self.tracks_count(s.total_tracks)}" if s.total_tracks else ""
            return f"{q} is an album{by}{released}{count}."
        if s.type == "playlist":
            return f"{q} is a playlist" + (f" curated by {s.owner}." if s.owner else ".")
        return f"{q} is a project" + (f" ({s.project_type})." if s.project_type else ".")

    def sound(self, s: Subject, tone: Tone) -> str | None:
        if not s.genres or s.type == "artist":
            return None
        return {
            W: "It carries the warmth of {genres}.",
            P: "Its sound is rooted in {genres}.",
            PL: "Expect a generous helping of {genres}.",
            B: "It delivers {genres} at full strength.",
        }[tone].format(genres=self.genre_list(s))

    def top_tracks(self, s: Subject, tone: Tone) -> str | None:
        if not s.top_tracks:
            return None
        return {
            W: "Listeners keep coming back to {tracks}.",
            P: "{name}'s most popular tracks include {tracks}.",
            PL: "Start with {tracks} and you will see why.",
            B: "To hear what {name} is capable of, listen to {tracks}.",
        }[tone].format(name=s.name, tracks=self.works_list(s.top_tracks))

    def albums(self, s: Subject) -> list[str]:
        if not s.albums:
            return []
        first, others = s.albums[0], s.albums[1:]
        if not first.released and not first.total_tracks:
            return [f"The discography includes {self.works_list(s.albums)}."]
        detail = f"{self.quote(first.name)} was released"
        detail += f" {self.when(first.released)}" if first.released else ""
        detail += f" with {self.tracks_count(first.total_tracks)}" if first.total_tracks else ""
        sentences = [detail + "."]
        if others:
            sentences.append(f"The discography also includes {self.works_list(others)}.")
        return sentences

    def tracklist(self, s: Subject) -> str | None:
        if not s.tracks:
            return None
        if s.type == "playlist":
            items = [
                self.quote(t.name) + (f" by {self.join(list(t.artists[:2]))}" if t.artists else "")
                for t in s.tracks[:MAX_LISTED]
            ]
            return f"It features {self.join(items)}."
        return f"The tracklist includes {self.titles(s.tracks)}."

    def description(self, s: Subject) -> str | None:
        return self.sentence_with_quote("Its description reads: ", s.description) if s.description else None

    def audience(self, s: Subject) -> str | None:
        followers = s.followers if s.type == "artist" else None
        fans = f"{self.number(followers)} follower" + ("" if followers == 1 else "s") if followers else ""
        score = f"a popularity score of {s.popularity}" if s.popularity is not None else ""
        who = s.name if s.type == "artist" else "It"
        if fans and score:
            return f"{who} has {fans} and {score}."
        if fans or score:
            return f"{who} has {fans or score}."
        return None

    def bio_closer(self, tone: Tone) -> str:
        return {
            W: "Every song is an open invitation to listen closely.",
            P: "Well worth a careful listen.",
            PL: "Turn it up and enjoy the ride.",
            B: "This is music that refuses to play it safe.",
        }[tone]

    def pitch_opener(self, s: Subject, tone: Tone) -> str:
        return {
            W: "We would love to share {label} with you.",
            P: "We are pleased to present {label} for your consideration.",
            PL: "Got a minute? {label} deserves it.",
            B: "Make room for {label}.",
        }[tone].format(label=self.label(s))

    def pitch_fit(self, s: Subject) -> str | None:
        return f"A natural fit for playlists built around {self.genre_list(s)}." if s.genres else None

    def pitch_close(self, tone: Tone) -> str:
        return {
            W: "Thank you for listening.",
            P: "Thank you for your time and consideration.",
            PL: "Press play, you will not regret it.",
            B: "One listen is all it takes.",
        }[tone]

    def social_hook(self, s: Subject, tone: Tone) -> str:
        return {
            W: "Something from the heart: {label}.",
            P: "Now presenting {label}.",
            PL: "Psst… {label} is calling your name!",
            B: "{label}. Turn it up.",
        }[tone].format(label=self.label(s))

    def social_cta(self, tone: Tone) -> str:
        return {
            W: "Tell us what it means to you.",
            P: "Listen now and share your thoughts.",
            PL: "Press play and tag a friend who needs this.",
            B: "Play it loud.",
        }[tone]

    def playlist_lead(self, s: Subject, tone: Tone) -> str:
        topic = f"The music of {s.name}" if s.type == "artist" else self.label(s)
        genres = f" of {self.genre_list(s)}" if s.genres else ""
        return {
            W: "{topic}: a warm selection{genres} to settle into.",
            P: "{topic}: a carefully curated selection{genres}.",
            PL: "{topic}: a feel-good mix{genres}.",
            B: "{topic}: a high-voltage selection{genres}.",
        }[tone].format(topic=topic, genres=genres)

    def playlist_featuring(self, s: Subject) -> str | None:
        if s.type == "playlist" and s.tracks:
            return (self.tracklist(s) or "").replace("It features", "Featuring", 1)
        works = s.top_tracks or s.tracks
        if works:
            return f"Featuring {self.titles(works)}."
        if s.artists:
            return f"Featuring {self.join(list(s.artists[:MAX_LISTED]))}."
        return None

    def playlist_owner(self, s: Subject) -> str | None:
        return f"Curated by {s.owner}." if s.owner and s.type == "playlist" else None

    def lyrics_title(self, s: Subject) -> str:
        return f"Draft lyrics inspired by {self.label(s)}"

    def verse_lines(self, tone: Tone) -> tuple[str, ...]:
        return {
            W: (
                "I keep {a} close when the night gets cold,",
                "{g} playing soft like a story told,",
                "and {b} hums where the heart can hear,",
                "{name}, sing it slow, sing it near.",
            ),
            P: (
                "Lights come up on {a},",
                "that {g} pulse that holds the floor,",
                "{b} echoing down the hall,",
                "{name}, and we want more.",
            ),
            PL: (
                "Put {a} on, let the speakers shake,",
                "{g} grooves for goodness' sake,",
                "{b} spinning round and round,",
                "{name} turns the whole room around.",
            ),
            B: (
                "{a} hits like thunder in the street,",
                "{g} running hot beneath our feet,",
                "{b} is the fire we carry on,",
                "{name}, until the break of dawn.",
            ),
        }[tone]

    def chorus_lines(self) -> tuple[str, ...]:
        return ("{name}, {name},", "play {a} all night long,", "{name}, {name},", "{g} is where we belong.")

    def press_header(self) -> str:
        return "FOR IMMEDIATE RELEASE"

    def press_headline(self, s: Subject, tone: Tone) -> str:
        return {
            W: "{label}: music to hold close",
            P: "Introducing {label}",
            PL: "Turn it up for {label}",
            B: "{label} makes its mark",
        }[tone].format(label=self.label(s))

    def key_facts_heading(self) -> str:
        return "Key facts"

    def key_facts(self, s: Subject) -> list[str]:
        lines = []
        if s.artists:
            lines.append(("Artist: " if len(s.artists) == 1 else "Artists: ") + ", ".join(s.artists))
        if s.album:
            lines.append(f"Album: {s.album}")
        if s.released:
            lines.append(f"Release date: {self.date(s.released)}")
        if s.total_tracks:
            lines.append(f"Tracks: {self.number(s.total_tracks)}")
        if s.project_type:
            lines.append(f"Type: {s.project_type}")
        if s.genres:
            lines.append(f"Genres: {', '.join(s.genres)}")
        if s.followers is not None and s.type == "artist":
            lines.append(f"Followers: {self.number(s.followers)}")
        if s.popularity is not None:
            lines.append(f"Popularity: {s.popularity}")
        if s.owner and s.type == "playlist":
            lines.append(f"Curated by: {s.owner}")
        return lines


class French(Phrasebook):
    language = Language.FR
    months = (
        "janvier", "février", "mars", "avril", "mai", "juin",
        "juillet", "août", "septembre", "octobre", "novembre", "décembre",
    )  # fmt: skip
    conjunction = "et"
    quotes = ("«\u00a0", "\u00a0»")
    thousands = "\u202f"
    fallback_genre = "la musique"
    verse, chorus = "[Couplet]", "[Refrain]"

    @staticmethod
    def of(name: str) -> str:
        """`de` before a name, elided before a vowel: « d'Ada Costa », « de Kelis »."""
        return f"d'{name}" if name[:1].lower() in "aeiouyàâéèêëîïôöùûüæœh" else f"de {name}"

    def date(self, d: PartialDate) -> str:
        if d.month and d.day:
            return f"{'1er' if d.day == 1 else d.day} {self.months[d.month - 1]} {d.year}"
        if d.month:
            return f"{self.months[d.month - 1]} {d.year}"
        return str(d.year)

    def when(self, d: PartialDate) -> str:
        return f"le {self.date(d)}" if d.day else f"en {self.date(d)}"

    def tracks_count(self, n: int) -> str:
        return f"{self.number(n)} titre" + ("" if n == 1 else "s")

    def scene(self, s: Subject) -> str:
        """The genres as scenes: « la scène amapiano », « les scènes amapiano et gqom »."""
        genres = self.genre_list(s)
        return f"la scène {genres}" if len(s.genres) == 1 else f"les scènes {genres}"

    def of_scene(self, s: Subject) -> str:
        return "de " + self.scene(s) if len(s.genres) == 1 else "des scènes " + self.genre_list(s)

    def to_scene(self, s: Subject) -> str:
        return "à " + self.scene(s) if len(s.genres) == 1 else "aux scènes " + self.genre_list(s)

    def artists_of(self, artists: Sequence[str]) -> str:
        return self.of(self.join(list(artists[:MAX_LISTED])))

    def intro(self, s: Subject, tone: Tone) -> str:
        q = self.label(s)
        by = f" {self.artists_of(s.artists)}" if s.artists else ""
        released = f", sorti {self.when(s.released)}" if s.released else ""
        if s.type == "artist" and s.genres:
            return {
                W: "La musique {of_name}, sincère et généreuse, puise dans {scene}.",
                P: "La musique {of_name} s'inscrit dans {scene}.",
                PL: "Avec {name}, le son {of_scene} donne envie de bouger.",
                B: "{name} s'empare {of_scene} sans compromis.",
            }[tone].format(
                name=s.name, of_name=self.of(s.name), scene=self.scene(s), of_scene=self.of_scene(s)
            )
        if s.type == "artist":
            return {
                W: "La musique {of_name} se ressent autant qu'elle s'écoute.",
                P: "{name}, un nom à retenir.",
                PL: "Dites bonjour à {name}.",
                B: "{name} a des choses à dire.",
            }[tone].format(name=s.name, of_name=self.of(s.name))
        if s.type == "track":
            album = f", extrait de l'album {self.quote(s.album)}" if s.album else ""
            return f"{q} est un titre{by}{album}{released}."
        if s.type == "album":
            count = f", qui compte {self.tracks_count(s.total_tracks)}" if s.total_tracks else ""
            return f"{q} est un album{by}{released}{count}."
        if s.type == "playlist":
            return f"{q} est une playlist" + (f" signée {s.owner}." if s.owner else ".")
        return f"{q} est un projet" + (f" ({s.project_type})." if s.project_type else ".")

    def sound(self, s: Subject, tone: Tone) -> str | None:
        if not s.genres or s.type == "artist":
            return None
        return {
            W: "On y retrouve toute la chaleur {of_scene}.",
            P: "Son univers sonore s'inscrit dans {scene}.",
            PL: "Au menu, une belle dose {of_scene}.",
            B: "Le son {of_scene}, à pleine puissance.",
        }[tone].format(scene=self.scene(s), of_scene=self.of_scene(s))

    def top_tracks(self, s: Subject, tone: Tone) -> str | None:
        if not s.top_tracks:
            return None
        return {
            W: "Le public revient sans cesse vers {tracks}.",
            P: "Parmi les titres les plus populaires {of_name} {figure} {tracks}.",
            PL: "Commencez par {tracks}, vous comprendrez vite pourquoi.",
            B: "Pour mesurer l'ambition {of_name}, écoutez {tracks}.",
        }[tone].format(
            of_name=self.of(s.name),
            figure="figure" if len(s.top_tracks) == 1 else "figurent",
            tracks=self.works_list(s.top_tracks),
        )

    def albums(self, s: Subject) -> list[str]:
        if not s.albums:
            return []
        first, others = s.albums[0], s.albums[1:]
        if not first.released and not first.total_tracks:
            return [f"Sa discographie comprend {self.works_list(s.albums)}."]
        if first.released:
            detail = f"{self.quote(first.name)} est sorti {self.when(first.released)}"
            detail += f" avec {self.tracks_count(first.total_tracks)}" if first.total_tracks else ""
        else:
            detail = f"{self.quote(first.name)} compte {self.tracks_count(first.total_tracks or 0)}"
        sentences = [detail + "."]
        if others:
            sentences.append(f"Sa discographie comprend aussi {self.works_list(others)}.")
        return sentences

    def tracklist(self, s: Subject) -> str | None:
        if not s.tracks:
            return None
        if s.type == "playlist":
            items = [
                self.quote(t.name) + (f" {self.of(self.join(list(t.artists[:2])))}" if t.artists else "")
                for t in s.tracks[:MAX_LISTED]
            ]
            return f"On y trouve {self.join(items)}."
        return f"Au programme : {self.titles(s.tracks)}."

    def description(self, s: Subject) -> str | None:
        return self.sentence_with_quote("Sa description : ", s.description) if s.description else None

    def audience(self, s: Subject) -> str | None:
        followers = s.followers if s.type == "artist" else None
        fans = f"{self.number(followers)} abonné" + ("" if followers == 1 else "s") if followers else ""
        score = f"un score de popularité de {s.popularity}" if s.popularity is not None else ""
        if s.type != "artist":
            return f"Son score de popularité est de {s.popularity}." if score else None
        if fans and score:
            return f"{s.name} compte {fans} et affiche {score}."
        if fans:
            return f"{s.name} compte {fans}."
        return f"{s.name} affiche {score}." if score else None

    def bio_closer(self, tone: Tone) -> str:
        return {
            W: "Chaque morceau est une invitation à écouter de plus près.",
            P: "Une écoute attentive s'impose.",
            PL: "Montez le son et laissez-vous porter.",
            B: "Une musique qui refuse de jouer la prudence.",
        }[tone]

    def pitch_opener(self, s: Subject, tone: Tone) -> str:
        return {
            W: "Nous avons le plaisir de partager {label} avec vous.",
            P: "Nous avons l'honneur de vous présenter {label}.",
            PL: "Vous avez une minute ? {label} la mérite bien.",
            B: "Faites de la place pour {label}.",
        }[tone].format(label=self.label(s))

    def pitch_fit(self, s: Subject) -> str | None:
        return f"Une évidence pour les playlists consacrées {self.to_scene(s)}." if s.genres else None

    def pitch_close(self, tone: Tone) -> str:
        return {
            W: "Merci pour votre écoute.",
            P: "Merci de votre attention.",
            PL: "Appuyez sur lecture, vous ne le regretterez pas.",
            B: "Une seule écoute suffit.",
        }[tone]

    def social_hook(self, s: Subject, tone: Tone) -> str:
        return {
            W: "Un petit bout de cœur : {label}.",
            P: "À découvrir : {label}.",
            PL: "Psst… {label} vous attend !",
            B: "{label}. Montez le son.",
        }[tone].format(label=self.label(s))

    def social_cta(self, tone: Tone) -> str:
        return {
            W: "Dites-nous ce que cela vous inspire.",
            P: "Écoutez et partagez votre avis.",
            PL: "Lancez la lecture et identifiez un ami qui en a besoin.",
            B: "À écouter très fort.",
        }[tone]

    def playlist_lead(self, s: Subject, tone: Tone) -> str:
        topic = f"La musique {self.of(s.name)}" if s.type == "artist" else self.label(s)
        genres = f" aux couleurs {self.of_scene(s)}" if s.genres else ""
        return {
            W: "{topic} : une sélection chaleureuse{genres}, pour se laisser aller.",
            P: "{topic} : une sélection soignée{genres}.",
            PL: "{topic} : un mélange plein de bonne humeur{genres}.",
            B: "{topic} : une sélection à haute tension{genres}.",
        }[tone].format(topic=topic, genres=genres)

    def playlist_featuring(self, s: Subject) -> str | None:
        if s.type == "playlist" and s.tracks:
            return (self.tracklist(s) or "").replace("On y trouve", "Avec", 1)
        works = s.top_tracks or s.tracks
        if works:
            return f"Avec {self.titles(works)}."
        if s.artists:
            return f"Avec {self.join(list(s.artists[:MAX_LISTED]))}."
        return None

    def playlist_owner(self, s: Subject) -> str | None:
        return f"Une sélection signée {s.owner}." if s.owner and s.type == "playlist" else None

    def lyrics_title(self, s: Subject) -> str:
        return f"Ébauche de paroles inspirée par {self.label(s)}"

    def verse_lines(self, tone: Tone) -> tuple[str, ...]:
        return {
            W: (
                "Je garde {a} tout contre moi,",
                "{g} qui murmure tout bas,",
                "et {b} chante au creux du cœur,",
                "{name}, doucement, sans peur.",
            ),
            P: (
                "Les lumières s'allument sur {a},",
                "{g} bat au cœur de la piste,",
                "{b} résonne dans le couloir,",
                "{name}, encore un peu ce soir.",
            ),
            PL: (
                "Mets {a}, que les enceintes tremblent,",
                "{g} qui groove, on danse ensemble,",
                "{b} tourne et tourne encore,",
                "{name} fait vibrer le décor.",
            ),
            B: (
                "{a} frappe comme l'orage,",
                "{g} brûle sur notre passage,",
                "{b}, c'est le feu qu'on porte,",
                "{name}, jusqu'à l'aube, plus fort.",
            ),
        }[tone]

    def chorus_lines(self) -> tuple[str, ...]:
        return ("{name}, {name},", "{a} toute la nuit,", "{name}, {name},", "{g}, c'est notre vie.")

    def press_header(self) -> str:
        return "COMMUNIQUÉ DE PRESSE"

    def press_headline(self, s: Subject, tone: Tone) -> str:
        return {
            W: "{label}, une musique à garder près de soi",
            P: "Présentation : {label}",
            PL: "Montez le son pour {label}",
            B: "{label} frappe fort",
        }[tone].format(label=self.label(s))

    def key_facts_heading(self) -> str:
        return "Repères"

    def key_facts(self, s: Subject) -> list[str]:
        lines = []
        if s.artists:
            lines.append(("Artiste : " if len(s.artists) == 1 else "Artistes : ") + ", ".join(s.artists))
        if s.album:
            lines.append(f"Album : {s.album}")
        if s.released:
            lines.append(f"Date de sortie : {self.date(s.released)}")
        if s.total_tracks:
            lines.append(f"Titres : {self.number(s.total_tracks)}")
        if s.project_type:
            lines.append(f"Type : {s.project_type}")
        if s.genres:
            lines.append(f"Genres : {', '.join(s.genres)}")
        if s.followers is not None and s.type == "artist":
            lines.append(f"Abonnés : {self.number(s.followers)}")
        if s.popularity is not None:
            lines.append(f"Popularité : {s.popularity}")
        if s.owner and s.type == "playlist":
            lines.append(f"Sélection : {s.owner}")
        return lines


class German(Phrasebook):
    language = Language.DE
    months = (
        "Januar", "Februar", "März", "April", "Mai", "Juni",
        "Juli", "August", "September", "Oktober", "November", "Dezember",
    )  # fmt: skip
    conjunction = "und"
    quotes = ("„", "“")
    thousands = "."
    fallback_genre = "Musik"
    verse, chorus = "[Strophe]", "[Refrain]"

    def genre_list(self, s: Subject) -> str:
        # German capitalises nouns: "afro house" is written "Afro House".
        return self.join([_capitalise_words(g) for g in s.genres[:MAX_LISTED]])

    def lyric_genre(self, s: Subject) -> str:
        return _capitalise_words(s.genres[0]).replace(" ", "-") if s.genres else self.fallback_genre

    def date(self, d: PartialDate) -> str:
        if d.month and d.day:
            return f"{d.day}. {self.months[d.month - 1]} {d.year}"
        if d.month:
            return f"{self.months[d.month - 1]} {d.year}"
        return str(d.year)

    def when(self, d: PartialDate) -> str:
        if d.day:
            return f"am {self.date(d)}"
        return f"im {self.date(d)}" if d.month else f"im Jahr {d.year}"

    def tracks_count(self, n: int) -> str:
        return f"{self.number(n)} Song" + ("" if n == 1 else "s")

    def intro(self, s: Subject, tone: Tone) -> str:
        q = self.label(s)
        by = f" von {self.join(list(s.artists[:MAX_LISTED]))}" if s.artists else ""
        released = f", erschienen {self.when(s.released)}" if s.released else ""
        if s.type == "artist" and s.genres:
            return {
                W: "Die Musik von {name} kommt von Herzen und wurzelt in {genres}.",
                P: "Die Musik von {name} bewegt sich im Bereich {genres}.",
                PL: "{name} macht aus {genres} eine Einladung zum Tanzen.",
                B: "{name} spielt {genres} mit Überzeugung und ohne Kompromisse.",
            }[tone].format(name=s.name, genres=self.genre_list(s))
        if s.type == "artist":
            return {
                W: "Die Musik von {name} will gefühlt werden.",
                P: "{name} ist ein Name, den man kennen sollte.",
                PL: "Darf ich vorstellen: {name}.",
                B: "{name} hat etwas zu sagen.",
            }[tone].format(name=s.name)
        if s.type == "track":
            album = f" aus dem Album {self.quote(s.album)}" if s.album else ""
            return f"{q} ist ein Song{by}{album}{released}."
        if s.type == "album":
            count = f", mit {self.tracks_count(s.total_tracks)}" if s.total_tracks else ""
            return f"{q} ist ein Album{by}{released}{count}."
        if s.type == "playlist":
            return f"{q} ist eine Playlist" + (f", kuratiert von {s.owner}." if s.owner else ".")
        return f"{q} ist ein Projekt" + (f" ({s.project_type})." if s.project_type else ".")

    def sound(self, s: Subject, tone: Tone) -> str | None:
        if not s.genres or s.type == "artist":
            return None
        return {
            W: "Darin steckt die ganze Wärme von {genres}.",
            P: "Klanglich ist es im Bereich {genres} zu Hause.",
            PL: "Freuen Sie sich auf eine ordentliche Portion {genres}.",
            B: "Hier gibt es {genres} mit voller Wucht.",
        }[tone].format(genres=self.genre_list(s))

    def top_tracks(self, s: Subject, tone: Tone) -> str | None:
        if not s.top_tracks:
            return None
        return {
            W: "Das Publikum kehrt immer wieder zu {tracks} zurück.",
            P: "Zu den beliebtesten Songs von {name} {count} {tracks}.",
            PL: "Fangen Sie mit {tracks} an, dann wissen Sie Bescheid.",
            B: "Wer hören will, wozu {name} fähig ist, startet mit {tracks}.",
        }[tone].format(
            name=s.name,
            count="zählt" if len(s.top_tracks) == 1 else "zählen",
            tracks=self.works_list(s.top_tracks),
        )

    def albums(self, s: Subject) -> list[str]:
        if not s.albums:
            return []
        first, others = s.albums[0], s.albums[1:]
        if not first.released and not first.total_tracks:
            belong = "gehört" if len(s.albums) == 1 else "gehören"
            return [f"Zur Diskografie {belong} {self.works_list(s.albums)}."]
        if first.released:
            detail = f"{self.quote(first.name)} erschien {self.when(first.released)}"
            detail += f" mit {self.tracks_count(first.total_tracks)}" if first.total_tracks else ""
        else:
            detail = f"{self.quote(first.name)} umfasst {self.tracks_count(first.total_tracks or 0)}"
        sentences = [detail + "."]
        if others:
            belong = "gehört" if len(others) == 1 else "gehören"
            sentences.append(f"Außerdem {belong} {self.works_list(others)} zur Diskografie.")
        return sentences

    def tracklist(self, s: Subject) -> str | None:
        if not s.tracks:
            return None
        if s.type == "playlist":
            items = [
                self.quote(t.name) + (f" von {self.join(list(t.artists[:2]))}" if t.artists else "")
                for t in s.tracks[:MAX_LISTED]
            ]
            return f"Mit dabei {'ist' if len(items) == 1 else 'sind'} {self.join(items)}."
        return f"Auf der Trackliste {'steht' if len(s.tracks) == 1 else 'stehen'} {self.titles(s.tracks)}."

    def description(self, s: Subject) -> str | None:
        return self.sentence_with_quote("Die Beschreibung lautet: ", s.description) if s.description else None

    def audience(self, s: Subject) -> str | None:
        followers = s.followers if s.type == "artist" else None
        fans = f"{self.number(followers)} Follower" if followers else ""
        score = f"einen Popularitätswert von {s.popularity}" if s.popularity is not None else ""
        who = s.name if s.type == "artist" else "Es"
        if fans and score:
            return f"{who} hat {fans} und {score}."
        if fans or score:
            return f"{who} hat {fans or score}."
        return None

    def bio_closer(self, tone: Tone) -> str:
        return {
            W: "Jeder Song ist eine Einladung, genau hinzuhören.",
            P: "Es lohnt sich, genau hinzuhören.",
            PL: "Lauter drehen und die Fahrt genießen.",
            B: "Diese Musik geht keine Kompromisse ein.",
        }[tone]

    def pitch_opener(self, s: Subject, tone: Tone) -> str:
        return {
            W: "Wir freuen uns sehr, {label} mit Ihnen zu teilen.",
            P: "Gern stellen wir Ihnen {label} vor.",
            PL: "Haben Sie eine Minute? {label} ist sie wert.",
            B: "Machen Sie Platz für {label}.",
        }[tone].format(label=self.label(s))

    def pitch_fit(self, s: Subject) -> str | None:
        return f"Ideal für Playlists rund um {self.genre_list(s)}." if s.genres else None

    def pitch_close(self, tone: Tone) -> str:
        return {
            W: "Danke fürs Zuhören.",
            P: "Vielen Dank für Ihre Zeit und Aufmerksamkeit.",
            PL: "Einfach auf Play drücken, es lohnt sich.",
            B: "Ein Durchlauf genügt.",
        }[tone]

    def social_hook(self, s: Subject, tone: Tone) -> str:
        return {
            W: "Von Herzen für euch: {label}.",
            P: "Jetzt entdecken: {label}.",
            PL: "Psst… {label} wartet auf euch!",
            B: "{label}. Laut aufdrehen.",
        }[tone].format(label=self.label(s))

    def social_cta(self, tone: Tone) -> str:
        return {
            W: "Erzählt uns, was es euch bedeutet.",
            P: "Jetzt reinhören und eure Meinung teilen.",
            PL: "Auf Play drücken und Freunde markieren, die das brauchen.",
            B: "Laut hören.",
        }[tone]

    def playlist_lead(self, s: Subject, tone: Tone) -> str:
        topic = f"Die Musik von {s.name}" if s.type == "artist" else self.label(s)
        genres = f" aus {self.genre_list(s)}" if s.genres else ""
        return {
            W: "{topic}: eine warme Auswahl{genres} zum Zurücklehnen.",
            P: "{topic}: eine sorgfältig kuratierte Auswahl{genres}.",
            PL: "{topic}: ein Gute-Laune-Mix{genres}.",
            B: "{topic}: eine Auswahl{genres} unter Hochspannung.",
        }[tone].format(topic=topic, genres=genres)

    def playlist_featuring(self, s: Subject) -> str | None:
        if s.type == "playlist" and s.tracks:
            return re.sub(r"^Mit dabei (ist|sind)", "Mit", self.tracklist(s) or "")
        works = s.top_tracks or s.tracks
        if works:
            return f"Mit {self.titles(works)}."
        if s.artists:
            return f"Mit {self.join(list(s.artists[:MAX_LISTED]))}."
        return None

    def playlist_owner(self, s: Subject) -> str | None:
        return f"Kuratiert von {s.owner}." if s.owner and s.type == "playlist" else None

    def lyrics_title(self, s: Subject) -> str:
        return f"Songtext-Entwurf, inspiriert von {self.label(s)}"

    def verse_lines(self, tone: Tone) -> tuple[str, ...]:
        return {
            W: (
                "Ich halte {a} fest, wenn die Nacht kalt wird,",
                "{g} klingt leise wie ein Lied, das uns führt,",
                "und {b} summt dort, wo das Herz noch hört,",
                "{name}, sing es langsam, ungestört.",
            ),
            P: (
                "Das Licht geht an für {a},",
                "ein {g}-Puls, der den Raum erfüllt,",
                "{b} hallt durch den Flur,",
                "{name}, wir wollen mehr davon.",
            ),
            PL: (
                "Leg {a} auf, lass die Boxen beben,",
                "{g}-Groove, das ist das Leben,",
                "{b} dreht sich rund und rund,",
                "{name} macht den Abend bunt.",
            ),
            B: (
                "{a} schlägt ein wie Donner auf der Straße,",
                "{g} brennt heiß in jeder Phase,",
                "{b} ist das Feuer, das uns trägt,",
                "{name}, bis der Morgen schlägt.",
            ),
        }[tone]

    def chorus_lines(self) -> tuple[str, ...]:
        return ("{name}, {name},", "{a} die ganze Nacht,", "{name}, {name},", "{g} hat uns wach gemacht.")

    def press_header(self) -> str:
        return "PRESSEMITTEILUNG"

    def press_headline(self, s: Subject, tone: Tone) -> str:
        return {
            W: "{label}: Musik zum Festhalten",
            P: "Vorgestellt: {label}",
            PL: "Lauter drehen für {label}",
            B: "{label} setzt ein Zeichen",
        }[tone].format(label=self.label(s))

    def key_facts_heading(self) -> str:
        return "Auf einen Blick"

    def key_facts(self, s: Subject) -> list[str]:
        lines = []
        if s.artists:
            lines.append(("Artist: " if len(s.artists) == 1 else "Artists: ") + ", ".join(s.artists))
        if s.album:
            lines.append(f"Album: {s.album}")
        if s.released:
            lines.append(f"Erscheinungsdatum: {self.date(s.released)}")
        if s.total_tracks:
            lines.append(f"Songs: {self.number(s.total_tracks)}")
        if s.project_type:
            lines.append(f"Art: {s.project_type}")
        if s.genres:
            lines.append(f"Genres: {', '.join(_capitalise_words(g) for g in s.genres)}")
        if s.followers is not None and s.type == "artist":
            lines.append(f"Follower: {self.number(s.followers)}")
        if s.popularity is not None:
            lines.append(f"Popularität: {s.popularity}")
        if s.owner and s.type == "playlist":
            lines.append(f"Kuratiert von: {s.owner}")
        return lines


def _capitalise_words(text: str) -> str:
    return " ".join(word[:1].upper() + word[1:] for word in text.split())


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
