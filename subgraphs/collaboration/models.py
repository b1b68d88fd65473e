from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field

from shared.db.mixins import SoftDeleteMixin, TenantMixin, TimestampMixin, UTCDateTime, VersionMixin, utcnow


class Workspace(TenantMixin, TimestampMixin, SoftDeleteMixin, table=True):
    __tablename__ = "collaboration_workspace"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=100)
    created_by: str = Field(max_length=64)


class WorkspaceMember(TenantMixin, table=True):
    """A user's role in a workspace: owner, editor, commenter or viewer."""

    __tablename__ = "collaboration_workspace_member"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id", name="uq_collaboration_member"),)

    id: str = Field(primary_key=True, max_length=64)
    workspace_id: str = Field(max_length=64, index=True)
    user_id: str = Field(max_length=64, index=True)
    role: str = Field(max_length=16)
    email: str | None = Field(default=None, max_length=254)
    """The address an email invitation went to (owners see it)."""
    joined_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = 1


class Invitation(TenantMixin, table=True):
    """Single-use and expiring; the code itself is never stored, only its hash."""

    __tablename__ = "collaboration_invitation"

    id: str = Field(primary_key=True, max_length=64)
    workspace_id: str = Field(max_length=64, index=True)
    code_hash: str = Field(max_length=64, unique=True)
    role: str = Field(max_length=16)
    email: str | None = Field(default=None, max_length=254)
    invited_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    accepted_by: str | None = Field(default=None, max_length=64)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Project(TenantMixin, TimestampMixin, VersionMixin, SoftDeleteMixin, table=True):
    """A shared piece of work whose content is JSON of its type's schema."""

    __tablename__ = "collaboration_project"

    id: str = Field(primary_key=True, max_length=64)
    workspace_id: str = Field(max_length=64, index=True)
    type: str = Field(max_length=32)
    title: str = Field(max_length=200)
    content: dict = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    created_by: str = Field(max_length=64)


class ProjectVersion(TenantMixin, table=True):
    """Every accepted change: who, when, which operations, and the content it produced."""

    __tablename__ = "collaboration_project_version"
    __table_args__ = (UniqueConstraint("project_id", "version", name="uq_collaboration_project_version"),)

    id: str = Field(primary_key=True, max_length=64)
    project_id: str = Field(max_length=64)
    version: int
    author_id: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    operations: list = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    content: dict = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    message: str | None = Field(default=None, max_length=500)
    restored_from: int | None = None


class Comment(TenantMixin, TimestampMixin, SoftDeleteMixin, table=True):
    __tablename__ = "collaboration_comment"
    __table_args__ = (Index("ix_collaboration_comment_project_thread", "project_id", "thread_id"),)

    id: str = Field(primary_key=True, max_length=64)
    workspace_id: str = Field(max_length=64)
    project_id: str = Field(max_length=64)
    thread_id: str = Field(max_length=64)
    """The first comment's id; replies share it."""
    author_id: str = Field(max_length=64)
    body: str = Field(max_length=5000)
    mentions: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: str | None = Field(default=None, max_length=64)


class ActivityEvent(TenantMixin, table=True):
    """The workspace's activity feed and the outbox of its event stream: written in the
    transaction of the change, appended to the stream after commit (`published`), and
    re-appended by the repair job if that append did not happen."""

    __tablename__ = "collaboration_activity_event"
    __table_args__ = (
        Index("ix_collaboration_activity_workspace", "workspace_id", "id"),
        Index("ix_collaboration_activity_unpublished", "published", "created_at"),
    )

    id: str = Field(primary_key=True, max_length=64)
    workspace_id: str = Field(max_length=64)
    project_id: str | None = Field(default=None, max_length=64)
    kind: str = Field(max_length=32)
    actor_id: str = Field(max_length=64)
    payload: dict = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published: bool = False
