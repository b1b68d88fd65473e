"""Catalogue objects summarised for other domains (search, ai): the fields they match, filter
and facet on, flattened from Web API shapes, and a playlist's track ids (ai's co-occurrence).
A track's genres are its artists' (Spotify gives tracks none)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def artist_genres(artists: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Artist id -> its genres: what `item` gives a track or album (its artists' genres)."""
    return {artist["id"]: list(artist.get("genres") or []) for artist in artists}


def _year(release_date: str | None) -> int | None:
    return int(release_date[:4]) if release_date and release_date[:4].isdigit() else None


def _artists(obj: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"id": artist["id"], "name": artist["name"]} for artist in obj.get("artists") or []]


def item(kind: str, obj: Mapping[str, Any], genres_by_artist: Mapping[str, list[str]]) -> dict[str, Any]:
    summary: dict[str, Any] = {"id": obj["id"], "name": obj["name"], "popularity": obj.get("popularity")}
    if kind == "artist":
        summary["genres"] = list(obj.get("genres") or [])
        summary["followers"] = (obj.get("followers") or {}).get("total")
    elif kind in ("track", "album"):
        artists = _artists(obj)
        album = obj.get("album") if kind == "track" else obj
        summary["artists"] = artists
        summary["genres"] = sorted(
            {genre for artist in artists for genre in genres_by_artist.get(artist["id"], [])}
        )
        summary["year"] = _year((album or {}).get("release_date"))
        if kind == "track":
            summary["album"] = {"id": album["id"], "name": album["name"]} if album else None
            summary["explicit"] = bool(obj.get("explicit"))
    elif kind == "playlist":
        summary["description"] = obj.get("description")
        summary["popularity"] = None
        summary["track_ids"] = list(obj.get("track_ids") or [])
    return summary
