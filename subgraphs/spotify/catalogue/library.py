"""The signed-in user's own Spotify data: their linked account comes from accounts (a
narrow internal call with the user's own token), their library from Spotify (`LiveLibrary`)
or, offline, from the sample catalogue (`OfflineLibrary`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import spotipy
from spotipy.exceptions import SpotifyException

from shared.db import Database
from shared.errors import Unauthenticated
from subgraphs.spotify.catalogue import SpotifyObject
from subgraphs.spotify.catalogue.live import SpotifyCaller
from subgraphs.spotify.repository import CatalogueRepository

SAMPLE_HISTORY_END = datetime(2026, 11, 1, 18, 0, tzinfo=UTC)


@dataclass(frozen=True)
class LinkedAccount:
    spotify_user_id: str
    display_name: str | None
    country: str | None
    product: str | None
    offline: bool
    access_token: str | None


class SpotifyTokenRejected(Unauthenticated):
    """Spotify answered 401 to the linked account's access token."""


@dataclass(frozen=True)
class Play:
    """One play of the user's listening history, with what its source knows of it."""

    track_id: str
    played_at: datetime
    context_uri: str | None = None
    """The album, artist or playlist it was played from (Spotify URI)."""
    ms_played: int | None = None
    """How long it played; None when the source does not say (Spotify's recently played lists
    streams only, so its plays count as streams)."""
    device: str | None = None
    source: str | None = None
    """Where the listener found it, as Spotify for Artists names sources of stream."""
    country: str | None = None
    city: str | None = None
    """Where the listener was, when the source knows (Spotify's history does not; the
    synthetic audience does). Carried by the event, not stored by spotify."""


async def fetch_linked_account(
    http: httpx.AsyncClient, accounts_url: str, authorization: str, *, refresh: bool = False
) -> LinkedAccount | None:
    """Asks accounts (its internal endpoint, with the user's own token) for the caller's
    linked Spotify account; `refresh`: with a new access token."""
    response = await http.post(
        f"{accounts_url}/internal/spotify-token",
        headers={"Authorization": authorization},
        params={"refresh": "1"} if refresh else None,
    )
    if response.status_code == 401:
        raise Unauthenticated("Authentication required")
    response.raise_for_status()
    body = response.json()
    if not body.get("linked"):
        return None
    return LinkedAccount(
        spotify_user_id=body["spotify_user_id"],
        display_name=body.get("display_name"),
        country=body.get("country"),
        product=body.get("product"),
        offline=bool(body.get("offline")),
        access_token=body.get("access_token"),
    )


class OfflineLibrary:
    """A sample account's library: the sample playlists, and top and recent tracks picked
    deterministically from the catalogue for that account."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def _ids(self, kind: str) -> list[str]:
        async with self.db.read() as session:
            return await CatalogueRepository(session).ids_of_kind(kind)

    async def playlists(self, account: LinkedAccount, offset: int, limit: int) -> PlaylistPage:
        """Simplified playlist objects, as Spotify's /me/playlists returns them."""
        async with self.db.read() as session:
            rows = await CatalogueRepository(session).all_of_kind("playlist")
        items = [_simplified(row.data) for row in rows[offset : offset + limit]]
        return PlaylistPage(items, len(rows))

    def _pick(self, account: LinkedAccount, ids: list[str], count: int, salt: str) -> list[str]:
        ranked = sorted(
            ids, key=lambda id: hashlib.sha256(f"{account.spotify_user_id}:{salt}:{id}".encode()).digest()
        )
        return ranked[:count]

    async def top_tracks(self, account: LinkedAccount, limit: int) -> list[str]:
        return self._pick(account, await self._ids("track"), limit, "top")

    async def recently_played(self, account: LinkedAccount, limit: int) -> list[Play]:
        # Sample history is fixed in time, so importing it twice adds nothing.
        picked = self._pick(account, await self._ids("track"), limit, "recent")
        return [
            Play(id, SAMPLE_HISTORY_END - timedelta(minutes=4 * index + 3)) for index, id in enumerate(picked)
        ]


class LiveLibrary:
    """The Web API's /me endpoints with the user's own access token, under the same
    Retry-After / backoff discipline as the catalogue."""

    def __init__(self, api_url: str, caller: SpotifyCaller | None = None) -> None:
        self.api_url = api_url
        self.caller = caller or SpotifyCaller()

    async def _call(self, account: LinkedAccount, endpoint: str, fn: Any) -> Any:
        client = spotipy.Spotify(
            auth=account.access_token, retries=0, status_retries=0, status_forcelist=[], requests_timeout=10
        )
        client.prefix = self.api_url.rstrip("/") + "/"
        try:
            return await self.caller.call(endpoint, lambda: fn(client))
        except SpotifyException as error:
            if error.http_status == 401:
                raise SpotifyTokenRejected(
                    "Spotify refused the linked account's token; link it again"
                ) from error
            raise

    async def playlists(self, account: LinkedAccount, offset: int, limit: int) -> PlaylistPage:
        body = await self._call(
            account, "me/playlists", lambda sp: sp.current_user_playlists(limit=limit, offset=offset)
        )
        return PlaylistPage(list(body["items"]), int(body["total"]))

    async def top_tracks(self, account: LinkedAccount, limit: int) -> list[str]:
        body = await self._call(account, "me/top", lambda sp: sp.current_user_top_tracks(limit=limit))
        return [item["id"] for item in body["items"]]

    async def recently_played(self, account: LinkedAccount, limit: int) -> list[Play]:
        body = await self._call(
            account, "me/recently-played", lambda sp: sp.current_user_recently_played(limit=limit)
        )
        return [
            Play(
                item["track"]["id"],
                datetime.fromisoformat(item["played_at"].replace("Z", "+00:00")),
                context_uri=(item.get("context") or {}).get("uri"),
            )
            for item in body["items"]
        ]


@dataclass(frozen=True)
class PlaylistPage:
    items: list[SpotifyObject]
    total: int


def playlist_track_total(playlist: SpotifyObject) -> int:
    # Simplified playlists carry `tracks` (older API) or `items` (current) with a total.
    counts = playlist.get("items") or playlist.get("tracks") or {}
    return int(counts.get("total") or 0) if isinstance(counts, dict) else 0


def _simplified(data: dict[str, Any]) -> SpotifyObject:
    public = {key: value for key, value in data.items() if key != "track_ids"}
    public["tracks"] = {"href": f"{data['href']}/tracks", "total": len(data.get("track_ids") or [])}
    return public
