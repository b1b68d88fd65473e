"""The rules of the spotify domain: plain functions over the request context (reads) or a
unit of work (writes); they raise domain errors and know nothing of GraphQL.

Sub-domains: the catalogue (pages of Spotify's objects), platform playlists (versioned, a
snapshot id names a version), artwork (cover art and press kits: storage asset ids), the
caller's own Spotify data (`me`), the library sync (a job, and what it imports)."""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import asdict
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from shared import jobs
from shared.auth.principal import Principal
from shared.context import RequestContext
from shared.crypto import load_secret_box
from shared.db import new_id, utcnow
from shared.domain_events import emit
from shared.errors import BadUserInput, Conflict, Forbidden, NotFound, Unauthenticated, Unavailable
from shared.mutations import UnitOfWork
from subgraphs.spotify import domain_events as de
from subgraphs.spotify.catalogue import ARTISTS_PER_CALL, Page, SpotifyCatalogue, SpotifyObject
from subgraphs.spotify.catalogue.library import (
    LinkedAccount,
    Play,
    PlaylistPage,
    SpotifyTokenRejected,
)
from subgraphs.spotify.loaders import cover_art_loader, linked_account, object_loader, press_kit_loader
from subgraphs.spotify.models import EditablePlaylist, LibraryPlaylist
from subgraphs.spotify.repository import (
    CoverArtRepository,
    LibraryPlaylistRepository,
    PlaylistRepository,
    PlayRepository,
    PressKitRepository,
)

T = TypeVar("T")

# ── pages: offset cursors and page sizes ──────────────────────────────────────────────


def offset_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def decode_offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        if raw.startswith("o:") and int(raw[2:]) >= 0:
            return int(raw[2:]) + 1
    except (ValueError, UnicodeDecodeError):
        pass
    raise BadUserInput("Invalid cursor", field="after")


def check_page_size(first: int, limit: int) -> None:
    if not 1 <= first <= limit:
        raise BadUserInput(f"first must be between 1 and {limit}", field="first", limit=limit)


# ── the catalogue ──────────────────────────────────────────────────────────────────────

PLAYLIST_ITEMS_PER_CALL = 100
PLAYLIST_PREFIX = "plst_"


def catalogue(context: RequestContext) -> SpotifyCatalogue:
    source: SpotifyCatalogue = context.runtime.services.catalogue
    return source


def artist_ids(ids: Sequence[str]) -> list[str]:
    """A batch of artist ids, within the Web API's limit."""
    if len(ids) > ARTISTS_PER_CALL:
        raise BadUserInput(f"At most {ARTISTS_PER_CALL} ids", field="ids", limit=ARTISTS_PER_CALL)
    return list(ids)


async def artist_albums(context: RequestContext, artist_id: str, offset: int, limit: int) -> Page:
    return await catalogue(context).artist_albums(artist_id, offset, limit)


async def artist_top_tracks(context: RequestContext, artist_id: str) -> list[str]:
    return await catalogue(context).artist_top_tracks(artist_id)


async def album_tracks(context: RequestContext, album_id: str, offset: int, limit: int) -> Page:
    return await catalogue(context).album_tracks(album_id, offset, limit)


async def playlist_tracks(
    context: RequestContext, playlist_id: str, track_ids: list[str] | None, offset: int, limit: int
) -> Page:
    """A page of a playlist's track ids: a platform playlist's from its own list
    (`track_ids`), a catalogue playlist's from Spotify."""
    if track_ids is not None:
        return Page(track_ids[offset : offset + limit], len(track_ids))
    source = catalogue(context)
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
    return await catalogue(context).playlist(id)


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


# ── platform playlists ─────────────────────────────────────────────────────────────────

MAX_TRACKS = 10_000
MAX_TRACKS_PER_CHANGE = 100


def snapshot_of(playlist: EditablePlaylist) -> str:
    return base64.urlsafe_b64encode(f"{playlist.id}:{playlist.version}".encode()).decode().rstrip("=")


