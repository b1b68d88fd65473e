"""Inputs and payloads of the accounts mutations: one `input`, a payload with the objects."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import strawberry

from subgraphs.accounts.service import SignUpData
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
    terms: bool = strawberry.field(description="Accepts the terms of service; must be true.")
    data_processing: bool = strawberry.field(
        description="Agrees to the processing of personal data; must be true."
    )
    marketing: bool = strawberry.field(
        default=False, description="Agrees to product news by e-mail (optional)."
    )
    personalization: bool = strawberry.field(
        default=False,
        description="Agrees to recommendations drawn from one's own listening and playlists (optional).",
    )


@strawberry.input(description="A new account: give either `tenantName` (a new tenant) or `invitationCode`.")
class SignUpInput:
    email: str = strawberry.field(
        description="Sign-in e-mail address; unique across accounts (BAD_USER_INPUT when taken)."
    )
    password: str = strawberry.field(
        description="Password, at least the configured minimum length (BAD_USER_INPUT otherwise)."
    )
    display_name: str = strawberry.field(description="Name shown to others, 1 to 120 characters.")
    consents: SignUpConsentsInput = strawberry.field(
        description="Consents given; without terms and data processing: CONSENT_REQUIRED."
    )
    tenant_name: str | None = strawberry.field(
        default=None, description="Create a new tenant with this name (1 to 120 characters) and own it…"
    )
    invitation_code: str | None = strawberry.field(
        default=None, description="…or join a tenant with the code of an unexpired invitation."
    )

    def to_data(self) -> SignUpData:
        given = {name for name, granted in asdict(self.consents).items() if granted}  # type: ignore[call-overload]
        return SignUpData(
            email=self.email,
            password=self.password,
            display_name=self.display_name,
            tenant_name=self.tenant_name,
            invitation_code=self.invitation_code,
            consents=frozenset(given),
        )

    def audited(self) -> dict[str, Any]:
        """What the audit log keeps of it: never the password."""
        return {
            "email": self.email,
            "tenantName": self.tenant_name,
            "consents": sorted(self.to_data().consents),
        }


@strawberry.input(description="Credentials for `logIn`.")
class LogInInput:
    email: str = strawberry.field(description="The account's e-mail address.")
    password: str = strawberry.field(
        description="The account's password; repeated failures are rate limited (RATE_LIMITED)."
    )


@strawberry.input(description="A refresh token to rotate.")
class RefreshSessionInput:
    refresh_token: str = strawberry.field(
        description="The refresh token of the last AuthPayload; each one works once."
    )


@strawberry.input(description="Your current password and the new one.")
class ChangePasswordInput:
    current_password: str = strawberry.field(description="The password you signed in with.")
    new_password: str = strawberry.field(
        description="At least the platform's minimum length (10 by default), different from the current one."
    )


@strawberry.type(description="The password was changed; your other sessions were signed out.")
class ChangePasswordPayload:
    user: User = strawberry.field(description="You.")
    revoked_sessions: int = strawberry.field(
        description="How many of your other sessions (other devices, older log-ins) were revoked."
    )


@strawberry.type(description="A new session: a 15-minute access token and a rotating refresh token.")
class AuthPayload:
    user: User = strawberry.field(
        description="The signed-in user; its private fields are readable as that user."
    )
    access_token: str = strawberry.field(
        description="JWT (RS256) to send as `Authorization: Bearer <token>`."
    )
    refresh_token: str = strawberry.field(
        description="Secret for `refreshSession`; single use, store it safely."
    )
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")


@strawberry.type(description="The session that was ended.")
class LogOutPayload:
    session_id: str = strawberry.field(
        description="Id of the revoked session (as in the access token's `sid` claim)."
    )


@strawberry.input(description="A member and the role to give them.")
class ChangeMemberRoleInput:
    user_id: strawberry.ID = strawberry.field(description="Accounts user id of a member of your tenant.")
    role: TenantRole = strawberry.field(
        description="The new role; only owners may grant or take OWNER (else FORBIDDEN)."
    )
    version: int | None = strawberry.field(
        default=None, description="Optimistic concurrency: the member's version you saw."
    )


@strawberry.input(description="The member to remove from your tenant.")
class RemoveMemberInput:
    user_id: strawberry.ID = strawberry.field(
        description="Accounts user id of the member; the last owner cannot be removed (CONFLICT)."
    )


@strawberry.type(description="The member after the change.")
class MemberPayload:
    user: User = strawberry.field(description="The member, with their new role.")


@strawberry.input(description="An invitation to create.")
class CreateInvitationInput:
    role: TenantRole = strawberry.field(
        description="Role the invitee gets; at most your own (else FORBIDDEN)."
    )
    email: str | None = strawberry.field(
        default=None,
        description="Restrict the invitation to this e-mail address; null lets anyone with the code join.",
    )
    ttl_hours: int = strawberry.field(default=72, description="Hours until the code expires, 1 to 720.")


@strawberry.type(description="The new invitation and its one-time code.")
class CreateInvitationPayload:
    invitation: Invitation = strawberry.field(description="The invitation created.")
    code: str = strawberry.field(description="Shown once; give it to the invitee for signUp.")


@strawberry.input(description="An API key to create for yourself.")
class CreateApiKeyInput:
    name: str = strawberry.field(description="A label to recognise the key by, 1 to 120 characters.")
    scopes: list[str] = strawberry.field(
        description="At least one scope of the form `domain:action`, e.g. `accounts:read`."
    )
    expires_in_days: int | None = strawberry.field(
        default=90, description="Days until the key expires, 1 to 366; null for a key that never expires."
    )


@strawberry.type(description="The new API key and its secret, shown this once.")
class CreateApiKeyPayload:
    api_key: ApiKey = strawberry.field(description="The key created.")
    secret: str = strawberry.field(description="Shown once. Send as `Authorization: Bearer <secret>`.")


@strawberry.input(description="The API key to revoke.")
class RevokeApiKeyInput:
    id: strawberry.ID = strawberry.field(description="API key id (`ApiKey.id`) of one of your keys.")


@strawberry.type(description="The API key after the change.")
class ApiKeyPayload:
    api_key: ApiKey = strawberry.field(description="The key, with `revokedAt` set.")


@strawberry.input(description="The consent to give or withdraw.")
class ConsentInput:
    consent: ConsentKind = strawberry.field(description="Which consent.")


@strawberry.type(description="The user after the consent change.")
class ConsentPayload:
    user: User = strawberry.field(description="You, with your current consents.")


@strawberry.input(description="What Spotify's redirect brought back.")
class LinkSpotifyAccountInput:
    code: str = strawberry.field(description="The `code` query parameter of Spotify's redirect.")
    state: str = strawberry.field(
        description="The `state` query parameter; as from `spotifyAuthorizeUrl` (else BAD_USER_INPUT)."
    )


@strawberry.type(description="The Spotify account just linked.")
class LinkSpotifyAccountPayload:
    account: SpotifyAccount = strawberry.field(description="The linked account.")
