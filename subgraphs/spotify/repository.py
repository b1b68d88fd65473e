"""Queries of the spotify subgraph. Tenant data goes through `TenantRepository` (filtered by
tenant, soft-deleted rows hidden); the offline catalogue is shared reference data, like
Spotify's own catalogue, and has no tenant."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Integer,
    String,
    cast,
    delete,
    func,
    literal,
    null,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.db import TenantRepository, utcnow
from shared.db.repository import AnySelect, insert_new, page_with_total
from subgraphs.spotify.models import (
    ArtistPressKitItem,
    CatalogueLink,
    CatalogueObject,
    EditablePlaylist,
    LibraryPlaylist,
    PlaylistCoverArt,
    StreamEvent,
)

if TYPE_CHECKING:
    from subgraphs.spotify.catalogue.library import Play


@dataclass(frozen=True)
class ObjectsPage:
    """A keyset page of one kind of catalogue object (raw Web API objects, in id order),
    the artists credited on them, and how many objects of that kind there are."""

    objects: list[dict[str, Any]]
    artists: dict[str, dict[str, Any]]
    total: int


class CatalogueRepository:
    """The offline catalogue: one SQL statement per method, so an offline call costs what
    one Web API call does."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def count(self) -> int:
        return int(
            (await self.session.execute(select(func.count()).select_from(CatalogueObject))).scalar_one()
        )

    async def objects(self, kind: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        stmt = select(CatalogueObject).where(
            col(CatalogueObject.kind) == kind, col(CatalogueObject.id).in_(set(ids))
        )
        return {row.id: row.data for row in (await self.session.execute(stmt)).scalars()}

    async def all_of_kind(self, kind: str) -> list[CatalogueObject]:
        stmt = (
            select(CatalogueObject).where(col(CatalogueObject.kind) == kind).order_by(col(CatalogueObject.pk))
        )
        return list((await self.session.execute(stmt)).scalars())

    async def ids_of_kind(self, kind: str) -> list[str]:
        stmt = (
            select(col(CatalogueObject.id))
            .where(col(CatalogueObject.kind) == kind)
            .order_by(col(CatalogueObject.pk))
        )
        return list((await self.session.execute(stmt)).scalars())

    async def page(self, kind: str, after: str | None, limit: int, *, with_artists: bool) -> ObjectsPage:
        """Up to `limit` objects of `kind` whose id sorts after `after` (keyset, by the
        unique (kind, id) index), with `with_artists` the artist objects their `artists`
        name, and the kind's count: one statement (a UNION ALL of the three parts)."""
        obj = CatalogueObject
        conditions = [col(obj.kind) == kind]
        if after is not None:
            conditions.append(col(obj.id) > after)
        page = (
            select(col(obj.id).label("id"), col(obj.data).label("data"))
            .where(*conditions)
            .order_by(col(obj.id))
            .limit(limit)
            .cte("page")
        )
        no_count = cast(null(), Integer)
        parts = [
            select(literal("object").label("part"), page.c.id, page.c.data, no_count.label("n")),
            select(literal("total"), cast(null(), String), cast(null(), JSON), func.count())
            .select_from(obj)
            .where(col(obj.kind) == kind),
        ]
        if with_artists:
            parts.append(
                select(literal("artist"), col(obj.id), col(obj.data), no_count).where(
                    col(obj.kind) == "artist", col(obj.id).in_(self._credited_artist_ids(page))
                )
            )
        union = union_all(*parts)
        stmt = union.order_by(union.selected_columns.part, union.selected_columns.id)
        objects: list[dict[str, Any]] = []
        artists: dict[str, dict[str, Any]] = {}
        total = 0
        for part, id, data, count in (await self.session.execute(stmt)).all():
            if part == "object":
                objects.append(data)
            elif part == "artist":
                artists[id] = data
            else:
                total = int(count)
        return ObjectsPage(objects, artists, total)

    def _credited_artist_ids(self, page: Any) -> Any:
        """The `id` of each entry of the page's `artists` arrays (JSON functions differ:
        SQLite's `json_each`, PostgreSQL's `json_array_elements`)."""
        bind = self.session.bind
        if bind is not None and bind.dialect.name == "postgresql":
            entries = func.json_array_elements(page.c.data["artists"]).table_valued("value").alias("credit")
            artist_id: Any = type_coerce(entries.c.value, JSON)["id"].as_string()
        else:
            entries = func.json_each(page.c.data, "$.artists").table_valued("value").alias("credit")
            artist_id = func.json_extract(entries.c.value, "$.id")
        return select(artist_id).select_from(page).join(entries, true())

    async def linked(self, relation: str, source: str, offset: int, limit: int) -> tuple[list[str], int]:
        """A page of `relation` targets of `source`, in rank order, and how many there are."""
        total = func.count().over().label("total")
        stmt = (
            select(col(CatalogueLink.target_id), total)
            .where(col(CatalogueLink.relation) == relation, col(CatalogueLink.source_id) == source)
            .order_by(col(CatalogueLink.rank))
            .offset(offset)
            .limit(limit)
        )
        rows = (await self.session.execute(stmt)).all()
        return [row[0] for row in rows], int(rows[0][1]) if rows else 0


@dataclass(frozen=True)
class PlatformPlaylistsPage:
    """A keyset page of platform playlists of every tenant (in id order: each row's
    `tenant_id`, `id`, `owner_id`, `name`, `description`, `public`, `version`) and how many
    platform playlists there are, soft-deleted ones left out of both."""

    rows: list[dict[str, Any]]
    total: int


class PlaylistRepository(TenantRepository[EditablePlaylist]):
    model = EditablePlaylist

    @staticmethod
    async def page_across_all_tenants(
        session: AsyncSession, after: str | None, limit: int
    ) -> PlatformPlaylistsPage:
        """CROSSES TENANTS: up to `limit` platform playlists of every tenant whose id sorts
        after `after` (keyset, by the primary key), without their track lists, and how many
        there are (soft-deleted ones left out), in one statement (`page_with_total`). For
        platform services only (`platformPlaylistItems`, a platform service token with no
        tenant): never call it on behalf of a user or a tenant."""
        playlist = EditablePlaylist
        live = col(playlist.deleted_at).is_(None)
        conditions: list[Any] = [live]
        if after is not None:
            conditions.append(col(playlist.id) > after)
        page: AnySelect = (
            select(
                col(playlist.tenant_id).label("tenant_id"),
                col(playlist.id).label("id"),
                col(playlist.owner_id).label("owner_id"),
                col(playlist.name).label("name"),
                col(playlist.description).label("description"),
                col(playlist.public).label("public"),
                col(playlist.version).label("version"),
            )
            .where(*conditions)
            .order_by(col(playlist.id))
            .limit(limit)
        )
        counted = select(func.count()).select_from(playlist).where(live)
        rows, total = await page_with_total(session, page, counted, ["id"])
        return PlatformPlaylistsPage(rows, total)


class LibraryPlaylistRepository(TenantRepository[LibraryPlaylist]):
    model = LibraryPlaylist

    async def imported(self, user_id: str, spotify_playlist_id: str) -> LibraryPlaylist | None:
        stmt = self.select().where(
            col(LibraryPlaylist.user_id) == user_id,
            col(LibraryPlaylist.spotify_playlist_id) == spotify_playlist_id,
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()


class PlayRepository(TenantRepository[StreamEvent]):
    model = StreamEvent

    async def insert_new(self, user_id: str, plays: Sequence[Play], country: str | None) -> int:
        """Stores plays, skipping those already stored (same user, track and time); `country`
        stands for a play's own when it has none. Returns how many were new."""
        rows = [
            {
                "tenant_id": self.tenant_id,
                "user_id": user_id,
                "track_id": play.track_id,
                "played_at": play.played_at,
                "country": play.country or country,
                "context_uri": play.context_uri,
                "device": play.device,
                "ms_played": play.ms_played,
                "source": play.source,
            }
            for play in plays
        ]
        return await insert_new(self.session, StreamEvent, rows, ["user_id", "track_id", "played_at"])


class CoverArtRepository(TenantRepository[PlaylistCoverArt]):
    model = PlaylistCoverArt

    async def asset_ids(self, playlist_ids: Sequence[str]) -> dict[str, str]:
        stmt = self.select().where(col(PlaylistCoverArt.playlist_id).in_(playlist_ids))
        return {row.playlist_id: row.asset_id for row in (await self.session.execute(stmt)).scalars()}

    async def choose(self, playlist_id: str, asset_id: str | None, set_by: str) -> None:
        """Sets (or, with None, removes) the playlist's cover art."""
        existing = await self.session.get(PlaylistCoverArt, (self.tenant_id, playlist_id))
        if asset_id is None:
            if existing is not None:
                await self.session.delete(existing)
        elif existing is None:
            self.add(
                PlaylistCoverArt(
                    tenant_id=self.tenant_id, playlist_id=playlist_id, asset_id=asset_id, set_by=set_by
                )
            )
        else:
            existing.asset_id, existing.set_by, existing.updated_at = asset_id, set_by, utcnow()
            self.session.add(existing)
        await self.session.flush()


class PressKitRepository(TenantRepository[ArtistPressKitItem]):
    model = ArtistPressKitItem

    async def asset_ids(self, artist_ids: Sequence[str]) -> dict[str, list[str]]:
        stmt = (
            self.select()
            .where(col(ArtistPressKitItem.artist_id).in_(artist_ids))
            .order_by(col(ArtistPressKitItem.artist_id), col(ArtistPressKitItem.rank))
        )
        found: dict[str, list[str]] = defaultdict(list)
        for row in (await self.session.execute(stmt)).scalars():
            found[row.artist_id].append(row.asset_id)
        return found

    async def replace(self, artist_id: str, asset_ids: Sequence[str]) -> None:
        await self.session.execute(
            delete(ArtistPressKitItem).where(
                col(ArtistPressKitItem.tenant_id) == self.tenant_id,
                col(ArtistPressKitItem.artist_id) == artist_id,
            )
        )
        for rank, asset_id in enumerate(asset_ids):
            self.add(
                ArtistPressKitItem(
                    tenant_id=self.tenant_id, artist_id=artist_id, rank=rank, asset_id=asset_id
                )
            )
        await self.session.flush()