def _version_in(snapshot_id: str, playlist: EditablePlaylist) -> int:
    try:
        raw = base64.urlsafe_b64decode(snapshot_id + "=" * (-len(snapshot_id) % 4)).decode()
        playlist_id, version = raw.rsplit(":", 1)
        if playlist_id == playlist.id:
            return int(version)
    except (ValueError, UnicodeDecodeError):
        pass
    raise BadUserInput("Invalid snapshot id", field="snapshotId")


def _check_name(name: str) -> str:
    if not 1 <= len(name.strip()) <= 100:
        raise BadUserInput("Name must have 1 to 100 characters", field="name")
    return name.strip()


def _check_batch(track_ids: Sequence[str]) -> None:
    if not 1 <= len(track_ids) <= MAX_TRACKS_PER_CHANGE:
        raise BadUserInput(f"Give 1 to {MAX_TRACKS_PER_CHANGE} tracks per change", field="trackIds")


def _tenant_user(principal: Principal) -> tuple[str, str]:
    """(tenant id, user id) of a user, or of a user's API key, in a tenant."""
    if not principal.is_authenticated:
        raise Unauthenticated("Authentication required")
    if not principal.tenant_id or not principal.user_id:
        raise Forbidden("A user of a tenant is required")
    return principal.tenant_id, principal.user_id


def _tenant_actor(principal: Principal) -> tuple[str, str]:
    """(tenant id, who acts) for a write a member of a tenant may make, user or API key."""
    if not principal.is_authenticated:
        raise Unauthenticated("Authentication required")
    actor = principal.user_id or principal.api_key_id
    if not principal.tenant_id or not actor:
        raise Forbidden("A member of a tenant is required")
    return principal.tenant_id, actor


async def known_tracks(context: RequestContext, track_ids: Sequence[str]) -> list[str]:
    """The ids, if every one is a track of the catalogue (BAD_USER_INPUT names the others)."""
    ids = list(track_ids)
    found = await object_loader(context, "track").load_many(ids)
    unknown = sorted({id for id, track in zip(ids, found, strict=True) if track is None})
    if unknown:
        raise BadUserInput("Unknown track ids", field="trackIds", unknown=unknown)
    return ids


async def create_playlist(
    uow: UnitOfWork, principal: Principal, name: str, description: str | None, public: bool
) -> EditablePlaylist:
    tenant_id, user_id = _tenant_user(principal)
    if description is not None and len(description) > 300:
        raise BadUserInput("Description has at most 300 characters", field="description")
    playlist = EditablePlaylist(
        id=new_id("plst"),
        tenant_id=tenant_id,
        owner_id=user_id,
        name=_check_name(name),
        description=description,
        public=public,
        track_ids=[],
    )
    PlaylistRepository(uow.session, tenant_id).add(playlist)
    await uow.session.flush()
    uow.target_id = playlist.id
    uow.emit(
        de.PlaylistCreated(
            tenant_id=playlist.tenant_id,
            actor_id=user_id,
            playlist_id=playlist.id,
            owner_id=playlist.owner_id,
            name=playlist.name,
            description=playlist.description,
            public=playlist.public,
            version=playlist.version,
        )
    )
    return playlist


async def _change(
    uow: UnitOfWork,
    principal: Principal,
    repo: PlaylistRepository,
    playlist: EditablePlaylist,
    snapshot_id: str | None,
    track_ids: list[str],
    change: str,
) -> EditablePlaylist:
    expected = playlist.version if snapshot_id is None else _version_in(snapshot_id, playlist)
    if expected != playlist.version:
        raise Conflict("The playlist changed since that snapshot", currentSnapshotId=snapshot_of(playlist))
    await repo.update_versioned(playlist.id, expected, track_ids=track_ids)
    await uow.session.refresh(playlist)
    uow.emit(
        de.PlaylistChanged(
            tenant_id=playlist.tenant_id,
            actor_id=principal.user_id,
            playlist_id=playlist.id,
            change=change,
            version=playlist.version,
            track_ids=list(playlist.track_ids),
            public=playlist.public,
        )
    )
    return playlist


async def _editable(
    uow: UnitOfWork, principal: Principal, playlist_id: str
) -> tuple[PlaylistRepository, EditablePlaylist]:
    tenant_id, _ = _tenant_actor(principal)
    uow.target_id = playlist_id
    repo = PlaylistRepository(uow.session, tenant_id)
    return repo, await repo.require(playlist_id)


