"""Domain events of spotify (on `events:spotify`): platform playlists, the library sync's
imports (playlists upserted, plays ingested) and how its jobs ended. Ids and the fields a
consumer (search, analytics, notifications) needs; never a Spotify token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from shared.domain_events import EventPayload


@dataclass(frozen=True, kw_only=True)
class PlaylistCreated(EventPayload):
    TYPE: ClassVar[str] = "spotify.playlist.created"
    playlist_id: str
    owner_id: str
    name: str
    description: str | None
    public: bool
    version: int


@dataclass(frozen=True, kw_only=True)
class PlaylistChanged(EventPayload):
    TYPE: ClassVar[str] = "spotify.playlist.changed"
    playlist_id: str
    change: str
    """`tracks_added`, `tracks_removed` or `reordered`."""
    version: int
    track_ids: list[str]
    public: bool


@dataclass(frozen=True, kw_only=True)
class PlaylistDetailsChanged(EventPayload):
    """Name, description or visibility changed (`changed` names which); the full details
    as they are now, so a projection (search's visibility filter) needs nothing else."""

    TYPE: ClassVar[str] = "spotify.playlist.details_changed"
    playlist_id: str
    owner_id: str
    name: str
    description: str | None
    public: bool
    version: int
    changed: list[str]


@dataclass(frozen=True, kw_only=True)
class LibraryPlaylistUpserted(EventPayload):
    """A playlist of the user's Spotify library imported (or refreshed) by the sync."""

    TYPE: ClassVar[str] = "spotify.library_playlist.upserted"
    library_playlist_id: str
    spotify_playlist_id: str
    user_id: str
    name: str
    snapshot_id: str | None
    track_count: int


@dataclass(frozen=True, kw_only=True)
class PlaysIngested(EventPayload):
    """Plays read by the sync (or the sample audience's). `plays` is the batch as read
    (consumers dedupe on user, track and time, as the store does), each `{track_id, played_at}`
    and what its source knew of it: `context_uri`, `ms_played` (absent: a stream; under 30,000
    a skip), `device`, `source` (source of stream), `country`. `new` is how many were new."""

    TYPE: ClassVar[str] = "spotify.plays.ingested"
    user_id: str
    country: str | None
    new: int
    plays: list[dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class LibrarySyncCompleted(EventPayload):
    TYPE: ClassVar[str] = "spotify.library_sync.completed"
    job_id: str
    user_id: str
    playlists: int
    plays: int
    new_plays: int


@dataclass(frozen=True, kw_only=True)
class LibrarySyncFailed(EventPayload):
    TYPE: ClassVar[str] = "spotify.library_sync.failed"
    job_id: str
    user_id: str
    reason: str
    """The error's type, or `expired` when the job's account details were gone."""


@dataclass(frozen=True, kw_only=True)
class CatalogueItemsUpserted(EventPayload):
    """Catalogue objects (Spotify's, shared by every tenant) entered or changed on the
    platform: the offline sample when seeded. `items` are `catalogue.projection.item`
    summaries (names, artists, album, genres, year, explicit, popularity), at most
    `CATALOGUE_EVENT_BATCH` per event."""

    TYPE: ClassVar[str] = "spotify.catalogue.upserted"
    kind: str
    """`track`, `artist`, `album` or `playlist`."""
    items: list[dict[str, Any]]


CATALOGUE_EVENT_BATCH = 200
