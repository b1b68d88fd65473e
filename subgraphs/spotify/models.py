from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.db.mixins import (
    SoftDeleteMixin,
    TenantMixin,
    TimestampMixin,
    UTCDateTime,
    VersionMixin,
    utcnow,
)


class CatalogueObject(SQLModel, table=True):
    """The offline catalogue, seeded from the bundled sample: raw Web API objects by kind
    and id. It is shared reference data, like Spotify's own catalogue: no tenant."""

    __tablename__ = "spotify_catalog_object"
    __table_args__ = (UniqueConstraint("kind", "id", name="uq_spotify_catalog_object_kind_id"),)

    pk: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    id: str = Field(max_length=64)
    data: dict = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    seeded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CatalogueLink(SQLModel, table=True):
    """Ordered relations of the offline catalogue (an artist's albums, an album's tracks…),
    so a page is one indexed query."""

    __tablename__ = "spotify_catalog_link"

    pk: int | None = Field(default=None, primary_key=True)
    relation: str = Field(max_length=24)
    source_id: str = Field(max_length=64)
    target_id: str = Field(max_length=64)
    rank: int

    __table_args__ = (UniqueConstraint("relation", "source_id", "rank", name="uq_spotify_catalog_link_rank"),)


class StreamEvent(TenantMixin, table=True):
    """One play of a track by a user, kept for analytics. Ingestion is idempotent on
    (user, track, played_at): re-importing the same history adds nothing."""

    __tablename__ = "spotify_stream_event"
    __table_args__ = (
        UniqueConstraint("user_id", "track_id", "played_at", name="uq_spotify_stream_event_play"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=64, index=True)
    track_id: str = Field(max_length=64)
    played_at: datetime = Field(sa_type=UTCDateTime)
    context_uri: str | None = Field(default=None, max_length=255)
    country: str | None = Field(default=None, max_length=8)
    device: str | None = Field(default=None, max_length=64)
    ms_played: int | None = None
    """None: the source does not say (Spotify's recently played lists streams, >= 30 s)."""
    source: str | None = Field(default=None, max_length=32)
    """Source of stream (Spotify for Artists' names: `user_playlist`, `radio`, ...)."""


class LibraryPlaylist(TenantMixin, TimestampMixin, table=True):
    """A playlist imported from the user's linked Spotify account by a library sync."""

    __tablename__ = "spotify_library_playlist"
    __table_args__ = (
        UniqueConstraint("user_id", "spotify_playlist_id", name="uq_spotify_library_playlist_user"),
    )

    id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(max_length=64, index=True)
    spotify_playlist_id: str = Field(max_length=64)
    name: str = Field(max_length=255)
    snapshot_id: str | None = Field(default=None, max_length=128)
    track_count: int = 0


class EditablePlaylist(TenantMixin, TimestampMixin, VersionMixin, SoftDeleteMixin, table=True):
    """A playlist made on the platform (a draft a team edits together). Its track list is
    an ordered JSON array of Spotify track ids; `version` backs the snapshot id."""

    __tablename__ = "spotify_editable_playlist"

    id: str = Field(primary_key=True, max_length=64)
    owner_id: str = Field(max_length=64, index=True)
    name: str = Field(max_length=100)
    description: str | None = Field(default=None, max_length=300)
    public: bool = False
    track_ids: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]


class PlaylistCoverArt(TenantMixin, table=True):
    """The cover art a tenant chose for a playlist (Spotify's or one made here): a storage
    asset id, joined to the `Asset` entity by the router."""

    __tablename__ = "spotify_playlist_cover_art"

    tenant_id: str = Field(primary_key=True, max_length=64)
    playlist_id: str = Field(primary_key=True, max_length=64)
    asset_id: str = Field(max_length=64)
    set_by: str = Field(max_length=64)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ArtistPressKitItem(TenantMixin, table=True):
    """One asset of a tenant's press kit for an artist, in order."""

    __tablename__ = "spotify_artist_press_kit"
    __table_args__ = (
        UniqueConstraint("tenant_id", "artist_id", "asset_id", name="uq_spotify_press_kit_asset"),
    )

    tenant_id: str = Field(primary_key=True, max_length=64)
    artist_id: str = Field(primary_key=True, max_length=64)
    rank: int = Field(primary_key=True)
    asset_id: str = Field(max_length=64)
