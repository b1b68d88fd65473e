"""Playlists made on the platform: create, change details, add, remove, reorder. Every change bumps the
version; the snapshot id a client holds names a version, and a stale one gets CONFLICT."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

from shared.auth.principal import Principal, acting_user
from shared.context import RequestContext
from shared.db import new_id
from shared.errors import BadUserInput, Conflict
from shared.mutations import UnitOfWork
from subgraphs.spotify import domain_events as de
from subgraphs.spotify.loaders import object_loader
from subgraphs.spotify.models import EditablePlaylist
from subgraphs.spotify.repository import (
    PlaylistRepository,
)

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
    tenant_id, user_id = acting_user(principal)
    _check_description(description)
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


def _check_description(description: str | None) -> str | None:
    if description is not None and len(description) > 300:
        raise BadUserInput("Description has at most 300 characters", field="description")
    return description


async def _versioned_update(
    uow: UnitOfWork,
    repo: PlaylistRepository,
    playlist: EditablePlaylist,
    snapshot_id: str | None,
    changes: dict[str, object],
) -> None:
    """Applies `changes` if the playlist is still at `snapshot_id` (CONFLICT otherwise) and
    bumps its version; `playlist` is refreshed to the new state."""
    expected = playlist.version if snapshot_id is None else _version_in(snapshot_id, playlist)
    if expected != playlist.version:
        raise Conflict("The playlist changed since that snapshot", currentSnapshotId=snapshot_of(playlist))
    await repo.update_versioned(playlist.id, expected, **changes)
    await uow.session.refresh(playlist)


@dataclass(frozen=True)
class Details:
    """New details of a playlist; None leaves one as it is (an empty description clears it)."""

    playlist_id: str
    name: str | None = None
    description: str | None = None
    public: bool | None = None
    snapshot_id: str | None = None


async def change_details(uow: UnitOfWork, principal: Principal, details: Details) -> EditablePlaylist:
    """Spotify's "change playlist details": name, description, visibility."""
    changes: dict[str, object] = {}
    if details.name is not None:
        changes["name"] = _check_name(details.name)
    if details.description is not None:
        changes["description"] = _check_description(details.description) or None
    if details.public is not None:
        changes["public"] = details.public
    if not changes:
        raise BadUserInput("Give a name, a description or a visibility to change", field="input")
    repo, playlist = await _editable(uow, principal, details.playlist_id)
    await _versioned_update(uow, repo, playlist, details.snapshot_id, changes)
    uow.emit(
        de.PlaylistDetailsChanged(
            tenant_id=playlist.tenant_id,
            actor_id=principal.user_id,
            playlist_id=playlist.id,
            owner_id=playlist.owner_id,
            name=playlist.name,
            description=playlist.description,
            public=playlist.public,
            version=playlist.version,
            changed=sorted(changes),
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
    await _versioned_update(uow, repo, playlist, snapshot_id, {"track_ids": track_ids})
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
    tenant_id, _ = acting_user(principal)
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


@dataclass(frozen=True)
class Move:
    """Spotify's semantics: move `range_length` tracks from `range_start` to before
    `insert_before` (positions in the list as it was), if the playlist is at `snapshot_id`."""

    playlist_id: str
    range_start: int
    range_length: int
    insert_before: int
    snapshot_id: str


async def reorder(uow: UnitOfWork, principal: Principal, move: Move) -> EditablePlaylist:
    repo, current = await _editable(uow, principal, move.playlist_id)
    range_start, range_length, insert_before = move.range_start, move.range_length, move.insert_before
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
    return await _change(uow, principal, repo, current, move.snapshot_id, changed, "reordered")
