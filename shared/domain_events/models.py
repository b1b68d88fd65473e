"""Platform tables of domain events: the outbox (rows written with the change, appended to
the domain's stream after commit) and the per-consumer record of events already applied."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from shared.db.mixins import UTCDateTime, utcnow


class OutboxEvent(SQLModel, table=True):
    __tablename__ = "event_outbox"
    __table_args__ = (Index("ix_event_outbox_unpublished", "published_at", "created_at"),)

    id: str = Field(primary_key=True, max_length=64)
    type: str = Field(max_length=128)
    version: int
    tenant_id: str | None = Field(default=None, max_length=64)
    actor_id: str | None = Field(default=None, max_length=64)
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    payload: dict = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """Set once the event is on its stream; NULL rows are the repair job's work."""


class ProcessedEvent(SQLModel, table=True):
    """An event a consumer has applied: recorded in the handler's own transaction."""

    __tablename__ = "event_processed"

    consumer: str = Field(primary_key=True, max_length=128)
    event_id: str = Field(primary_key=True, max_length=64)
    processed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
