"""The facts read into a `Subject`: names, genres, counts and partial release dates, each
optional but the name; malformed values are dropped, never guessed."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


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
