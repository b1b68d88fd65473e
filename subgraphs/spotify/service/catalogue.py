"""Reading the catalogue: pages of Spotify's objects (ids; the objects go through the
loaders) and playlists, Spotify's or made on the platform."""

from __future__ import annotations

from collections.abc import Sequence

from shared.context import RequestContext
from shared.errors import BadUserInput, NotFound
from subgraphs.spotify.catalogue import ARTISTS_PER_CALL, Page, SpotifyCatalogue, SpotifyObject
from subgraphs.spotify.loaders import object_loader
from subgraphs.spotify.models import EditablePlaylist
from subgraphs.spotify.repository import (
    PlaylistRepository,
)

PLAYLIST_ITEMS_PER_CALL = 100
PLAYLIST_PREFIX = "plst_"


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
