"""Mutations choosing a playlist's cover art and an artist's press kit (storage assets)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from shared.mutations import unit_of_work
from subgraphs.spotify.schema.playlists import PlaylistPayload
from subgraphs.spotify.service import artwork, catalogue
from subgraphs.spotify.types import Artist, Playlist, SpotifyInfo


@strawberry.input(description="A playlist and the cover art to show for it.")
class SetPlaylistCoverArtInput:
    playlist_id: strawberry.ID = strawberry.field(
        description="Spotify playlist id (base-62) or platform playlist id (`plst_…`)."
    )
    asset_id: strawberry.ID | None = strawberry.field(description="A cover-art asset; null removes it.")


@strawberry.input(description="An artist and the assets of their press kit.")
class SetArtistPressKitInput:
    artist_id: strawberry.ID = strawberry.field(description="Spotify artist id (base-62).")
    asset_ids: list[strawberry.ID] = strawberry.field(description="In order, up to 20; empty clears it.")


@strawberry.type(description="The artist after the change.")
class ArtistPayload:
    artist: Artist = strawberry.field(description="The artist, with its new `pressKit`.")


@strawberry.type
class ArtworkMutation:
    @strawberry.mutation(description="Choose the cover art your team shows for a playlist.")
    async def set_playlist_cover_art(
        self,
        info: SpotifyInfo,
        input: Annotated[
            SetPlaylistCoverArtInput, strawberry.argument(description="The playlist and the asset.")
        ],
    ) -> PlaylistPayload:
        asset_id = None if input.asset_id is None else artwork.check_asset_id(str(input.asset_id), "assetId")
        playlist = await catalogue.existing_playlist(info.context, str(input.playlist_id))
        async with unit_of_work(info, {"playlistId": input.playlist_id, "assetId": asset_id}) as uow:
            await artwork.set_cover_art(uow, info.context.principal, str(input.playlist_id), asset_id)
        return PlaylistPayload(playlist=Playlist.of(playlist))

    @strawberry.mutation(description="Set the assets of an artist's press kit, in order.")
    async def set_artist_press_kit(
        self,
        info: SpotifyInfo,
        input: Annotated[
            SetArtistPressKitInput, strawberry.argument(description="The artist and the assets.")
        ],
    ) -> ArtistPayload:
        asset_ids = [artwork.check_asset_id(str(id), "assetIds") for id in input.asset_ids]
        artist = await catalogue.existing_artist(info.context, str(input.artist_id))
        async with unit_of_work(info, {"artistId": input.artist_id, "assets": len(asset_ids)}) as uow:
            await artwork.set_press_kit(uow, info.context.principal, str(input.artist_id), asset_ids)
        return ArtistPayload(artist=Artist.from_data(artist))
