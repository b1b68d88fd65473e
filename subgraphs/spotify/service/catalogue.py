"""Reading the catalogue: pages of Spotify's objects (ids; the objects go through the
loaders), playlists, Spotify's or made on the platform, and, for platform services, the
whole catalogue in pages summarised (`catalogue_items`) and every tenant's platform
playlists in pages (`platform_playlist_items`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared.auth.principal import platform_service
from shared.context import RequestContext
from shared.errors import BadUserInput, NotFound
from shared.pagination import check_page_size, decode_cursor, encode_cursor
from subgraphs.spotify.catalogue import ARTISTS_PER_CALL, Page, SpotifyCatalogue, SpotifyObject, projection
from subgraphs.spotify.loaders import object_loader
from subgraphs.spotify.models import EditablePlaylist
from subgraphs.spotify.repository import (
    CatalogueRepository,
    PlaylistRepository,
)

PLAYLIST_ITEMS_PER_CALL = 100
PLAYLIST_PREFIX = "plst_"
CATALOGUE_ITEMS_LIMIT = 1000
"""Largest page of `catalogue_items` (each item is one JSON value: cheap to serialise)."""
CREDITED_KINDS = ("track", "album")
"""Kinds whose summary carries their artists' genres."""


def _source(context: RequestContext) -> SpotifyCatalogue:
    source: SpotifyCatalogue = context.runtime.services.catalogue
    return source


def artist_ids(ids: Sequence[str]) -> list[str]:
    """A batch of artist ids, within the Web API's limit."""
    if len(ids) > ARTISTS_PER_CALL:
        raise BadUserInput(f"At most {ARTISTS_PER_CALL} ids", field="ids", limit=ARTISTS_PER_CALL)
    return list(ids)


async def artist_albums(context: RequestContext, artist_id: str, offset: int, limit: int) -> Page:
    return await _source(context).artist_albums(artist_id, offset, limit)


async def artist_top_tracks(context: RequestContext, artist_id: str) -> list[str]:
    return await _source(context).artist_top_tracks(artist_id)


async def album_tracks(context: RequestContext, album_id: str, offset: int, limit: int) -> Page:
    return await _source(context).album_tracks(album_id, offset, limit)


async def playlist_tracks(
    context: RequestContext, playlist_id: str, track_ids: list[str] | None, offset: int, limit: int
) -> Page:
    """A page of a playlist's track ids: a platform playlist's from its own list
    (`track_ids`), a catalogue playlist's from Spotify."""
    if track_ids is not None:
        return Page(track_ids[offset : offset + limit], len(track_ids))
    source = _source(context)
    # Spotify pages playlist items by 100: a larger page is several upstream pages.
    ids: list[str] = []
    total = 0
    for start in range(offset, offset + limit, PLAYLIST_ITEMS_PER_CALL):
        size = min(PLAYLIST_ITEMS_PER_CALL, offset + limit - start)
        page = await source.playlist_tracks(playlist_id, start, size)
        ids.extend(page.ids)
        total = page.total
        if len(page.ids) < size:
            break
    return Page(ids, total)


async def playlist(context: RequestContext, id: str) -> EditablePlaylist | SpotifyObject | None:
    """Platform playlists (tenant-scoped, `plst_` ids) from the database; others from Spotify."""
    if id.startswith(PLAYLIST_PREFIX):
        tenant_id = context.principal.tenant_id
        if not tenant_id:
            return None
        return await PlaylistRepository(await context.session(), tenant_id).get(id)
    return await _source(context).playlist(id)


async def existing_playlist(context: RequestContext, id: str) -> EditablePlaylist | SpotifyObject:
    found = await playlist(context, id)
    if found is None:
        raise NotFound("Playlist not found", id=id)
    return found


async def existing_artist(context: RequestContext, id: str) -> SpotifyObject:
    data = await object_loader(context, "artist").load(id)
    if data is None:
        raise NotFound("Artist not found", id=id)
    return data


@dataclass(frozen=True)
class CatalogueItems:
    items: list[dict[str, Any]]
    """In id order: `projection.item` summaries, what `spotify.catalogue.upserted` carries
    (`catalogue_items`), or platform playlists as their events describe them
    (`platform_playlist_items`)."""
    total: int
    has_next: bool
    end_cursor: str | None


async def catalogue_items(
    context: RequestContext, kind: str, first: int, after: str | None
) -> CatalogueItems:
    """A keyset page (by id) of the catalogue the platform holds, summarised as its
    `spotify.catalogue.upserted` events summarise it, so a platform service can rebuild a
    projection from the source. One SQL statement a page, genres included."""
    check_page_size(first, CATALOGUE_ITEMS_LIMIT)
    start = decode_cursor(after)
    repository = CatalogueRepository(await context.session())
    page = await repository.page(kind, start, first + 1, with_artists=kind in CREDITED_KINDS)
    genres = projection.artist_genres(page.artists.values())
    items = [projection.item(kind, obj, genres) for obj in page.objects[:first]]
    return CatalogueItems(
        items=items,
        total=page.total,
        has_next=len(page.objects) > first,
        end_cursor=encode_cursor(items[-1]["id"]) if items else None,
    )


async def platform_playlist_items(context: RequestContext, first: int, after: str | None) -> CatalogueItems:
    """A keyset page (by playlist id) of the platform playlists of every tenant, each with
    the current values of the fields its `spotify.playlist.created` and
    `spotify.playlist.details_changed` events carry and its tenant (`tenant_id`,
    `playlist_id`, `owner_id`, `name`, `description`, `public`, `version`), so a
    platform service can rebuild a projection from the source. Soft-deleted playlists are
    left out (of the items and of the total). Platform service tokens only; one SQL
    statement a page, the total included."""
    platform_service(context.principal)
    check_page_size(first, CATALOGUE_ITEMS_LIMIT)
    start = decode_cursor(after)
    page = await PlaylistRepository.page_across_all_tenants(await context.session(), start, first + 1)
    items = [
        {
            "tenant_id": row["tenant_id"],
            "playlist_id": row["id"],
            "owner_id": row["owner_id"],
            "name": row["name"],
            "description": row["description"],
            "public": bool(row["public"]),
            "version": int(row["version"]),
        }
        for row in page.rows[:first]
    ]
    return CatalogueItems(
        items=items,
        total=page.total,
        has_next=len(page.rows) > first,
        end_cursor=encode_cursor(items[-1]["playlist_id"]) if items else None,
    )
