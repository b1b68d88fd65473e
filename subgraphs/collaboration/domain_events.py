"""Domain events of collaboration (on `events:collaboration`) for other domains' projections
(search, notifications, analytics). Not the workspace live stream (`events.py`, read by the
subscriptions): these carry ids and what a consumer needs, never an invitation code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from shared.domain_events import EventPayload


@dataclass(frozen=True, kw_only=True)
class WorkspaceCreated(EventPayload):
    TYPE: ClassVar[str] = "collaboration.workspace.created"
    workspace_id: str
    name: str
    owner_id: str


@dataclass(frozen=True, kw_only=True)
class MemberAdded(EventPayload):
    TYPE: ClassVar[str] = "collaboration.member.added"
    workspace_id: str
    user_id: str
    role: str
    invitation_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class MemberRemoved(EventPayload):
    TYPE: ClassVar[str] = "collaboration.member.removed"
    workspace_id: str
    user_id: str
    role: str


@dataclass(frozen=True, kw_only=True)
class MemberRoleChanged(EventPayload):
    TYPE: ClassVar[str] = "collaboration.member.role_changed"
    workspace_id: str
    user_id: str
    role: str
    previous_role: str


@dataclass(frozen=True, kw_only=True)
class InvitationCreated(EventPayload):
    TYPE: ClassVar[str] = "collaboration.invitation.created"
    workspace_id: str
    invitation_id: str
    role: str
    email: str | None
    """The invitee, for notifications; None for a link invitation."""
    invited_by: str
    expires_at: datetime
    sealed_code: str | None = None
    """The code, encrypted for the invitation mail (`shared.crypto.sealed_for(settings,
    INVITATION_MAIL)`): only notifications opens it, to put the accept link in the mail; the
    outbox and the stream hold ciphertext only."""


@dataclass(frozen=True, kw_only=True)
class ProjectEvent(EventPayload):
    workspace_id: str
    project_id: str
    version: int


@dataclass(frozen=True, kw_only=True)
class ProjectCreated(ProjectEvent):
    TYPE: ClassVar[str] = "collaboration.project.created"
    type: str
    title: str
    content: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class ProjectChanged(ProjectEvent):
    """A new version (an edit, or a restore of an old version: `restored_from`)."""

    TYPE: ClassVar[str] = "collaboration.project.changed"
    type: str
    title: str
    content: dict[str, Any]
    restored_from: int | None = None


@dataclass(frozen=True, kw_only=True)
class ProjectDeleted(ProjectEvent):
    TYPE: ClassVar[str] = "collaboration.project.deleted"


@dataclass(frozen=True, kw_only=True)
class ProjectRestored(ProjectEvent):
    TYPE: ClassVar[str] = "collaboration.project.restored"


@dataclass(frozen=True, kw_only=True)
class CommentAdded(EventPayload):
    TYPE: ClassVar[str] = "collaboration.comment.added"
    workspace_id: str
    project_id: str
    comment_id: str
    thread_id: str
    author_id: str
    body: str
    mentions: list[str]
    """User ids mentioned (all members of the workspace)."""


@dataclass(frozen=True, kw_only=True)
class CommentResolved(EventPayload):
    TYPE: ClassVar[str] = "collaboration.comment.resolved"
    workspace_id: str
    project_id: str
    comment_id: str


@dataclass(frozen=True, kw_only=True)
class CommentUnresolved(EventPayload):
    TYPE: ClassVar[str] = "collaboration.comment.unresolved"
    workspace_id: str
    project_id: str
    comment_id: str
