"""The search subgraph's tables: the documents it projects from other domains' events (the
source the engine is rebuilt from) and the workspace memberships its access filter reads.
Tables start with `search_` (its migration branch)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from shared.db.mixins import UTCDateTime, utcnow


class SearchDocument(SQLModel, table=True):
    """One document as the engine should hold it. `pending` marks a change the indexer has
    not pushed yet (also a deletion: `deleted`); `source_version` is the producer's version,
    so a late, older event never overwrites a newer one. Catalogue documents have no tenant."""

    __tablename__ = "search_document"
    __table_args__ = (Index("ix_search_document_pending", "pending", "changed_at"),)

    key: str = Field(primary_key=True, max_length=96)
    type: str = Field(max_length=16)
    entity_id: str = Field(max_length=64)
    tenant_id: str | None = Field(default=None, max_length=64, index=True)
    workspace_id: str | None = Field(default=None, max_length=64, index=True)
    fields: dict = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    content_hash: str = Field(max_length=64)
    source_version: int = 0
    deleted: bool = False
    pending: bool = True
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    indexed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SearchWorkspaceMember(SQLModel, table=True):
    """Who is in which workspace, from collaboration's member events: a project is found
    by the members of its workspace only."""

    __tablename__ = "search_workspace_member"

    workspace_id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(primary_key=True, max_length=64, index=True)
    tenant_id: str = Field(max_length=64, index=True)
    role: str = Field(max_length=16)
