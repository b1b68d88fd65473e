"""Mutations on playlists made on the platform."""

from __future__ import annotations

from typing import Annotated

import strawberry

from shared.mutations import unit_of_work
from subgraphs.spotify.service import playlists
from subgraphs.spotify.types import Playlist, SpotifyInfo


@strawberry.input(description="A new playlist of your tenant.")
class CreatePlaylistInput:
    name: str = strawberry.field(description="The playlist's name, 1 to 100 characters.")
    description: str | None = strawberry.field(
        default=None, description="Optional description, up to 300 characters."
    )
    public: bool = strawberry.field(default=False, description="Whether the playlist is meant to be public.")


@strawberry.input(description="New details of a platform playlist; leave out what stays.")
class ChangePlaylistDetailsInput:
    playlist_id: strawberry.ID = strawberry.field(description="Platform playlist id (`plst_…`).")
    name: str | None = strawberry.field(default=None, description="New name, 1 to 100 characters.")
    description: str | None = strawberry.field(
        default=None, description="New description, up to 300 characters; an empty string clears it."
    )
    public: bool | None = strawberry.field(default=None, description="New visibility.")
    snapshot_id: str | None = strawberry.field(
        default=None, description="Refuse with CONFLICT if the playlist moved on; null skips the check."
    )

    def details(self) -> playlists.Details:
        return playlists.Details(
            str(self.playlist_id), self.name, self.description, self.public, self.snapshot_id
        )


@strawberry.input(description="Tracks to add to one of your platform playlists.")
class AddTracksToPlaylistInput:
    playlist_id: strawberry.ID = strawberry.field(description="Platform playlist id (`plst_…`).")
    track_ids: list[strawberry.ID] = strawberry.field(
        description="Spotify track ids (base-62), 1 to 100; unknown ids are BAD_USER_INPUT."
    )
    position: int | None = strawberry.field(default=None, description="Where to insert; default: the end.")
    snapshot_id: str | None = strawberry.field(
        default=None, description="Refuse with CONFLICT if the playlist moved on."
    )


@strawberry.input(description="Tracks to remove from one of your platform playlists.")
class RemoveTracksFromPlaylistInput:
    playlist_id: strawberry.ID = strawberry.field(description="Platform playlist id (`plst_…`).")
    track_ids: list[strawberry.ID] = strawberry.field(
        description="Spotify track ids (base-62), 1 to 100, all in the playlist."
    )
    snapshot_id: str | None = strawberry.field(
        default=None, description="Refuse with CONFLICT if the playlist moved on; null skips the check."
    )


@strawberry.input(description="A range of tracks to move (positions count from 0, as in Spotify's API).")
class ReorderPlaylistInput:
    playlist_id: strawberry.ID = strawberry.field(description="Platform playlist id (`plst_…`).")
    range_start: int = strawberry.field(description="Position of the first track to move.")
    insert_before: int = strawberry.field(
        description="Position the range moves before, counted before the move."
    )
    snapshot_id: str = strawberry.field(
        description="The `snapshotId` you saw; a stale one is refused with CONFLICT."
    )
    range_length: int = strawberry.field(default=1, description="How many consecutive tracks to move.")

    def move(self) -> playlists.Move:
        return playlists.Move(
            str(self.playlist_id), self.range_start, self.range_length, self.insert_before, self.snapshot_id
        )

    def audit(self) -> dict[str, object]:
        return {
            "playlistId": self.playlist_id,
            "rangeStart": self.range_start,
            "insertBefore": self.insert_before,
        }


@strawberry.type(description="The playlist after the change.")
class PlaylistPayload:
    playlist: Playlist = strawberry.field(description="The playlist, with its new `snapshotId`.")


@strawberry.type
class PlaylistMutation:
    @strawberry.mutation(description="Make a playlist on the platform.")
    async def create_playlist(
        self,
        info: SpotifyInfo,
        input: Annotated[
            CreatePlaylistInput, strawberry.argument(description="Name, description and visibility.")
        ],
    ) -> PlaylistPayload:
        principal = info.context.principal
        async with unit_of_work(info, {"name": input.name}) as uow:
            row = await playlists.create_playlist(uow, principal, input.name, input.description, input.public)
        return PlaylistPayload(playlist=Playlist.from_row(row))

    @strawberry.mutation(description="Change a playlist's name, description or visibility.")
    async def change_playlist_details(
        self,
        info: SpotifyInfo,
        input: Annotated[
            ChangePlaylistDetailsInput, strawberry.argument(description="The playlist and what changes.")
        ],
    ) -> PlaylistPayload:
        async with unit_of_work(info, {"playlistId": input.playlist_id}) as uow:
            row = await playlists.change_details(uow, info.context.principal, input.details())
        return PlaylistPayload(playlist=Playlist.from_row(row))

    @strawberry.mutation(description="Add tracks (up to 100) at a position.")
    async def add_tracks_to_playlist(
        self,
        info: SpotifyInfo,
        input: Annotated[
            AddTracksToPlaylistInput, strawberry.argument(description="The playlist and the tracks to add.")
        ],
    ) -> PlaylistPayload:
        ids = await playlists.known_tracks(info.context, [str(id) for id in input.track_ids])
        playlist_id, principal = str(input.playlist_id), info.context.principal
        async with unit_of_work(info, {"playlistId": input.playlist_id, "tracks": len(ids)}) as uow:
            row = await playlists.add_tracks(
                uow, principal, playlist_id, ids, input.position, input.snapshot_id
            )
        return PlaylistPayload(playlist=Playlist.from_row(row))

    @strawberry.mutation(description="Remove every occurrence of the given tracks.")
    async def remove_tracks_from_playlist(
        self,
        info: SpotifyInfo,
        input: Annotated[
            RemoveTracksFromPlaylistInput,
            strawberry.argument(description="The playlist and the tracks to remove."),
        ],
    ) -> PlaylistPayload:
        playlist_id, ids = str(input.playlist_id), [str(t) for t in input.track_ids]
        async with unit_of_work(info, {"playlistId": input.playlist_id, "tracks": len(ids)}) as uow:
            row = await playlists.remove_tracks(
                uow, info.context.principal, playlist_id, ids, input.snapshot_id
            )
        return PlaylistPayload(playlist=Playlist.from_row(row))

    @strawberry.mutation(description="Move a range of tracks; needs the snapshot id you saw.")
    async def reorder_playlist(
        self,
        info: SpotifyInfo,
        input: Annotated[
            ReorderPlaylistInput, strawberry.argument(description="The playlist and the range to move.")
        ],
    ) -> PlaylistPayload:
        async with unit_of_work(info, input.audit()) as uow:
            row = await playlists.reorder(uow, info.context.principal, input.move())
        return PlaylistPayload(playlist=Playlist.from_row(row))
