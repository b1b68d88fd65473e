"""`User` (owned by accounts) extended with the user's own Spotify data."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import strawberry

from shared.errors import BadUserInput
from shared.pagination import Connection, Edge, PageInfo
from shared.permissions import protected
from shared.schema import UserExtension
from subgraphs.spotify.library import LinkedAccount, Play, PlaylistPage, linked_account, with_linked_account
from subgraphs.spotify.loaders import catalogue_loader
from subgraphs.spotify.types import Playlist, SpotifyInfo, Track, decode_offset, offset_cursor

T = TypeVar("T")


@strawberry.type(description="The Spotify account linked to a user.")
class SpotifyProfile:
    id: str = strawberry.field(description="Spotify user id of the linked account.")
    display_name: str | None = strawberry.field(
        description="Name shown on the Spotify profile; null when the user has none."
    )
    country: str | None = strawberry.field(
        description="Country of the account (ISO 3166-1 alpha-2); null when Spotify did not share it."
    )
    product: str | None = strawberry.field(
        description="Spotify subscription level, e.g. `premium` or `free`; null when not shared."
    )
    is_sample: bool = strawberry.field(description="Offline mode: a sample account of the bundled catalogue.")


@strawberry.type(description="A track the user played, and when.")
class PlayedTrack:
    played_at: datetime = strawberry.field(description="When playback happened (UTC).")
    track: Track = strawberry.field(description="The track played.")


async def _from_library(info: SpotifyInfo, read: Callable[[Any, LinkedAccount], Awaitable[T]]) -> T | None:
    """`read(library, account)` on the caller's linked account (None without one), with the
    token renewed once if Spotify refuses it."""
    services = info.context.runtime.services

    def call(account: LinkedAccount) -> Awaitable[T]:
        return read(services.offline_library if account.offline else services.live_library, account)

    return await with_linked_account(info.context, call)


def _check_first(first: int, limit: int = 50) -> None:
    if not 1 <= first <= limit:
        raise BadUserInput(f"first must be between 1 and {limit}", field="first")


@strawberry.federation.type(keys=["id"], description="A person with an account.")
class User(UserExtension):
    @protected("User.spotifyProfile", description="The linked Spotify account (the user only).")
    async def spotify_profile(self, info: SpotifyInfo) -> SpotifyProfile | None:
        account = await linked_account(info.context)
        if account is None:
            return None
        return SpotifyProfile(
            id=account.spotify_user_id,
            display_name=account.display_name,
            country=account.country,
            product=account.product,
            is_sample=account.offline,
        )

    @protected("User.playlists", description="The user's playlists on Spotify (the user only).")
    async def playlists(
        self,
        info: SpotifyInfo,
        first: Annotated[int, strawberry.argument(description="Page size, 1 to 50.")] = 20,
        after: Annotated[
            str | None, strawberry.argument(description="Cursor to continue after (`endCursor`).")
        ] = None,
    ) -> Connection[Playlist] | None:
        _check_first(first)
        offset = decode_offset(after)
        page: PlaylistPage | None = await _from_library(
            info, lambda library, account: library.playlists(account, offset, first)
        )
        return None if page is None else _playlist_connection(page, offset)

    @protected("User.topTracks", description="The user's top tracks (the user only).")
    async def top_tracks(
        self,
        info: SpotifyInfo,
        first: Annotated[int, strawberry.argument(description="How many, 1 to 50.")] = 20,
    ) -> list[Track] | None:
        _check_first(first)
        ids: list[str] | None = await _from_library(
            info, lambda library, account: library.top_tracks(account, first)
        )
        if ids is None:
            return None
        return [t for t in await catalogue_loader(info.context, Track).load_many(ids) if t]

    @protected("User.recentlyPlayed", description="What the user played lately (the user only).")
    async def recently_played(
        self,
        info: SpotifyInfo,
        first: Annotated[int, strawberry.argument(description="How many, 1 to 50.")] = 20,
    ) -> list[PlayedTrack] | None:
        _check_first(first)
        plays: list[Play] | None = await _from_library(
            info, lambda library, account: library.recently_played(account, first)
        )
        if plays is None:
            return None
        tracks = await catalogue_loader(info.context, Track).load_many([play.track_id for play in plays])
        return [
            PlayedTrack(played_at=play.played_at, track=track)
            for play, track in zip(plays, tracks, strict=True)
            if track
        ]


def _playlist_connection(page: PlaylistPage, offset: int) -> Connection[Playlist]:
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
