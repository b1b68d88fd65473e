"""Inputs and payloads of the accounts mutations: one `input`, a payload with the objects."""

from __future__ import annotations

import strawberry

from subgraphs.accounts.types import (
    ApiKey,
    ConsentKind,
    Invitation,
    SpotifyAccount,
    TenantRole,
    User,
)


@strawberry.input(description="Consents given at sign-up. Terms and data processing are required.")
class SignUpConsentsInput:
    terms: bool
    data_processing: bool
    marketing: bool = False


@strawberry.input
class SignUpInput:
    email: str
    password: str
    display_name: str
    consents: SignUpConsentsInput
    tenant_name: str | None = strawberry.field(
        default=None, description="Create a new tenant with this name…"
    )
    invitation_code: str | None = strawberry.field(default=None, description="…or join one by invitation.")


@strawberry.input
class LogInInput:
    email: str
    password: str


@strawberry.input
class RefreshSessionInput:
    refresh_token: str


@strawberry.type(description="A new session: a 15-minute access token and a rotating refresh token.")
class AuthPayload:
    user: User
    access_token: str
    refresh_token: str
    expires_in: int


@strawberry.type
class LogOutPayload:
    session_id: str


@strawberry.input
class ChangeMemberRoleInput:
    user_id: strawberry.ID
    role: TenantRole
    version: int | None = strawberry.field(
        default=None, description="Optimistic concurrency: the member's version you saw."
    )


@strawberry.input
class RemoveMemberInput:
    user_id: strawberry.ID


@strawberry.type
class MemberPayload:
    user: User


@strawberry.input
class CreateInvitationInput:
    role: TenantRole
    email: str | None = None
    ttl_hours: int = 72


@strawberry.type
class CreateInvitationPayload:
    invitation: Invitation
    code: str = strawberry.field(description="Shown once; give it to the invitee for signUp.")


@strawberry.input
class CreateApiKeyInput:
    name: str
    scopes: list[str]
    expires_in_days: int | None = 90


@strawberry.type
class CreateApiKeyPayload:
    api_key: ApiKey
    secret: str = strawberry.field(description="Shown once. Send as `Authorization: Bearer <secret>`.")


@strawberry.input
class RevokeApiKeyInput:
    id: strawberry.ID


@strawberry.type
class ApiKeyPayload:
    api_key: ApiKey


@strawberry.input
class ConsentInput:
    consent: ConsentKind


@strawberry.type
class ConsentPayload:
    user: User


@strawberry.input
class LinkSpotifyAccountInput:
    code: str
    state: str


@strawberry.type
class LinkSpotifyAccountPayload:
    account: SpotifyAccount
