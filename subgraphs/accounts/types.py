"""GraphQL types of the accounts subgraph. Thin views over the SQLModel rows."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from shared.context import RequestContext
from shared.pagination import Connection, PageCursor, PageSize, check_first, connection, decode_cursor
from shared.permissions import protected
from shared.schema import described
from subgraphs.accounts import models
from subgraphs.accounts.config import AccountsServices, AccountsSettings
from subgraphs.accounts.loaders import tenant_loader, user_loader
from subgraphs.accounts.repository import ConsentRepository, SpotifyLinkRepository, UserRepository

AccountsInfo = Info[RequestContext[AccountsSettings, AccountsServices], None]
READ = ("accounts:read",)
"""API keys need this scope for personal data (declared in the SDL as @requiresScopes)."""


@strawberry.enum(description="A member's role in a tenant.")
class TenantRole(Enum):
    OWNER = described(
        "owner",
        "Everything an admin may do, plus granting the owner role; a tenant keeps at least one.",
    )
    ADMIN = described("admin", "Manages members, invitations and roles; sees members' e-mail addresses.")
    MEMBER = described("member", "Works with the tenant's data and may create its own API keys.")
    VIEWER = described("viewer", "Read-only access to the tenant's data.")


@strawberry.enum(description="A consent a user gives or withdraws.")
class ConsentKind(Enum):
    TERMS = described("terms", "Acceptance of the terms of service; required to sign up.")
    DATA_PROCESSING = described(
        "data_processing",
        "Processing of personal data; required to sign up. Without it personal fields such as "
        "`User.email` answer CONSENT_REQUIRED.",
    )
    MARKETING = described("marketing", "Optional: product news and offers by e-mail.")
    PERSONALIZATION = described(
        "personalization",
        "Optional: recommendations and other AI features drawn from your own listening history and "
        "playlists. Without it they are non-personal (popular in your tenant's genres) and say so; a "
        "withdrawal applies to the next request.",
    )


@strawberry.type(description="One grant or withdrawal of a consent.")
class ConsentChange:
    consent: ConsentKind = strawberry.field(description="Which consent changed.")
    granted: bool = strawberry.field(
        description="True when the consent was given, false when it was withdrawn."
    )
    at: datetime = strawberry.field(description="When the change was made (UTC).")


@strawberry.type(description="The Spotify account linked to a user.")
class SpotifyAccount:
    spotify_user_id: str = strawberry.field(
        description="Spotify user id of the linked account (as in Spotify URIs `spotify:user:<id>`)."
    )
    display_name: str | None = strawberry.field(
        description="Name shown on the Spotify profile; null when the user has none."
    )
    country: str | None = strawberry.field(
        description="Country of the Spotify account (ISO 3166-1 alpha-2); null when Spotify did not share it."
    )
    product: str | None = strawberry.field(
        description="Spotify subscription level, e.g. `premium` or `free`; null when not shared."
    )
    is_sample: bool = strawberry.field(description="Offline mode: a sample account of the bundled catalogue.")
    linked_at: datetime = strawberry.field(description="When the account was linked (UTC).")


@strawberry.federation.type(keys=["id"], description="A person with an account.")
class User:
    id: strawberry.ID = strawberry.field(
        description="Accounts user id (opaque); the key other subgraphs use to refer to the user."
    )
    display_name: str = strawberry.field(description="The name the user chose to be shown to others.")
    role: TenantRole = strawberry.field(description="The user's role in their tenant.")
    created_at: datetime = strawberry.field(description="When the account was created (UTC).")
    row: strawberry.Private[models.User]

    @property
    def owner_id(self) -> str:
        return str(self.id)

    @property
    def data_subject_consents(self) -> frozenset[str]:
        return self.row.consent_set

    @classmethod
    def from_row(cls, row: models.User) -> User:
        return cls(
            id=strawberry.ID(row.id),
            display_name=row.display_name,
            role=TenantRole(row.role),
            created_at=row.created_at,
            row=row,
        )

    @classmethod
    async def resolve_reference(cls, info: AccountsInfo, id: strawberry.ID) -> User | None:
        row = await user_loader(info.context).load(str(id))
        return cls.from_row(row) if row else None

    @classmethod
    async def resolve_references(cls, info: AccountsInfo, ids: list[str]) -> list[User | None]:
        rows = await user_loader(info.context).load_many(ids)
        return [cls.from_row(row) if row else None for row in rows]

    @protected(
        "User.email",
        scopes=READ,
        consent="data_processing",
        description="Sign-in e-mail address. Readable by the user and tenant admins (others get FORBIDDEN), "
        "with the user's data-processing consent (else CONSENT_REQUIRED); API keys need `accounts:read`.",
    )
    def email(self) -> str | None:
        return self.row.email

    @protected(
        "User.consents",
        scopes=READ,
        description="Current consents, sorted (the user only; null with FORBIDDEN for others).",
    )
    def consents(self) -> list[ConsentKind] | None:
        return [ConsentKind(value) for value in sorted(self.row.consent_set)]

    @protected(
        "User.consentHistory",
        scopes=READ,
        description="Every consent change, oldest first (the user only; null with FORBIDDEN for others).",
    )
    async def consent_history(self, info: AccountsInfo) -> list[ConsentChange] | None:
        rows = await ConsentRepository(await info.context.session(), self.row.tenant_id).history(self.row.id)
        return [ConsentChange(consent=ConsentKind(r.consent), granted=r.granted, at=r.at) for r in rows]

    @protected(
        "User.spotifyAccount",
        scopes=READ,
        description="The linked Spotify account; null when none is linked (the user only).",
    )
    async def spotify_account(self, info: AccountsInfo) -> SpotifyAccount | None:
        link = await SpotifyLinkRepository(await info.context.session(), self.row.tenant_id).for_user(
            self.row.id
        )
        if link is None:
            return None
        return SpotifyAccount(
            spotify_user_id=link.spotify_user_id,
            display_name=link.display_name,
            country=link.country,
            product=link.product,
            is_sample=link.is_sample,
            linked_at=link.created_at,
        )

    @strawberry.field(description="The tenant the user belongs to.")
    async def tenant(self, info: AccountsInfo) -> Tenant | None:
        row = await tenant_loader(info.context).load(self.row.tenant_id)
        return Tenant.from_row(row) if row else None


@strawberry.federation.type(keys=["id"], description="An artist's organisation: its members share data.")
class Tenant:
    id: strawberry.ID = strawberry.field(description="Accounts tenant id (opaque).")
    name: str = strawberry.field(description="The organisation's name, as given at sign-up.")
    created_at: datetime = strawberry.field(description="When the tenant was created (UTC).")
    row: strawberry.Private[models.Tenant]

    @classmethod
    def from_row(cls, row: models.Tenant) -> Tenant:
        return cls(id=strawberry.ID(row.id), name=row.name, created_at=row.created_at, row=row)

    @classmethod
    async def resolve_reference(cls, info: AccountsInfo, id: strawberry.ID) -> Tenant | None:
        row = await tenant_loader(info.context).load(str(id))
        return cls.from_row(row) if row else None

    @protected(
        "Tenant.members", scopes=READ, description="Members of the tenant with their roles, a page at a time."
    )
    async def members(
        self,
        info: AccountsInfo,
        first: PageSize = 50,
        after: PageCursor = None,
    ) -> Connection[User] | None:
        check_first(first)
        rows = await UserRepository(await info.context.session(), self.row.id).page(
            decode_cursor(after), first + 1
        )
        return connection(rows, first, key=lambda row: row.id, node=User.from_row)


@strawberry.type(description="An API key; its secret is shown only when it is created.")
class ApiKey:
    id: strawberry.ID = strawberry.field(description="API key id (opaque), used to revoke it.")
    name: str = strawberry.field(description="The label given at creation, to tell keys apart.")
    prefix: str = strawberry.field(
        description="The key secret's public prefix, to recognise it without the secret."
    )
    scopes: list[str] = strawberry.field(
        description="What the key may do, e.g. `accounts:read`; within what its owner may do."
    )
    created_at: datetime = strawberry.field(description="When the key was created (UTC).")
    expires_at: datetime | None = strawberry.field(
        description="When the key stops working (UTC); null when it never expires."
    )
    revoked_at: datetime | None = strawberry.field(
        description="When the key was revoked (UTC); null while it is active."
    )
    last_used_at: datetime | None = strawberry.field(
        description="When the key last authenticated a request (UTC); null if never used."
    )

    @classmethod
    def from_row(cls, row: models.ApiKey) -> ApiKey:
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            prefix=row.prefix,
            scopes=row.scope_list,
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            last_used_at=row.last_used_at,
        )


@strawberry.type(description="An invitation into a tenant.")
class Invitation:
    id: strawberry.ID = strawberry.field(description="Invitation id (opaque).")
    role: TenantRole = strawberry.field(description="The role the invitee gets on joining.")
    email: str | None = strawberry.field(
        description="The only e-mail address that may accept it; null when anyone with the code may."
    )
    expires_at: datetime = strawberry.field(description="When the code stops working (UTC).")

    @classmethod
    def from_row(cls, row: models.Invitation) -> Invitation:
        return cls(
            id=strawberry.ID(row.id), role=TenantRole(row.role), email=row.email, expires_at=row.expires_at
        )


@strawberry.type(description="Where to send the user to authorize Spotify access.")
class SpotifyAuthorization:
    url: str = strawberry.field(description="Spotify's authorization page: send the user's browser there.")
    state: str = strawberry.field(
        description="Opaque value Spotify echoes back on the redirect; pass it to `linkSpotifyAccount`."
    )
    offline: bool = strawberry.field(
        description="True when no Spotify app is configured: link attaches a sample account."
    )


@strawberry.enum(description="What happened on a user's account.")
class AccountEventKind(Enum):
    HEARTBEAT = described("HEARTBEAT", "Keep-alive sent when nothing happened for a while.")
    SESSION_REVOKED = described("SESSION_REVOKED", "A session was revoked (log-out); `sessionId` says which.")
    CONSENT_CHANGED = described("CONSENT_CHANGED", "The user gave or withdrew a consent.")


@strawberry.type(description="An event on the subscriber's own account.")
class AccountEvent:
    id: str = strawberry.field(
        description="Event id in the stream; pass the last one seen as `after` to resume without gaps."
    )
    kind: AccountEventKind = strawberry.field(description="What happened.")
    at: datetime = strawberry.field(description="When it happened (UTC).")
    session_id: str | None = strawberry.field(
        default=None, description="The revoked session, for SESSION_REVOKED; null for other kinds."
    )

    @classmethod
    def of(cls, event_id: str, kind: str, session_id: str | None) -> AccountEvent:
        millis = int(event_id.split("-")[0])
        at = datetime.fromtimestamp(millis / 1000, UTC)
        return cls(id=event_id, kind=AccountEventKind(kind), at=at, session_id=session_id)
