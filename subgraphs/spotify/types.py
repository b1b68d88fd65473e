"""GraphQL types of the spotify subgraph: plain fields copied from the Web API object (or a
row), related objects resolved through the per-request loaders, the rules in service/."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import Annotated, ClassVar

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from shared.context import RequestContext
from shared.jobs import JobHandle
from shared.pagination import Connection, Edge, PageCursor, PageInfo, check_page_size
from shared.schema import described, reference_only
from subgraphs.spotify.catalogue import Page, SpotifyObject
from subgraphs.spotify.catalogue.library import LinkedAccount
from subgraphs.spotify.config import SpotifyServices, SpotifySettings
from subgraphs.spotify.loaders import CatalogueT, catalogue_loader
from subgraphs.spotify.models import EditablePlaylist
from subgraphs.spotify.service import artwork, catalogue, playlists
from subgraphs.spotify.service.pages import decode_offset, offset_cursor

SpotifyInfo = Info[RequestContext[SpotifySettings, SpotifyServices], None]
PLAYLIST_PAGE_LIMIT = 500


@strawberry.federation.type(
    keys=reference_only(), description="A stored file of the storage subgraph, joined by the router."
)
class Asset:
    id: strawberry.ID = strawberry.field(description="Storage asset id (opaque).")

    @classmethod
    def of(cls, asset_id: str) -> Asset:
        return cls(id=strawberry.ID(asset_id))


@strawberry.type(description="An image in one size.")
class Image:
    url: str = strawberry.field(description="Address of the image file on Spotify's CDN.")
    width: int | None = strawberry.field(description="Width in pixels; null when Spotify does not say.")
    height: int | None = strawberry.field(description="Height in pixels; null when Spotify does not say.")


def images(data: SpotifyObject) -> list[Image]:
    return [
        Image(url=i["url"], width=i.get("width"), height=i.get("height")) for i in data.get("images") or []
    ]


async def _load_many(info: SpotifyInfo, type_: type[CatalogueT], ids: Iterable[str]) -> list[CatalogueT]:
    """The objects that exist, in order."""
    return [obj for obj in await catalogue_loader(info.context, type_).load_many(ids) if obj is not None]


async def _connection(
    info: SpotifyInfo, type_: type[CatalogueT], page: Page, offset: int
) -> Connection[CatalogueT]:
    objects = await catalogue_loader(info.context, type_).load_many(page.ids)
    edges = [
        Edge(cursor=offset_cursor(offset + index), node=obj)
        for index, obj in enumerate(objects)
        if obj is not None
    ]
    end = offset + len(page.ids)
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=end < page.total, end_cursor=offset_cursor(end - 1) if page.ids else None
        ),
    )


@strawberry.federation.type(keys=["id"], description="An artist in Spotify's catalogue.")
class Artist:
    spotify_kind: ClassVar[str] = "artist"
    id: strawberry.ID = strawberry.field(description="Spotify artist id (base-62).")
    name: str = strawberry.field(description="The artist's name.")
    genres: list[str] = strawberry.field(
        description="Genres Spotify associates with the artist; may be empty."
    )
    popularity: int = strawberry.field(description="Spotify popularity, 0 (least) to 100 (most popular).")
    followers: int = strawberry.field(description="Number of Spotify followers.")
    uri: str = strawberry.field(
        description="Spotify URI, e.g. `spotify:artist:<id>`, to open in Spotify clients."
    )
    images: list[Image] = strawberry.field(
        description="Artist pictures in several sizes, widest first; may be empty."
    )

    @classmethod
    def from_data(cls, data: SpotifyObject) -> Artist:
        return cls(
            id=strawberry.ID(data["id"]),
            name=data["name"],
            genres=list(data.get("genres") or []),
            popularity=int(data.get("popularity") or 0),
            followers=int((data.get("followers") or {}).get("total") or 0),
            uri=data["uri"],
            images=images(data),
        )

    @classmethod
    async def resolve_reference(cls, info: SpotifyInfo, id: strawberry.ID) -> Artist | None:
        return await catalogue_loader(info.context, cls).load(str(id))

    @classmethod
    async def resolve_references(cls, info: SpotifyInfo, ids: list[str]) -> list[Artist | None]:
        return await catalogue_loader(info.context, cls).load_many(ids)

    @strawberry.field(description="Albums and singles, newest first.")
    async def albums(
        self,
        info: SpotifyInfo,
        first: Annotated[int, strawberry.argument(description="Page size, 1 to 50.")] = 20,
        after: PageCursor = None,
    ) -> Connection[Album]:
        check_page_size(first, 50)
        offset = decode_offset(after)
        page = await catalogue.artist_albums(info.context, str(self.id), offset, first)
        return await _connection(info, Album, page, offset)

    @strawberry.field(description="The artist's most popular tracks (up to 10).")
    async def top_tracks(self, info: SpotifyInfo) -> list[Track]:
        ids = await catalogue.artist_top_tracks(info.context, str(self.id))
        return await _load_many(info, Track, ids)

    @strawberry.field(description="Your team's press kit for the artist (storage assets), in order.")
    async def press_kit(self, info: SpotifyInfo) -> list[Asset]:
        return [Asset.of(id) for id in await artwork.press_kit(info.context, str(self.id))]


@strawberry.federation.type(keys=["id"], description="An album, single or compilation.")
class Album:
    spotify_kind: ClassVar[str] = "album"
    id: strawberry.ID = strawberry.field(description="Spotify album id (base-62).")
    name: str = strawberry.field(description="The album's title.")
    album_type: str = strawberry.field(description="`album`, `single` or `compilation`, as Spotify says.")
    release_date: str = strawberry.field(
        description="Release date as Spotify gives it: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`."
    )
    total_tracks: int = strawberry.field(description="Number of tracks on the album.")
    label: str | None = strawberry.field(description="Record label; null when Spotify does not say.")
    popularity: int | None = strawberry.field(
        description="Spotify popularity, 0 to 100; null when Spotify does not say."
    )
    uri: str = strawberry.field(description="Spotify URI, e.g. `spotify:album:<id>`.")
    images: list[Image] = strawberry.field(
        description="Cover art in several sizes, widest first; may be empty."
    )
    artist_ids: strawberry.Private[list[str]]

    @classmethod
    def from_data(cls, data: SpotifyObject) -> Album:
        return cls(
            id=strawberry.ID(data["id"]),
            name=data["name"],
            album_type=data.get("album_type", "album"),
            release_date=data.get("release_date", ""),
            total_tracks=int(data.get("total_tracks") or 0),
            label=data.get("label"),
            popularity=data.get("popularity"),
            uri=data["uri"],
            images=images(data),
            artist_ids=[artist["id"] for artist in data.get("artists") or []],
        )

    @classmethod
    async def resolve_reference(cls, info: SpotifyInfo, id: strawberry.ID) -> Album | None:
        return await catalogue_loader(info.context, cls).load(str(id))

    @classmethod
    async def resolve_references(cls, info: SpotifyInfo, ids: list[str]) -> list[Album | None]:
        return await catalogue_loader(info.context, cls).load_many(ids)

    @strawberry.field(description="The album's credited artists, in Spotify's order.")
    async def artists(self, info: SpotifyInfo) -> list[Artist]:
        return await _load_many(info, Artist, self.artist_ids)

    @strawberry.field(description="The album's tracks in order.")
    async def tracks(
        self,
        info: SpotifyInfo,
        first: Annotated[int, strawberry.argument(description="Page size, 1 to 50.")] = 50,
        after: PageCursor = None,
    ) -> Connection[Track]:
        check_page_size(first, 50)
        offset = decode_offset(after)
        page = await catalogue.album_tracks(info.context, str(self.id), offset, first)
        return await _connection(info, Track, page, offset)


@strawberry.federation.type(keys=["id"], description="A track.")
class Track:
    spotify_kind: ClassVar[str] = "track"
    id: strawberry.ID = strawberry.field(description="Spotify track id (base-62).")
    name: str = strawberry.field(description="The track's title.")
    duration_ms: int = strawberry.field(description="Length in milliseconds.")
    explicit: bool = strawberry.field(description="True when the track has explicit lyrics.")
    popularity: int = strawberry.field(description="Spotify popularity, 0 (least) to 100 (most popular).")
    track_number: int = strawberry.field(description="Position on its disc, from 1.")
    disc_number: int = strawberry.field(description="Disc of the album it is on, from 1.")
    isrc: str | None = strawberry.field(
        description="International Standard Recording Code; null when Spotify does not have one."
    )
    preview_url: str | None = strawberry.field(
        description="30-second MP3 preview; null when Spotify offers none (often, for new apps)."
    )
    uri: str = strawberry.field(description="Spotify URI, e.g. `spotify:track:<id>`.")
    artist_ids: strawberry.Private[list[str]]
    album_id: strawberry.Private[str | None]

    @classmethod
    def from_data(cls, data: SpotifyObject) -> Track:
        album = data.get("album") or {}
        return cls(
            id=strawberry.ID(data["id"]),
            name=data["name"],
            duration_ms=int(data.get("duration_ms") or 0),
            explicit=bool(data.get("explicit")),
            popularity=int(data.get("popularity") or 0),
            track_number=int(data.get("track_number") or 0),
            disc_number=int(data.get("disc_number") or 1),
            isrc=(data.get("external_ids") or {}).get("isrc"),
            preview_url=data.get("preview_url"),
            uri=data["uri"],
            artist_ids=[artist["id"] for artist in data.get("artists") or []],
            album_id=album.get("id"),
        )

    @classmethod
    async def resolve_reference(cls, info: SpotifyInfo, id: strawberry.ID) -> Track | None:
        return await catalogue_loader(info.context, cls).load(str(id))

    @classmethod
    async def resolve_references(cls, info: SpotifyInfo, ids: list[str]) -> list[Track | None]:
        return await catalogue_loader(info.context, cls).load_many(ids)

    @strawberry.field(description="The track's credited artists, in Spotify's order.")
    async def artists(self, info: SpotifyInfo) -> list[Artist]:
        return await _load_many(info, Artist, self.artist_ids)

    @strawberry.field(description="The album the track is on; null when Spotify does not say.")
    async def album(self, info: SpotifyInfo) -> Album | None:
        if self.album_id is None:
            return None
        return await catalogue_loader(info.context, Album).load(self.album_id)


@strawberry.federation.type(keys=["id"], description="A playlist of Spotify's catalogue.")
class Playlist:
    id: strawberry.ID = strawberry.field(
        description="Spotify playlist id (base-62), or `plst_…` for a playlist made on the platform."
    )
    name: str = strawberry.field(description="The playlist's name.")
    description: str | None = strawberry.field(
        description="The playlist's description; null when it has none."
    )
    public: bool | None = strawberry.field(
        description="True when public on the owner's profile; null when Spotify does not say."
    )
    collaborative: bool = strawberry.field(description="True when other Spotify users may edit it.")
    followers: int = strawberry.field(description="Number of Spotify followers (0 for platform playlists).")
    snapshot_id: str = strawberry.field(
        description="Version of the track list; pass it to edits to refuse them if it changed (CONFLICT)."
    )
    owner_name: str | None = strawberry.field(
        description="Display name of the Spotify owner; null for platform playlists."
    )
    images: list[Image] = strawberry.field(
        description="Spotify's cover images, widest first; empty for platform playlists (see `coverArt`)."
    )
    track_ids: strawberry.Private[list[str] | None] = None
    """Set for a playlist made on the platform; catalogue playlists page from Spotify."""

    @classmethod
    def from_row(cls, row: EditablePlaylist) -> Playlist:
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            description=row.description,
            public=row.public,
            collaborative=False,
            followers=0,
            snapshot_id=playlists.snapshot_of(row),
            owner_name=None,
            images=[],
            track_ids=list(row.track_ids),
        )

    @classmethod
    def from_data(cls, data: SpotifyObject) -> Playlist:
        return cls(
            id=strawberry.ID(data["id"]),
            name=data["name"],
            description=data.get("description"),
            public=data.get("public"),
            collaborative=bool(data.get("collaborative")),
            followers=int((data.get("followers") or {}).get("total") or 0),
            snapshot_id=data.get("snapshot_id", ""),
            owner_name=(data.get("owner") or {}).get("display_name"),
            images=images(data),
        )

    @classmethod
    async def resolve_reference(cls, info: SpotifyInfo, id: strawberry.ID) -> Playlist | None:
        return await cls.load(info, str(id))

    @strawberry.field(description="The playlist's tracks in order (up to 500 per page).")
    async def tracks(
        self,
        info: SpotifyInfo,
        first: Annotated[int, strawberry.argument(description="Page size, 1 to 500.")] = 100,
        after: PageCursor = None,
    ) -> Connection[Track]:
        check_page_size(first, PLAYLIST_PAGE_LIMIT)
        offset = decode_offset(after)
        page = await catalogue.playlist_tracks(info.context, str(self.id), self.track_ids, offset, first)
        return await _connection(info, Track, page, offset)

    @strawberry.field(description="The cover art your team chose (a storage asset).")
    async def cover_art(self, info: SpotifyInfo) -> Asset | None:
        asset_id = await artwork.cover_art(info.context, str(self.id))
        return Asset.of(asset_id) if asset_id else None

    @classmethod
    def of(cls, found: EditablePlaylist | SpotifyObject) -> Playlist:
        return cls.from_row(found) if isinstance(found, EditablePlaylist) else cls.from_data(found)

    @classmethod
    async def load(cls, info: SpotifyInfo, id: str) -> Playlist | None:
        found = await catalogue.playlist(info.context, id)
        return None if found is None else cls.of(found)


@strawberry.enum(description="A kind of object of the Spotify catalogue.")
class CatalogueKind(Enum):
    TRACK = described("track", "Tracks.")
    ARTIST = described("artist", "Artists.")
    ALBUM = described("album", "Albums, singles and compilations.")
    PLAYLIST = described("playlist", "Spotify's playlists (not those made on the platform).")


@strawberry.type(
    description="A page of the catalogue (or of the platform playlists) for platform services, each "
    "item summarised as the domain events summarise it (`spotify.catalogue.upserted`; "
    "`spotify.playlist.created` and `spotify.playlist.details_changed`)."
)
class CatalogueItemPage:
    items: list[JSON] = strawberry.field(
        description="The page's objects in id order, each `{id, name, popularity, ...}`: artists add "
        "`genres`; albums `artists [{id, name}]`, `genres` (their artists'), `year`; tracks also `album "
        "{id, name}` and `explicit`; playlists `description`. Platform playlists "
        "(`platformPlaylistItems`) are `{tenant_id, playlist_id, owner_id, name, description, public, "
        "version}`."
    )
    total_count: int = strawberry.field(
        description="How many objects of this kind the catalogue holds (platform playlists of every "
        "tenant, for `platformPlaylistItems`)."
    )
    page_info: PageInfo = strawberry.field(
        description="Whether more objects follow, and the cursor to ask for them with `after`."
    )


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

    @classmethod
    def of(cls, account: LinkedAccount) -> SpotifyProfile:
        return cls(
            id=account.spotify_user_id,
            display_name=account.display_name,
            country=account.country,
            product=account.product,
            is_sample=account.offline,
        )


@strawberry.type(description="A track the user played, and when.")
class PlayedTrack:
    played_at: datetime = strawberry.field(description="When playback happened (UTC).")
    track: Track = strawberry.field(description="The track played.")


@strawberry.type(description="A background job.")
class Job:
    id: strawberry.ID = strawberry.field(
        description="Job id (opaque); subscribe to `jobProgress(jobId:)` with it."
    )
    kind: str = strawberry.field(description="What the job does, e.g. `spotify.sync_library`.")
    status: str = strawberry.field(description="`QUEUED`, `RUNNING`, `RETRYING`, `COMPLETED` or `FAILED`.")
    already_running: bool = strawberry.field(
        description="True when an equal job was running: this is that job."
    )

    @classmethod
    def of(cls, handle: JobHandle) -> Job:
        return cls(
            id=strawberry.ID(handle.id),
            kind=handle.kind,
            status=handle.status,
            already_running=handle.already_running,
        )


@strawberry.type(description="One step of a job's progress.")
class JobProgress:
    event_id: str = strawberry.field(
        description="Id of this progress event; pass it as `after` to resume from here."
    )
    status: str = strawberry.field(
        description="`QUEUED`, `RUNNING`, `RETRYING`, `COMPLETED` or `FAILED`; the last two end the stream."
    )
    progress: float = strawberry.field(description="Fraction done, 0.0 to 1.0.")
    message: str = strawberry.field(description="Human-readable step, e.g. `playlist 3 of 12`.")
    result: strawberry.scalars.JSON | None = strawberry.field(
        description="Job-specific details (e.g. counts when completed); null when none."
    )

    @classmethod
    def of(cls, event_id: str, fields: dict[str, str]) -> JobProgress:
        data = json.loads(fields.get("data") or "{}")
        return cls(
            event_id=event_id,
            status=fields["status"],
            progress=float(fields["progress"]),
            message=fields["message"],
            result=data or None,
        )
