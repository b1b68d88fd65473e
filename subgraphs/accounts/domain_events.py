"""Domain events of accounts (on `events:accounts`), for the subgraphs that keep projections
of users and tenants. Ids and the fields a consumer needs; never a password, token, key
secret or hash. (`service/stream.py` is the per-user live stream of the accounts subscriptions.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from shared.domain_events import EventPayload


@dataclass(frozen=True, kw_only=True)
class TenantCreated(EventPayload):
    TYPE: ClassVar[str] = "accounts.tenant.created"
    name: str
    owner_id: str


@dataclass(frozen=True, kw_only=True)
class UserSignedUp(EventPayload):
    TYPE: ClassVar[str] = "accounts.user.signed_up"
    user_id: str
    display_name: str
    role: str
    consents: list[str]
    invitation_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class MemberAdded(EventPayload):
    TYPE: ClassVar[str] = "accounts.member.added"
    user_id: str
    role: str
    invitation_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class MemberRemoved(EventPayload):
    TYPE: ClassVar[str] = "accounts.member.removed"
    user_id: str
    role: str


@dataclass(frozen=True, kw_only=True)
class MemberRoleChanged(EventPayload):
    TYPE: ClassVar[str] = "accounts.member.role_changed"
    user_id: str
    role: str
    previous_role: str


@dataclass(frozen=True, kw_only=True)
class InvitationCreated(EventPayload):
    TYPE: ClassVar[str] = "accounts.invitation.created"
    invitation_id: str
    role: str
    email: str | None
    """Whom it is for (notifications send it); None for a link invitation."""
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class PasswordChanged(EventPayload):
    """A user changed their password; every other session of theirs was revoked."""

    TYPE: ClassVar[str] = "accounts.user.password_changed"
    user_id: str
    revoked_sessions: int


@dataclass(frozen=True, kw_only=True)
class ConsentGranted(EventPayload):
    TYPE: ClassVar[str] = "accounts.consent.granted"
    user_id: str
    consent: str
    at_sign_up: bool = False
    """Given with the sign-up itself (not a change a person should be told of)."""


@dataclass(frozen=True, kw_only=True)
class ConsentRevoked(EventPayload):
    TYPE: ClassVar[str] = "accounts.consent.revoked"
    user_id: str
    consent: str


@dataclass(frozen=True, kw_only=True)
class ApiKeyCreated(EventPayload):
    TYPE: ClassVar[str] = "accounts.api_key.created"
    api_key_id: str
    user_id: str
    name: str
    scopes: list[str]
    expires_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class ApiKeyRevoked(EventPayload):
    TYPE: ClassVar[str] = "accounts.api_key.revoked"
    api_key_id: str
    user_id: str


@dataclass(frozen=True, kw_only=True)
class SessionStarted(EventPayload):
    """A sign-in (log-in or sign-up); a refresh-token rotation is not a new session."""

    TYPE: ClassVar[str] = "accounts.session.started"
    user_id: str
    session_id: str
    method: str
    """`log_in` or `sign_up`."""
