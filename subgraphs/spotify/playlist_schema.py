"""Mutations on playlists made on the platform."""

from __future__ import annotations

import strawberry

from shared.errors import BadUserInput
from shared.mutations import unit_of_work
from subgraphs.spotify import playlists
from subgraphs.spotify.loaders import catalogue_loader
from subgraphs.spotify.types import Playlist, SpotifyInfo, Track


@strawberry.input
class CreatePlaylistInput:
    name: str
    description: str | None = None
    public: bool = False


@strawberry.input
class AddTracksToPlaylistInput:
    playlist_id: strawberry.ID
    track_ids: list[strawberry.ID]
    position: int | None = strawberry.field(default=None, description="Where to insert; default: the end.")
    snapshot_id: str | None = strawberry.field(
        default=None, description="Refuse with CONFLICT if the playlist moved on."
    )


@strawberry.input
class RemoveTracksFromPlaylistInput:
    playlist_id: strawberry.ID
    track_ids: list[strawberry.ID]
    snapshot_id: str | None = None


@strawberry.input
class ReorderPlaylistInput:
    playlist_id: strawberry.ID
    range_start: int
    insert_before: int
    snapshot_id: str
    range_length: int = 1


@strawberry.type
class PlaylistPayload:
    playlist: Playlist


async def _known_tracks(info: SpotifyInfo, track_ids: list[strawberry.ID]) -> list[str]:
    ids = [str(id) for id in track_ids]
    found = await catalogue_loader(info.context, Track).load_many(ids)
    unknown = sorted({id for id, track in zip(ids, found, strict=True) if track is None})
    if unknown:
        raise BadUserInput("Unknown track ids", field="trackIds", unknown=unknown)
    return ids


@strawberry.type
class PlaylistMutation:
    @strawberry.mutation(description="Make a playlist on the platform.")
    async def create_playlist(self, info: SpotifyInfo, input: CreatePlaylistInput) -> PlaylistPayload:
        async with unit_of_work(info.context, "createPlaylist", {"name": input.name}) as uow:
            row = await playlists.create(
                uow.session, info.context.principal, input.name, input.description, input.public
            )
            uow.target_id = row.id
        return PlaylistPayload(playlist=Playlist.from_row(row))

    @strawberry.mutation(description="Add tracks (up to 100) at a position.")
    async def add_tracks_to_playlist(
        self, info: SpotifyInfo, input: AddTracksToPlaylistInput
    ) -> PlaylistPayload:
        ids = await _known_tracks(info, input.track_ids)
        audit = {"playlistId": input.playlist_id, "tracks": len(ids)}
        async with unit_of_work(info.context, "addTracksToPlaylist", audit) as uow:
            uow.target_id = str(input.playlist_id)
            row = await playlists.add_tracks(
                uow.session,
                info.context.principal,
                str(input.playlist_id),
                ids,
                input.position,
                input.snapshot_id,
            )
        return PlaylistPayload(playlist=Playlist.from_row(row))

    @strawberry.mutation(description="Remove every occurrence of the given tracks.")
    async def remove_tracks_from_playlist(
        self, info: SpotifyInfo, input: RemoveTracksFromPlaylistInput
    ) -> PlaylistPayload:
        audit = {"playlistId": input.playlist_id, "tracks": len(input.track_ids)}
        async with unit_of_work(info.context, "removeTracksFromPlaylist", audit) as uow:
            uow.target_id = str(input.playlist_id)
            row = await playlists.remove_tracks(
                uow.session,
                info.context.principal,
                str(input.playlist_id),
                [str(t) for t in input.track_ids],
                input.snapshot_id,
            )
        return PlaylistPayload(playlist=Playlist.from_row(row))

    @strawberry.mutation(description="Move a range of tracks; needs the snapshot id you saw.")
    async def reorder_playlist(self, info: SpotifyInfo, input: ReorderPlaylistInput) -> PlaylistPayload:
        audit = {
            "playlistId": input.playlist_id,
            "rangeStart": input.range_start,
            "insertBefore": input.insert_before,
        }
        async with unit_of_work(info.context, "reorderPlaylist", audit) as uow:
            uow.target_id = str(input.playlist_id)
            row = await playlists.reorder(
                uow.session,
                info.context.principal,
                str(input.playlist_id),
                input.range_start,
                input.range_length,
                input.insert_before,
                input.snapshot_id,
            )
        return PlaylistPayload(playlist=Playlist.from_row(row))