async def add_tracks(
    uow: UnitOfWork,
    principal: Principal,
    playlist_id: str,
    track_ids: list[str],
    position: int | None,
    snapshot_id: str | None,
) -> EditablePlaylist:
    _check_batch(track_ids)
    repo, current = await _editable(uow, principal, playlist_id)
    tracks = list(current.track_ids)
    if len(tracks) + len(track_ids) > MAX_TRACKS:
        raise BadUserInput(f"A playlist holds at most {MAX_TRACKS} tracks", field="trackIds")
    at = len(tracks) if position is None else position
    if not 0 <= at <= len(tracks):
        raise BadUserInput("Position is outside the playlist", field="position")
    changed = tracks[:at] + track_ids + tracks[at:]
    return await _change(uow, principal, repo, current, snapshot_id, changed, "tracks_added")


async def remove_tracks(
    uow: UnitOfWork, principal: Principal, playlist_id: str, track_ids: list[str], snapshot_id: str | None
) -> EditablePlaylist:
    _check_batch(track_ids)
    repo, current = await _editable(uow, principal, playlist_id)
    missing = sorted(set(track_ids) - set(current.track_ids))
    if missing:
        raise BadUserInput("Some tracks are not in the playlist", field="trackIds", missing=missing)
    gone = set(track_ids)
    kept = [t for t in current.track_ids if t not in gone]
    return await _change(uow, principal, repo, current, snapshot_id, kept, "tracks_removed")


async def reorder(
    uow: UnitOfWork,
    principal: Principal,
    playlist_id: str,
    range_start: int,
    range_length: int,
    insert_before: int,
    snapshot_id: str,
) -> EditablePlaylist:
    """Spotify's semantics: move `range_length` tracks from `range_start` to before
    `insert_before` (positions in the list as it was)."""
    repo, current = await _editable(uow, principal, playlist_id)
    tracks = list(current.track_ids)
    if range_length < 1 or range_start < 0 or range_start + range_length > len(tracks):
        raise BadUserInput("The range is outside the playlist", field="rangeStart")
    if not 0 <= insert_before <= len(tracks):
        raise BadUserInput("insertBefore is outside the playlist", field="insertBefore")
    moved = tracks[range_start : range_start + range_length]
    rest = tracks[:range_start] + tracks[range_start + range_length :]
    target = insert_before if insert_before <= range_start else insert_before - range_length
    target = max(0, min(target, len(rest)))
    changed = rest[:target] + moved + rest[target:]
    return await _change(uow, principal, repo, current, snapshot_id, changed, "reordered")


# ── artwork: cover art and press kits (storage asset ids; the router joins `Asset`) ────

ASSET_ID = re.compile(r"^ast_[0-9a-f]{12,40}$")
MAX_PRESS_KIT = 20


def check_asset_id(asset_id: str, field: str) -> str:
    if not ASSET_ID.match(asset_id):
        raise BadUserInput("Not an asset id", field=field, id=asset_id)
    return asset_id


async def cover_art(context: RequestContext, playlist_id: str) -> str | None:
    asset_id: str | None = await cover_art_loader(context).load(playlist_id)
    return asset_id


async def press_kit(context: RequestContext, artist_id: str) -> list[str]:
    asset_ids: list[str] = await press_kit_loader(context).load(artist_id)
    return asset_ids


async def set_cover_art(
    uow: UnitOfWork, principal: Principal, playlist_id: str, asset_id: str | None
) -> None:
    tenant_id, actor = _tenant_actor(principal)
    uow.target_id = playlist_id
    await CoverArtRepository(uow.session, tenant_id).choose(playlist_id, asset_id, set_by=actor)


async def set_press_kit(uow: UnitOfWork, principal: Principal, artist_id: str, asset_ids: list[str]) -> None:
    tenant_id, _ = _tenant_actor(principal)
    uow.target_id = artist_id
    if len(asset_ids) > MAX_PRESS_KIT:
        raise BadUserInput(f"A press kit holds at most {MAX_PRESS_KIT} assets", field="assetIds")
    if len(set(asset_ids)) != len(asset_ids):
        raise BadUserInput("An asset appears twice", field="assetIds")
    await PressKitRepository(uow.session, tenant_id).replace(artist_id, asset_ids)


