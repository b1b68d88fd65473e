"""Queries of the catalogue: artists, albums, tracks and playlists by id; for platform
services, the whole catalogue in pages (`catalogueItems`) and every tenant's platform
playlists in pages (`platformPlaylistItems`)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from shared.pagination import PageCursor, PageInfo
from subgraphs.spotify.loaders import catalogue_loader
from subgraphs.spotify.service import catalogue
from subgraphs.spotify.types import (
    Album,
    Artist,
    CatalogueItemPage,
    CatalogueKind,
    Playlist,
    SpotifyInfo,
    Track,
)


@strawberry.type
class CatalogueQuery:
    @strawberry.field(description="An artist by Spotify id.")
    async def artist(
        self,
        info: SpotifyInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description="Spotify artist id (base-62).")],
    ) -> Artist | None:
        return await Artist.resolve_reference(info, id)

    @strawberry.field(description="Up to 50 artists by Spotify id, in order; unknown ids are null.")
    async def artists(
        self,
        info: SpotifyInfo,
        ids: Annotated[
            list[strawberry.ID], strawberry.argument(description="Spotify artist ids (base-62), at most 50.")
        ],
    ) -> list[Artist | None]:
        wanted = catalogue.artist_ids([str(id) for id in ids])
        return await catalogue_loader(info.context, Artist).load_many(wanted)

    @strawberry.field(description="An album by Spotify id.")
    async def album(
        self,
        info: SpotifyInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description="Spotify album id (base-62).")],
    ) -> Album | None:
        return await Album.resolve_reference(info, id)

    @strawberry.field(description="A track by Spotify id.")
    async def track(
        self,
        info: SpotifyInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description="Spotify track id (base-62).")],
    ) -> Track | None:
        return await Track.resolve_reference(info, id)

    @strawberry.field(description="A playlist: a Spotify id, or one made here (`plst_…`).")
    async def playlist(
        self,
        info: SpotifyInfo,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="Spotify playlist id (base-62) or platform playlist id (`plst_…`)."
            ),
        ],
    ) -> Playlist | None:
        return await Playlist.load(info, str(id))

    @strawberry.field(
        description="The whole catalogue of one kind in pages (keyset by id, stable while it grows), "
        "summarised for platform services that rebuild a projection (search); service tokens only."
    )
    async def catalogue_items(
        self,
        info: SpotifyInfo,
        kind: Annotated[CatalogueKind, strawberry.argument(description="Which objects to list.")],
        first: Annotated[
            int, strawberry.argument(description=f"Page size, 1 to {catalogue.CATALOGUE_ITEMS_LIMIT}.")
        ] = 200,
        after: PageCursor = None,
    ) -> CatalogueItemPage:
        page = await catalogue.catalogue_items(info.context, kind.value, first, after)
        return CatalogueItemPage(
            items=[JSON(item) for item in page.items],
            total_count=page.total,
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
        )

    @strawberry.field(
        description="Every tenant's platform playlists (`plst_…`) in pages (keyset by playlist id, "
        "stable while they grow), each `{tenant_id, playlist_id, owner_id, name, description, public, "
        "version}` with its current values, as the `spotify.playlist.created` and "
        "`spotify.playlist.details_changed` domain events describe it (deleted playlists are left "
        "out), for platform services that rebuild a projection (search); platform service tokens "
        "(acting for no tenant) only."
    )
    async def platform_playlist_items(
        self,
        info: SpotifyInfo,
        first: Annotated[
            int, strawberry.argument(description=f"Page size, 1 to {catalogue.CATALOGUE_ITEMS_LIMIT}.")
        ] = 200,
        after: PageCursor = None,
    ) -> CatalogueItemPage:
        page = await catalogue.platform_playlist_items(info.context, first, after)
        return CatalogueItemPage(
            items=[JSON(item) for item in page.items],
            total_count=page.total,
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
        )
