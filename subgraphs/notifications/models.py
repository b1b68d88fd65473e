"""The notifications subgraph's tables (each starts with `notifications_`, its migration branch):
the notifications themselves, each person's preferences and their tenant's defaults, digests
waiting for their window, e-mail deliveries, and the projections of other domains' events that
say who a notification is for (people, workspaces, projects and their followers, comment
threads). Nothing here is read from another subgraph's tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.db.mixins import TenantMixin, UTCDateTime, utcnow


class NotificationsPerson(TenantMixin, table=True):
    """A user as accounts' events described them: the name notifications show, the tenant role."""

    __tablename__ = "notifications_person"

    user_id: str = Field(primary_key=True, max_length=64)
    display_name: str = Field(max_length=200)
    role: str = Field(max_length=32)
    active: bool = True
    """False once removed from the tenant: nothing more is sent to them."""


class NotificationsWorkspace(TenantMixin, table=True):
    __tablename__ = "notifications_workspace"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    owner_id: str = Field(max_length=64)


class NotificationsProject(TenantMixin, table=True):
    __tablename__ = "notifications_project"

    id: str = Field(primary_key=True, max_length=64)
    workspace_id: str = Field(max_length=64)
    title: str = Field(max_length=300)


class NotificationsFollower(TenantMixin, table=True):
    """Who hears of a project's changes: its creator, editors and commenters follow it unless
    they said otherwise (`following` False is kept, so editing again does not re-follow)."""

    __tablename__ = "notifications_follower"

    project_id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(primary_key=True, max_length=64)
    following: bool = True
    explicit: bool = False
    """Set by `followProject`: a choice the person made, never overridden by activity."""


class NotificationsThreadParticipant(TenantMixin, table=True):
    __tablename__ = "notifications_thread_participant"

    thread_id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(primary_key=True, max_length=64)


class Notification(TenantMixin, table=True):
    """One notification of one person, rendered in their language when it was made. Unique per
    (event, recipient, kind): a redelivered event makes nothing twice."""

    __tablename__ = "notifications_notification"
    __table_args__ = (
        UniqueConstraint("source_key", "recipient_id", "kind", name="uq_notifications_notification_source"),
        Index("ix_notifications_notification_inbox", "recipient_id", "archived_at", "id"),
    )

    id: str = Field(primary_key=True, max_length=64)
    """Sortable by creation (`new_id`): the inbox's order and cursor."""
    recipient_id: str = Field(max_length=64)
    kind: str = Field(max_length=64)
    category: str = Field(max_length=32)
    source_key: str = Field(max_length=160)
    """The event id, or the digest's key for a digest."""
    actor_id: str | None = Field(default=None, max_length=64)
    subjects: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    """Entity references: `{"type": "Project", "id": ...}`, joined by the router."""
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    language: str = Field(max_length=8)
    title: str = Field(max_length=300)
    body: str = Field(max_length=2000)
    link: str = Field(max_length=1000)
    critical: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class NotificationPreference(SQLModel, table=True):
    """A person's choices (or, with `user_id` "*", their tenant's defaults). `channels` maps a
    category to `{"in_app": bool, "email": bool}`; `digests` a digestible category to `off`,
    `hourly` or `daily`. What is not set falls back to the tenant's, then to the workflow's."""

    __tablename__ = "notifications_preference"

    tenant_id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(primary_key=True, max_length=64)
    language: str | None = Field(default=None, max_length=8)
    channels: dict[str, dict[str, bool]] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    digests: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    quiet_start: int | None = None
    """Minutes after midnight (in `timezone`) when e-mail stops; null: no quiet window."""
    quiet_end: int | None = None
    timezone: str | None = Field(default=None, max_length=64)
    email_tracking: bool | None = None
    """Open and click tracking in this person's mail; null: the tenant's choice, else on."""
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NotificationDigestEntry(TenantMixin, table=True):
    """A notification held for a digest: sent with the others of its recipient and window."""

    __tablename__ = "notifications_digest_entry"
    __table_args__ = (
        UniqueConstraint("source_key", "recipient_id", "kind", name="uq_notifications_digest_entry_source"),
        Index("ix_notifications_digest_entry_due", "due_at"),
    )

    id: str = Field(primary_key=True, max_length=64)
    recipient_id: str = Field(max_length=64)
    category: str = Field(max_length=32)
    kind: str = Field(max_length=64)
    source_key: str = Field(max_length=160)
    window_key: str = Field(max_length=200)
    """recipient, category and window start: the entries sent together."""
    due_at: datetime = Field(sa_type=UTCDateTime)
    actor_id: str | None = Field(default=None, max_length=64)
    subjects: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    link: str = Field(max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NotificationEmail(TenantMixin, table=True):
    """One e-mail to one address, recorded before it is sent under its idempotency key (event,
    recipient, kind): a job that runs twice, or an event delivered twice, sends once. A user's
    address is not stored (`address_hash` for suppression; the address is looked up to send)."""

    __tablename__ = "notifications_email"

    id: str = Field(primary_key=True, max_length=64)
    """Sortable by creation (`new_id`)."""
    idempotency_key: str = Field(max_length=64, unique=True)
    notification_id: str | None = Field(default=None, max_length=64)
    recipient_id: str | None = Field(default=None, max_length=64)
    """Null for an invitee without an account (the address is in `invitee_address`)."""
    invitee_address: str | None = Field(default=None, max_length=320)
    address_hash: str | None = Field(default=None, max_length=64, index=True)
    """Keyed hash of the address, set when it is known (at sending)."""
    kind: str = Field(max_length=64)
    category: str = Field(max_length=32)
    status: str = Field(default="QUEUED", max_length=16)
    """QUEUED, SENT, DEFERRED (a temporary failure; retried), BOUNCED (permanent), SUPPRESSED, SKIPPED."""
    attempts: int = 0
    message_id: str = Field(max_length=200)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    """What the template reads (the notification's, or a digest's items)."""
    link: str = Field(max_length=1000)
    not_before: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """The end of the recipient's quiet window, or of a temporary failure's backoff."""
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When a run took it to send (SENDING)."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    clicked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=200)
    """An SMTP code and class, never the server's text (which may echo the address)."""


class NotificationSuppression(SQLModel, table=True):
    """An address mail is no longer sent to (a permanent bounce), by its hash."""

    __tablename__ = "notifications_suppression"

    address_hash: str = Field(primary_key=True, max_length=64)
    reason: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
