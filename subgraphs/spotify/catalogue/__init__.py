"""Everything that talks to Spotify: the catalogue behind one protocol, live (spotipy, `live.py`)
or offline (the bundled sample, `offline.py`); the users' own libraries (`library.py`); the
Redis read-through cache of Web API objects (`cache.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

# The Web API's batch limits: the loaders never ask for more in one call.
TRACKS_PER_CALL = 50
ARTISTS_PER_CALL = 50
ALBUMS_PER_CALL = 20

SpotifyObject = dict[str, Any]


@dataclass(frozen=True)
class Page:
    """A page of ids (the objects themselves go through the loaders)."""

    ids: list[str]
    total: int


class SpotifyCatalogue(Protocol):
    """Every method is one upstream call. Unknown ids come back as None, in order."""

    async def tracks(self, ids: list[str]) -> list[SpotifyObject | None]: ...

    async def artists(self, ids: list[str]) -> list[SpotifyObject | None]: ...

    async def albums(self, ids: list[str]) -> list[SpotifyObject | None]: ...

    async def artist_albums(self, artist_id: str, offset: int, limit: int) -> Page: ...

    async def artist_top_tracks(self, artist_id: str) -> list[str]: ...

    async def album_tracks(self, album_id: str, offset: int, limit: int) -> Page: ...

    async def playlist(self, playlist_id: str) -> SpotifyObject | None: ...

    async def playlist_tracks(self, playlist_id: str, offset: int, limit: int) -> Page: ...
