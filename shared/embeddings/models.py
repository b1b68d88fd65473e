"""The platform table of computed embeddings, shared by every subgraph that embeds text."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

from shared.db.mixins import UTCDateTime, utcnow


class CachedEmbedding(SQLModel, table=True):
    """One text's vector under one model: float32 little-endian bytes."""

    __tablename__ = "embedding_cache"

    model_version: str = Field(primary_key=True, max_length=64)
    content_hash: str = Field(primary_key=True, max_length=64)
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
