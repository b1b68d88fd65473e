"""The live catalogue: spotipy in a thread pool with its own retries off. Our code honours
429 Retry-After asynchronously with jitter, retries 5xx with backoff, limits concurrency per
process, and fetches a new app token once on 401."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import spotipy
from spotipy.exceptions import SpotifyException

from shared.metrics import count_upstream
from subgraphs.spotify.catalogue import Page, SpotifyObject

if TYPE_CHECKING:
    from subgraphs.spotify.config import SpotifySettings

T = TypeVar("T")


class SpotifyUnavailable(Exception):
    """Spotify kept failing after every retry."""


class SpotifyCaller:
    """Runs blocking spotipy calls in threads, at most `max_concurrency` at once. Honours
    429 Retry-After (plus jitter) and retries 5xx with exponential backoff, asynchronously;
    any other error (401 included) goes to the caller."""

    def __init__(
        self,
        max_concurrency: int = 8,
        max_attempts: int = 5,
        base_delay: float = 0.2,
        max_delay: float = 30.0,
    ) -> None:
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._limit = asyncio.Semaphore(max_concurrency)
        self.requests: Counter[str] = Counter()

    async def call(self, endpoint: str, blocking: Callable[[], T]) -> T:
        for attempt in range(1, self.max_attempts + 1):
            async with self._limit:
                self.requests[endpoint] += 1
                try:
                    answer = await asyncio.to_thread(blocking)
                    count_upstream("spotify", 200)
                    return answer
                except SpotifyException as error:
                    count_upstream("spotify", error.http_status)
                    if error.http_status == 429:
                        delay = _retry_after(error.headers) + random.uniform(0, self.base_delay)
                    elif error.http_status >= 500:
                        delay = self.base_delay * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)
                    else:
                        raise
            if attempt < self.max_attempts:
                await asyncio.sleep(min(delay, self.max_delay))
        raise SpotifyUnavailable(f"Spotify {endpoint} failed after {self.max_attempts} attempts")


class LiveCatalogue:
    def __init__(
        self,
        settings: SpotifySettings,
        *,
        http: httpx.AsyncClient | None = None,
        max_concurrency: int = 8,
        max_attempts: int = 5,
        base_delay: float = 0.2,
        max_delay: float = 30.0,
        market: str = "US",
    ) -> None:
        if not settings.spotify_client_id or not settings.spotify_client_secret:
            raise ValueError("the live catalogue needs SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET")
        self.settings = settings
        self.http = http or httpx.AsyncClient(timeout=10)
        self.market = market
        self.caller = SpotifyCaller(max_concurrency, max_attempts, base_delay, max_delay)
        self._client: spotipy.Spotify | None = None
        self._token_lock = asyncio.Lock()

    @property
    def requests(self) -> Counter[str]:
        """Upstream Web API calls by endpoint (what a call budget counts)."""
        return self.caller.requests

    @property
    def max_attempts(self) -> int:
        return self.caller.max_attempts

    async def _app_token(self) -> str:
        response = await self.http.post(
            f"{self.settings.spotify_accounts_url}/api/token",
            data={"grant_type": "client_credentials"},
            auth=(self.settings.spotify_client_id or "", self.settings.spotify_client_secret or ""),
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    async def _spotify(self, stale: spotipy.Spotify | None = None) -> spotipy.Spotify:
        async with self._token_lock:
            if self._client is None or self._client is stale:
                client = spotipy.Spotify(
                    auth=await self._app_token(),
                    retries=0,
                    status_retries=0,
                    status_forcelist=[],  # 429/5xx come back to us, Retry-After included
                    backoff_factor=0,
                    requests_timeout=10,
                )
                client.prefix = self.settings.spotify_api_url.rstrip("/") + "/"
                self._client = client
            return self._client

    async def _call(self, endpoint: str, call: Callable[[spotipy.Spotify], T]) -> T:
        client = await self._spotify()
        try:
            return await self.caller.call(endpoint, lambda: call(client))
        except SpotifyException as error:
            if error.http_status != 401:
                raise
        # The app token expired: fetch a new one, once.
        fresh = await self._spotify(stale=client)
        return await self.caller.call(endpoint, lambda: call(fresh))

    async def tracks(self, ids: list[str]) -> list[SpotifyObject | None]:
        body: Any = await self._call("tracks", lambda sp: sp.tracks(ids, market=None))
        return list(body["tracks"])

    async def artists(self, ids: list[str]) -> list[SpotifyObject | None]:
        body: Any = await self._call("artists", lambda sp: sp.artists(ids))
        return list(body["artists"])

    async def albums(self, ids: list[str]) -> list[SpotifyObject | None]:
        body: Any = await self._call("albums", lambda sp: sp.albums(ids))
        return list(body["albums"])

    async def artist_albums(self, artist_id: str, offset: int, limit: int) -> Page:
        body: Any = await self._call(
            "artist_albums",
            lambda sp: sp.artist_albums(artist_id, include_groups="album,single", limit=limit, offset=offset),
        )
        return Page([item["id"] for item in body["items"]], int(body["total"]))

    async def artist_top_tracks(self, artist_id: str) -> list[str]:
        body: Any = await self._call(
            "artist_top_tracks", lambda sp: sp.artist_top_tracks(artist_id, country=self.market)
        )
        return [track["id"] for track in body["tracks"]]

    async def album_tracks(self, album_id: str, offset: int, limit: int) -> Page:
        body: Any = await self._call(
            "album_tracks", lambda sp: sp.album_tracks(album_id, limit=limit, offset=offset)
        )
        return Page([item["id"] for item in body["items"]], int(body["total"]))

    async def playlist(self, playlist_id: str) -> SpotifyObject | None:
        try:
            body: Any = await self._call(
                "playlist", lambda sp: sp.playlist(playlist_id, fields=PLAYLIST_FIELDS)
            )
        except SpotifyException as error:
            if error.http_status == 404:
                return None
            raise
        return dict(body)

    async def playlist_tracks(self, playlist_id: str, offset: int, limit: int) -> Page:
        body: Any = await self._call(
            "playlist_tracks",
            lambda sp: sp.playlist_items(playlist_id, limit=limit, offset=offset),
        )
        ids = []
        for entry in body["items"]:
            # `/playlists/{id}/items` names the object `item`; the older `/tracks` said `track`.
            obj = entry.get("item") or entry.get("track")
            if obj and obj.get("id") and obj.get("type", "track") == "track":
                ids.append(obj["id"])
        return Page(ids, int(body["total"]))


PLAYLIST_FIELDS = "id,name,description,public,collaborative,followers,snapshot_id,owner,images,uri"


def _retry_after(headers: Any) -> float:
    try:
        return max(0.0, float((headers or {}).get("Retry-After", 1)))
    except (TypeError, ValueError):
        return 1.0
