"""`User` (owned by accounts) extended with the user's own Spotify data."""

from __future__ import annotations

from typing import Annotated

import strawberry

from shared.pagination import Connection, Edge, PageCursor, PageInfo
from shared.permissions import protected
from shared.schema import UserExtension
from subgraphs.spotify.catalogue.library import PlaylistPage
from subgraphs.spotify.loaders import catalogue_loader
from subgraphs.spotify.service import me
from subgraphs.spotify.types import (
    PlayedTrack,
    Playlist,
    SpotifyInfo,
    SpotifyProfile,
    Track,
    offset_cursor,
)


@strawberry.federation.type(keys=["id"], description="A person with an account.")
class User(UserExtension):
    @protected("User.spotifyProfile", description="The linked Spotify account (the user only).")
    async def spotify_profile(self, info: SpotifyInfo) -> SpotifyProfile | None:
        account = await me.spotify_account(info.context)
        return None if account is None else SpotifyProfile.of(account)

    @protected("User.playlists", description="The user's playlists on Spotify (the user only).")
    async def playlists(
        self,
        info: SpotifyInfo,
        first: Annotated[int, strawberry.argument(description="Page size, 1 to 50.")] = 20,
        after: PageCursor = None,
    ) -> Connection[Playlist] | None:
        found = await me.my_playlists(info.context, first, after)
        return None if found is None else _playlist_connection(*found)

    @protected("User.topTracks", description="The user's top tracks (the user only).")
    async def top_tracks(
        self,
        info: SpotifyInfo,
        first: Annotated[int, strawberry.argument(description="How many, 1 to 50.")] = 20,
    ) -> list[Track] | None:
        ids = await me.my_top_tracks(info.context, first)
        if ids is None:
            return None
        return [t for t in await catalogue_loader(info.context, Track).load_many(ids) if t]

    @protected("User.recentlyPlayed", description="What the user played lately (the user only).")
    async def recently_played(
        self,
        info: SpotifyInfo,
        first: Annotated[int, strawberry.argument(description="How many, 1 to 50.")] = 20,
    ) -> list[PlayedTrack] | None:
        plays = await me.my_recent_plays(info.context, first)
        if plays is None:
            return None
        tracks = await catalogue_loader(info.context, Track).load_many([play.track_id for play in plays])
        return [
            PlayedTrack(played_at=play.played_at, track=track)
            for play, track in zip(plays, tracks, strict=True)
            if track
        ]


def _playlist_connection(offset: int, page: PlaylistPage) -> Connection[Playlist]:
    edges = [
        Edge(cursor=offset_cursor(offset + i), node=Playlist.from_data(p)) for i, p in enumerate(page.items)
    ]
    end = offset + len(page.items)
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=end < page.total, end_cursor=offset_cursor(end - 1) if page.items else None
        ),
    )
