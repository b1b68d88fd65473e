"""Every notification the platform sends, in one place: for each kind, the domain event that
triggers it, who receives it, on which channels by default, its category (what preferences are
set on), whether it may be digested and whether it is critical (security: never suppressed,
never digested, never tracked, no unsubscribe).

A template per kind and language renders it (`templates/<lang>/<kind>.jinja`, one block per
part: subject, in-app title and body, text and HTML); `params` names what the template reads,
filled from the event and the subgraph's projections."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Category(enum.StrEnum):
    MENTIONS = "mentions"
    COMMENTS = "comments"
    INVITATIONS = "invitations"
    MEMBERSHIP = "membership"
    PROJECTS = "projects"
    JOBS = "jobs"
    REPORTS = "reports"
    MODELS = "models"
    SECURITY = "security"


class Channel(enum.StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"


class Audience(enum.StrEnum):
    """Who a workflow's event concerns (resolved by `service/delivery.py`)."""

    MENTIONED = "mentioned"
    """The users a comment mentions, not its author."""
    THREAD = "thread"
    """Earlier authors in the comment's thread, not its author nor those it mentions."""
    INVITEE = "invitee"
    """The invited e-mail address (maybe no account yet)."""
    WORKSPACE_OWNER = "workspace_owner"
    """The owner of the event's workspace, unless they are the actor."""
    SUBJECT_USER = "subject_user"
    """The user the event is about (`user_id`, or `requested_by`)."""
    PROJECT_FOLLOWERS = "project_followers"
    """Who follows the project (its creator, editors and commenters, or by `followProject`), not the actor."""
    PLATFORM_ADMINS = "platform_admins"
    """Admins and owners of the platform admin tenants."""


@dataclass(frozen=True)
class Workflow:
    kind: str
    event: str
    audience: Audience
    category: Category
    channels: tuple[Channel, ...]
    params: tuple[str, ...]
    """What its templates read, besides `recipient_name` and `link`."""
    digestible: bool = False
    critical: bool = False


_BOTH = (Channel.IN_APP, Channel.EMAIL)
_IN_APP = (Channel.IN_APP,)

WORKFLOWS: tuple[Workflow, ...] = (
    Workflow(
        "comment_mention",
        "collaboration.comment.added",
        Audience.MENTIONED,
        Category.MENTIONS,
        _BOTH,
        ("actor_name", "project_title", "excerpt"),
    ),
    Workflow(
        "comment_reply",
        "collaboration.comment.added",
        Audience.THREAD,
        Category.COMMENTS,
        _BOTH,
        ("actor_name", "project_title", "excerpt"),
    ),
    Workflow(
        "workspace_invitation",
        "collaboration.invitation.created",
        Audience.INVITEE,
        Category.INVITATIONS,
        (Channel.EMAIL,),
        ("actor_name", "workspace_name", "role", "expires_at"),
    ),
    Workflow(
        "workspace_member_joined",
        "collaboration.member.added",
        Audience.WORKSPACE_OWNER,
        Category.MEMBERSHIP,
        _BOTH,
        ("member_name", "workspace_name", "role"),
    ),
    Workflow(
        "workspace_member_left",
        "collaboration.member.removed",
        Audience.WORKSPACE_OWNER,
        Category.MEMBERSHIP,
        _BOTH,
        ("member_name", "workspace_name"),
    ),
    Workflow(
        "workspace_role_changed",
        "collaboration.member.role_changed",
        Audience.SUBJECT_USER,
        Category.MEMBERSHIP,
        _BOTH,
        ("actor_name", "workspace_name", "role", "previous_role"),
    ),
    Workflow(
        "tenant_role_changed",
        "accounts.member.role_changed",
        Audience.SUBJECT_USER,
        Category.MEMBERSHIP,
        _BOTH,
        ("actor_name", "role", "previous_role"),
    ),
    Workflow(
        "project_changed",
        "collaboration.project.changed",
        Audience.PROJECT_FOLLOWERS,
        Category.PROJECTS,
        _BOTH,
        ("actor_name", "project_title", "version"),
        digestible=True,
    ),
    Workflow(
        "library_sync_completed",
        "spotify.library_sync.completed",
        Audience.SUBJECT_USER,
        Category.JOBS,
        _IN_APP,
        ("playlists", "new_plays"),
    ),
    Workflow(
        "library_sync_failed",
        "spotify.library_sync.failed",
        Audience.SUBJECT_USER,
        Category.JOBS,
        _BOTH,
        ("reason",),
    ),
    Workflow(
        "report_ready",
        "analytics.report.ready",
        Audience.SUBJECT_USER,
        Category.REPORTS,
        _BOTH,
        ("artist_name", "format"),
    ),
    Workflow(
        "report_failed",
        "analytics.report.failed",
        Audience.SUBJECT_USER,
        Category.JOBS,
        _BOTH,
        ("artist_name", "reason"),
    ),
    Workflow(
        "generation_finished",
        "ai.generation.finished",
        Audience.SUBJECT_USER,
        Category.JOBS,
        _IN_APP,
        ("generation_kind", "succeeded"),
    ),
    Workflow(
        "model_drift",
        "ai.model.drift_detected",
        Audience.PLATFORM_ADMINS,
        Category.MODELS,
        _BOTH,
        ("model_name", "version", "signal", "level", "psi"),
    ),
    Workflow(
        "new_sign_in",
        "accounts.session.started",
        Audience.SUBJECT_USER,
        Category.SECURITY,
        _BOTH,
        ("method",),
        critical=True,
    ),
    Workflow(
        "api_key_created",
        "accounts.api_key.created",
        Audience.SUBJECT_USER,
        Category.SECURITY,
        _BOTH,
        ("key_name", "scopes"),
        critical=True,
    ),
    Workflow(
        "password_changed",
        "accounts.user.password_changed",
        Audience.SUBJECT_USER,
        Category.SECURITY,
        _BOTH,
        ("revoked_sessions",),
        critical=True,
    ),
    Workflow(
        "consent_changed",
        "accounts.consent.granted",
        Audience.SUBJECT_USER,
        Category.SECURITY,
        _BOTH,
        ("consent", "granted"),
        critical=True,
    ),
    Workflow(
        "consent_withdrawn",
        "accounts.consent.revoked",
        Audience.SUBJECT_USER,
        Category.SECURITY,
        _BOTH,
        ("consent", "granted"),
        critical=True,
    ),
)

BY_KIND = {workflow.kind: workflow for workflow in WORKFLOWS}
BY_EVENT: dict[str, list[Workflow]] = {}
for _workflow in WORKFLOWS:
    BY_EVENT.setdefault(_workflow.event, []).append(_workflow)

LANGUAGES = ("en", "fr", "de")
"""What templates exist in; anything else reads English."""
DIGESTIBLE = frozenset(workflow.category for workflow in WORKFLOWS if workflow.digestible)