# ── me: the caller's own Spotify data ──────────────────────────────────────────────────

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


# ── the library sync: started by a mutation, run by the worker (tasks.py) ──────────────

SYNC_JOB_KIND = "spotify.sync_library"
PAYLOAD_TTL_SECONDS = 3600


async def seal_sync_payload(context: RequestContext) -> str:
    """Stores the caller's linked account (with its Spotify token) encrypted in Redis for
    the sync job, and returns its key: arq logs job arguments, and they must hold no secret."""
    _tenant_user(context.principal)
    account = await linked_account(context)
    if account is None:
        raise BadUserInput("Link a Spotify account first", field="spotifyAccount")
    payload_key = f"spotify:sync-payload:{uuid.uuid4().hex}"
    sealed = load_secret_box(context.runtime.settings).encrypt(json.dumps(asdict(account)))
    await context.runtime.redis.set(payload_key, sealed, ex=PAYLOAD_TTL_SECONDS)
    return payload_key


async def start_library_sync(uow: UnitOfWork, context: RequestContext, payload_key: str) -> jobs.JobHandle:
    """Enqueues the sync (or finds the one of this user already running)."""
    tenant_id, user_id = _tenant_user(context.principal)
    queue = context.runtime.services.job_queue
    if queue is None:
        raise Unavailable("The job queue is not connected yet; retry shortly.")
    handle = await jobs.enqueue_once(
        context.runtime.redis,
        queue,
        kind=SYNC_JOB_KIND,
        function="sync_spotify_library",
        owner_id=user_id,
        tenant_id=tenant_id,
        unique_key=f"spotify-sync:{user_id}",
        user_id=user_id,
        payload_key=payload_key,
    )
    uow.target_id = handle.id
    return handle


async def job_progress(
    context: RequestContext, job_id: str, after: str | None
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """(event id, fields) of one of the caller's jobs, from its start or after an event id."""
    redis = context.runtime.redis
    owner = await jobs.owner_of(redis, job_id)
    if owner is None:
        raise NotFound("No such job", id=job_id)
    if owner != (context.principal.user_id, context.principal.tenant_id):
        raise Forbidden("Not your job")
    async for event_id, fields in jobs.follow(redis, job_id, after or "0-0"):
        yield event_id, fields


async def ingest_plays(
    session: AsyncSession, tenant_id: str, user_id: str, plays: Sequence[Play], country: str | None = None
) -> int:
    """Stores plays; ones already stored (same user, track, played_at) are skipped.
    Returns how many were new."""
    if not plays:
        return 0
    repo = PlayRepository(session, tenant_id)
    new = await repo.insert_new(user_id, [(p.track_id, p.played_at) for p in plays], country)
    if new:
        played = [{"track_id": p.track_id, "played_at": p.played_at.isoformat()} for p in plays]
        emit(
            session,
            de.PlaysIngested(tenant_id=tenant_id, user_id=user_id, country=country, new=new, plays=played),
        )
    return new


async def upsert_library_playlist(
    session: AsyncSession, tenant_id: str, user_id: str, playlist: dict[str, Any], track_count: int
) -> LibraryPlaylist:
    repo = LibraryPlaylistRepository(session, tenant_id)
    row = await repo.imported(user_id, playlist["id"]) or LibraryPlaylist(
        id=new_id("lpl"), tenant_id=tenant_id, user_id=user_id, spotify_playlist_id=playlist["id"], name=""
    )
    row.name = playlist["name"]
    row.snapshot_id = playlist.get("snapshot_id")
    row.track_count = track_count
    row.updated_at = utcnow()
    session.add(row)
    emit(
        session,
        de.LibraryPlaylistUpserted(
            tenant_id=tenant_id,
            library_playlist_id=row.id,
            spotify_playlist_id=row.spotify_playlist_id,
            user_id=user_id,
            name=row.name,
            snapshot_id=row.snapshot_id,
            track_count=track_count,
        ),
    )
    return row
