"""GraphQL types of the accounts subgraph. Thin views over the SQLModel rows."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from shared.context import RequestContext
from shared.pagination import Connection, check_first, connection, decode_cursor
from shared.permissions import protected
from subgraphs.accounts import models
from subgraphs.accounts.config import AccountsServices, AccountsSettings
from subgraphs.accounts.loaders import tenant_loader, user_loader
from subgraphs.accounts.repository import ConsentRepository, SpotifyLinkRepository, UserRepository

AccountsInfo = Info[RequestContext[AccountsSettings, AccountsServices], None]
READ = ("accounts:read",)
"""API keys need this scope for personal data (declared in the SDL as @requiresScopes)."""


@strawberry.enum(description="A member's role in a tenant.")
class TenantRole(Enum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


@strawberry.enum(description="A consent a user gives or withdraws.")
class ConsentKind(Enum):
    TERMS = "terms"
    DATA_PROCESSING = "data_processing"
    MARKETING = "marketing"


@strawberry.type(description="One grant or withdrawal of a consent.")
class ConsentChange:
    consent: ConsentKind
    granted: bool
    at: datetime


@strawberry.type(description="The Spotify account linked to a user.")
class SpotifyAccount:
    spotify_user_id: str
    display_name: str | None
    country: str | None
    product: str | None
    is_sample: bool = strawberry.field(description="Offline mode: a sample account of the bundled catalogue.")
    linked_at: datetime


@strawberry.federation.type(keys=["id"], description="A person with an account.")
class User:
    id: strawberry.ID
    display_name: str
    role: TenantRole
    created_at: datetime
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
        description="Readable by the user and tenant admins.",
    )
    def email(self) -> str | None:
        return self.row.email

    @protected("User.consents", scopes=READ, description="Current consents (the user only).")
    def consents(self) -> list[ConsentKind] | None:
        return [ConsentKind(value) for value in sorted(self.row.consent_set)]

    @protected("User.consentHistory", scopes=READ, description="Every consent change (the user only).")
    async def consent_history(self, info: AccountsInfo) -> list[ConsentChange] | None:
        rows = await ConsentRepository(await info.context.session(), self.row.tenant_id).history(self.row.id)
        return [ConsentChange(consent=ConsentKind(r.consent), granted=r.granted, at=r.at) for r in rows]

    @protected("User.spotifyAccount", scopes=READ, description="The linked Spotify account (the user only).")
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
    id: strawberry.ID
    name: str
    created_at: datetime
    row: strawberry.Private[models.Tenant]

    @classmethod
    def from_row(cls, row: models.Tenant) -> Tenant:
        return cls(id=strawberry.ID(row.id), name=row.name, created_at=row.created_at, row=row)

    @classmethod
    async def resolve_reference(cls, info: AccountsInfo, id: strawberry.ID) -> Tenant | None:
        row = await tenant_loader(info.context).load(str(id))
        return cls.from_row(row) if row else None

    @protected("Tenant.members", scopes=READ, description="Members with their roles.")
    async def members(
        self, info: AccountsInfo, first: int = 50, after: str | None = None
    ) -> Connection[User] | None:
        check_first(first)
        rows = await UserRepository(await info.context.session(), self.row.id).page(
            decode_cursor(after), first + 1
        )
        return connection(rows, first, key=lambda row: row.id, node=User.from_row)


@strawberry.type(description="An API key; its secret is shown only when it is created.")
class ApiKey:
    id: strawberry.ID
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

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
    id: strawberry.ID
    role: TenantRole
    email: str | None
    expires_at: datetime


@strawberry.type(description="Where to send the user to authorize Spotify access.")
class SpotifyAuthorization:
    url: str
    state: str
    offline: bool = strawberry.field(
        description="True when no Spotify app is configured: link attaches a sample account."
    )


@strawberry.enum(description="What happened on a user's account.")
class AccountEventKind(Enum):
    HEARTBEAT = "HEARTBEAT"
    SESSION_REVOKED = "SESSION_REVOKED"
    CONSENT_CHANGED = "CONSENT_CHANGED"


@strawberry.type(description="An event on the subscriber's own account.")
class AccountEvent:
    id: str
    kind: AccountEventKind
    at: datetime
    session_id: str | None = None
