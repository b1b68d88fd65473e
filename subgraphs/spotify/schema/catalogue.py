"""Queries of the catalogue: artists, albums, tracks and playlists by id."""

from __future__ import annotations

from typing import Annotated

import strawberry

from subgraphs.spotify.loaders import catalogue_loader
from subgraphs.spotify.service import catalogue
from subgraphs.spotify.types import Album, Artist, Playlist, SpotifyInfo, Track


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
