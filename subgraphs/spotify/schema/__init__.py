"""The spotify subgraph's schema: Query, Mutation and Subscription assembled from one module
per sub-domain (catalogue, playlists, artwork, me, jobs). Resolvers are thin: they parse their
input, call one function of service/, and return the payload."""

from __future__ import annotations

import strawberry

from shared.config import Settings
from shared.schema import PlatformSchema, build_schema
from subgraphs.spotify.schema.artwork import ArtworkMutation
from subgraphs.spotify.schema.catalogue import CatalogueQuery
from subgraphs.spotify.schema.jobs import JobMutation, JobSubscription
from subgraphs.spotify.schema.me import User
from subgraphs.spotify.schema.playlists import PlaylistMutation
from subgraphs.spotify.types import Album, Artist, Playlist, Track


@strawberry.type
class Query(CatalogueQuery):
    pass


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
