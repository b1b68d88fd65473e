"""The caller's own Spotify data: their linked account and, through it, their library."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from shared.context import RequestContext
from shared.errors import BadUserInput
from subgraphs.spotify.catalogue.library import (
    LinkedAccount,
    Play,
    PlaylistPage,
    SpotifyTokenRejected,
)
from subgraphs.spotify.loaders import linked_account
from subgraphs.spotify.service.pages import decode_offset

T = TypeVar("T")


MAX_ME_PAGE = 50


def _check_first(first: int, limit: int = MAX_ME_PAGE) -> None:
    if not 1 <= first <= limit:
        raise BadUserInput(f"first must be between 1 and {limit}", field="first")


async def spotify_account(context: RequestContext) -> LinkedAccount | None:
    return await linked_account(context)


async def with_linked_account(
    context: RequestContext, call: Callable[[LinkedAccount], Awaitable[T]]
) -> T | None:
    """Runs `call` with the caller's linked account (None when there is none); when Spotify
    refuses the access token, gets a fresh one from accounts and tries once more."""
    account = await linked_account(context)
    if account is None:
        return None
    try:
        return await call(account)
    except SpotifyTokenRejected:
        if account.offline:
            raise
    account = await linked_account(context, refresh=True)
    return None if account is None else await call(account)


async def _from_library(
    context: RequestContext, read: Callable[[Any, LinkedAccount], Awaitable[T]]
) -> T | None:
    """`read(library, account)` on the caller's linked account (None without one), with the
    token renewed once if Spotify refuses it."""
    services = context.runtime.services

    def call(account: LinkedAccount) -> Awaitable[T]:
        return read(services.offline_library if account.offline else services.live_library, account)

    return await with_linked_account(context, call)


async def my_playlists(
    context: RequestContext, first: int, after: str | None
) -> tuple[int, PlaylistPage] | None:
    """The offset the page starts at (`after` decoded), and the page."""
    _check_first(first)
    offset = decode_offset(after)
    page = await _from_library(context, lambda library, account: library.playlists(account, offset, first))
    return None if page is None else (offset, page)


async def my_top_tracks(context: RequestContext, first: int) -> list[str] | None:
    _check_first(first)
    return await _from_library(context, lambda library, account: library.top_tracks(account, first))


async def my_recent_plays(context: RequestContext, first: int) -> list[Play] | None:
    _check_first(first)
    return await _from_library(context, lambda library, account: library.recently_played(account, first))
