from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.db.mixins import UTCDateTime, utcnow


class CatalogObject(SQLModel, table=True):
    """The offline catalogue, seeded from the bundled sample: raw Web API objects by kind
    and id. It is shared reference data, like Spotify's own catalogue: no tenant."""

    __tablename__ = "spotify_catalog_object"
    __table_args__ = (UniqueConstraint("kind", "id", name="uq_spotify_catalog_object_kind_id"),)

    pk: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    id: str = Field(max_length=64)
    data: dict = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    seeded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CatalogLink(SQLModel, table=True):
    """Ordered relations of the offline catalogue (an artist's albums, an album's tracks…),
    so a page is one indexed query."""

    __tablename__ = "spotify_catalog_link"

    pk: int | None = Field(default=None, primary_key=True)
    relation: str = Field(max_length=24)
    source_id: str = Field(max_length=64)
    target_id: str = Field(max_length=64)
    rank: int

    __table_args__ = (UniqueConstraint("relation", "source_id", "rank", name="uq_spotify_catalog_link_rank"),)
