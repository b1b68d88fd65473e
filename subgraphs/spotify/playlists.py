"""Playlists made on the platform: create, add, remove, reorder. Every change bumps the
version; the snapshot id a client holds names a version, and a stale one gets CONFLICT."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.principal import Principal
from shared.db import TenantRepository, new_id
from shared.domain_events import emit
from shared.errors import BadUserInput, Conflict
from subgraphs.spotify import domain_events as de
from subgraphs.spotify.models import EditablePlaylist

MAX_TRACKS = 10_000
MAX_TRACKS_PER_CHANGE = 100
PREFIX = "plst_"


class PlaylistRepository(TenantRepository[EditablePlaylist]):
    model = EditablePlaylist


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


async def create(
    session: AsyncSession, principal: Principal, name: str, description: str | None, public: bool
) -> EditablePlaylist:
    assert principal.tenant_id and principal.user_id
    if description is not None and len(description) > 300:
        raise BadUserInput("Description has at most 300 characters", field="description")
    playlist = EditablePlaylist(
        id=new_id("plst"),
        tenant_id=principal.tenant_id,
        owner_id=principal.user_id,
        name=_check_name(name),
        description=description,
        public=public,
        track_ids=[],
    )
    PlaylistRepository(session, principal.tenant_id).add(playlist)
    await session.flush()
    emit(
        session,
        de.PlaylistCreated(
            tenant_id=playlist.tenant_id,
            actor_id=principal.user_id,
            playlist_id=playlist.id,
            owner_id=playlist.owner_id,
            name=playlist.name,
            description=playlist.description,
            public=playlist.public,
            version=playlist.version,
        ),
    )
    return playlist


async def _change(
    session: AsyncSession,
    principal: Principal,
    playlist_id: str,
    snapshot_id: str | None,
    track_ids: list[str],
    change: str,
) -> EditablePlaylist:
    assert principal.tenant_id
    repo = PlaylistRepository(session, principal.tenant_id)
    playlist = await repo.require(playlist_id)
    expected = playlist.version if snapshot_id is None else _version_in(snapshot_id, playlist)
    if expected != playlist.version:
        raise Conflict("The playlist changed since that snapshot", currentSnapshotId=snapshot_of(playlist))
    await repo.update_versioned(playlist.id, expected, track_ids=track_ids)
    await session.refresh(playlist)
    emit(
        session,
        de.PlaylistChanged(
            tenant_id=playlist.tenant_id,
            actor_id=principal.user_id,
            playlist_id=playlist.id,
            change=change,
            version=playlist.version,
            track_ids=list(playlist.track_ids),
            public=playlist.public,
        ),
    )
    return playlist


async def add_tracks(
    session: AsyncSession,
    principal: Principal,
    playlist_id: str,
    track_ids: list[str],
    position: int | None,
    snapshot_id: str | None,
) -> EditablePlaylist:
    _check_batch(track_ids)
    assert principal.tenant_id
    current = await PlaylistRepository(session, principal.tenant_id).require(playlist_id)
    tracks = list(current.track_ids)
    if len(tracks) + len(track_ids) > MAX_TRACKS:
        raise BadUserInput(f"A playlist holds at most {MAX_TRACKS} tracks", field="trackIds")
    at = len(tracks) if position is None else position
    if not 0 <= at <= len(tracks):
        raise BadUserInput("Position is outside the playlist", field="position")
    changed = tracks[:at] + track_ids + tracks[at:]
    return await _change(session, principal, playlist_id, snapshot_id, changed, "tracks_added")


async def remove_tracks(
    session: AsyncSession,
    principal: Principal,
    playlist_id: str,
    track_ids: list[str],
    snapshot_id: str | None,
) -> EditablePlaylist:
    _check_batch(track_ids)
    assert principal.tenant_id
    current = await PlaylistRepository(session, principal.tenant_id).require(playlist_id)
    missing = sorted(set(track_ids) - set(current.track_ids))
    if missing:
        raise BadUserInput("Some tracks are not in the playlist", field="trackIds", missing=missing)
    gone = set(track_ids)
    kept = [t for t in current.track_ids if t not in gone]
    return await _change(session, principal, playlist_id, snapshot_id, kept, "tracks_removed")


async def reorder(
    session: AsyncSession,
    principal: Principal,
    playlist_id: str,
    range_start: int,
    range_length: int,
    insert_before: int,
    snapshot_id: str,
) -> EditablePlaylist:
    """Spotify's semantics: move `range_length` tracks from `range_start` to before
    `insert_before` (positions in the list as it was)."""
    assert principal.tenant_id
    current = await PlaylistRepository(session, principal.tenant_id).require(playlist_id)
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
    return await _change(session, principal, playlist_id, snapshot_id, changed, "reordered")
