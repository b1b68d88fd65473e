"""The offline catalogue: the bundled sample, seeded into the database, queried like the
Web API (one SQL statement per call, so call budgets mean the same thing offline)."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from shared.db import Database
from shared.domain_events import emit, publish_pending
from subgraphs.spotify.catalogue import Page, SpotifyObject, projection
from subgraphs.spotify.domain_events import CATALOGUE_EVENT_BATCH, CatalogueItemsUpserted
from subgraphs.spotify.models import CatalogueLink, CatalogueObject
from subgraphs.spotify.repository import CatalogueRepository

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "catalogue.json.gz"
KINDS = ("artist", "album", "track", "playlist")


def load_sample() -> dict[str, list[dict[str, Any]]]:
    data: dict[str, list[dict[str, Any]]] = json.loads(gzip.decompress(SAMPLE.read_bytes()))
    return data


def sample_rows() -> Iterator[CatalogueObject | CatalogueLink]:
    sample = load_sample()
    for kind in KINDS:
        for item in sample[f"{kind}s"]:
            yield CatalogueObject(kind=kind, id=item["id"], data=item)
    newest_first = sorted(sample["albums"], key=lambda album: album["release_date"], reverse=True)
    for artist in sample["artists"]:
        mine = [
            album["id"] for album in newest_first if any(a["id"] == artist["id"] for a in album["artists"])
        ]
        yield from _links("artist_albums", artist["id"], mine)
        tracks = [t for t in sample["tracks"] if any(a["id"] == artist["id"] for a in t["artists"])]
        top = [t["id"] for t in sorted(tracks, key=lambda t: (-t["popularity"], t["id"]))[:10]]
        yield from _links("artist_top_tracks", artist["id"], top)
    for album in sample["albums"]:
        yield from _links("album_tracks", album["id"], album["track_ids"])
    for playlist in sample["playlists"]:
        yield from _links("playlist_tracks", playlist["id"], playlist["track_ids"])


def _links(relation: str, source: str, targets: list[str]) -> Iterator[CatalogueLink]:
    for rank, target in enumerate(targets):
        yield CatalogueLink(relation=relation, source_id=source, target_id=target, rank=rank)


async def seed_catalogue(
    db: Database,
    progress: Callable[[int], None] | None = None,
    redis: Redis | None = None,
    *,
    announce: bool = True,
) -> int:
    """Loads the sample once; a second run changes nothing. Returns rows inserted. Each
    chunk announces its objects (`spotify.catalogue.upserted`, in the chunk's transaction):
    published at once with `redis`, else by the outbox repair. `announce=False`: no events
    (the tests' template databases, whose outbox each test expects empty)."""
    async with db.read() as session:
        existing = await CatalogueRepository(session).count()
    if existing:
        return 0
    rows = list(sample_rows())
    genres = projection.artist_genres(load_sample()["artists"])
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        async with db.write() as session:
            session.add_all(chunk)
            for event in _announcements(chunk, genres) if announce else ():
                emit(session, event)
        if redis is not None:
            await publish_pending(redis, db, session)
        if progress:
            progress(len(chunk))
    return len(rows)


def _announcements(
    rows: Sequence[CatalogueObject | CatalogueLink], genres: Mapping[str, list[str]]
) -> Iterator[CatalogueItemsUpserted]:
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if isinstance(row, CatalogueObject):
            by_kind.setdefault(row.kind, []).append(projection.item(row.kind, row.data, genres))
    for kind, items in by_kind.items():
        for start in range(0, len(items), CATALOGUE_EVENT_BATCH):
            yield CatalogueItemsUpserted(
                tenant_id=None, kind=kind, items=items[start : start + CATALOGUE_EVENT_BATCH]
            )


class OfflineCatalogue:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.calls: Counter[str] = Counter()
        """Upstream calls by endpoint kind (what a call budget counts)."""

    async def _objects(self, kind: str, ids: list[str]) -> list[SpotifyObject | None]:
        self.calls[kind] += 1
        if not ids:
            return []
        async with self.db.read() as session:
            found = await CatalogueRepository(session).objects(kind, ids)
        return [_public(found[id]) if id in found else None for id in ids]

    async def tracks(self, ids: list[str]) -> list[SpotifyObject | None]:
        return await self._objects("track", ids)

    async def artists(self, ids: list[str]) -> list[SpotifyObject | None]:
        return await self._objects("artist", ids)

    async def albums(self, ids: list[str]) -> list[SpotifyObject | None]:
        return await self._objects("album", ids)

    async def _page(self, relation: str, source: str, offset: int, limit: int) -> Page:
        self.calls[relation] += 1
        async with self.db.read() as session:
            ids, total = await CatalogueRepository(session).linked(relation, source, offset, limit)
        return Page(ids, total)

    async def artist_albums(self, artist_id: str, offset: int, limit: int) -> Page:
        return await self._page("artist_albums", artist_id, offset, limit)

    async def artist_top_tracks(self, artist_id: str) -> list[str]:
        return (await self._page("artist_top_tracks", artist_id, 0, 10)).ids

    async def album_tracks(self, album_id: str, offset: int, limit: int) -> Page:
        return await self._page("album_tracks", album_id, offset, limit)

    async def playlist(self, playlist_id: str) -> SpotifyObject | None:
        return (await self._objects("playlist", [playlist_id]))[0]

    async def playlist_tracks(self, playlist_id: str, offset: int, limit: int) -> Page:
        return await self._page("playlist_tracks", playlist_id, offset, limit)


def _public(data: dict[str, Any]) -> SpotifyObject:
    """Drops the sample's private index fields (`track_ids`)."""
    return {key: value for key, value in data.items() if key != "track_ids"}
