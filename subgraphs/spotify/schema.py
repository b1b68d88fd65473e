"""Query of the spotify subgraph: thin, everything goes through the loaders."""

from __future__ import annotations

from typing import Annotated

import strawberry

from shared.config import Settings
from shared.errors import BadUserInput
from shared.schema import PlatformSchema, build_schema
from subgraphs.spotify.artwork_schema import ArtworkMutation
from subgraphs.spotify.catalog import ARTISTS_PER_CALL
from subgraphs.spotify.jobs_schema import JobMutation, JobSubscription
from subgraphs.spotify.loaders import catalogue_loader
from subgraphs.spotify.me import User
from subgraphs.spotify.playlist_schema import PlaylistMutation
from subgraphs.spotify.types import Album, Artist, Playlist, SpotifyInfo, Track, load_playlist


@strawberry.type
class Query:
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
        if len(ids) > ARTISTS_PER_CALL:
            raise BadUserInput(f"At most {ARTISTS_PER_CALL} ids", field="ids", limit=ARTISTS_PER_CALL)
        return await catalogue_loader(info.context, Artist).load_many([str(id) for id in ids])

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
        return await load_playlist(info, str(id))


@strawberry.type
class Mutation(JobMutation, PlaylistMutation, ArtworkMutation):
    pass


@strawberry.type
class Subscription(JobSubscription):
    pass


def create_schema(settings: Settings) -> PlatformSchema:
    return build_schema(
        settings,
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Artist, Album, Track, Playlist, User],
    )
