from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from shared.db.mixins import (
    SoftDeleteMixin,
    TenantMixin,
    TimestampMixin,
    UTCDateTime,
    VersionMixin,
    utcnow,
)

ROLES = ("owner", "admin", "member", "viewer")
CONSENTS = ("terms", "data_processing", "marketing", "personalization")
REQUIRED_CONSENTS = frozenset({"terms", "data_processing"})


class Tenant(TimestampMixin, VersionMixin, SoftDeleteMixin, table=True):
    __tablename__ = "accounts_tenant"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=120)


class User(TenantMixin, TimestampMixin, VersionMixin, SoftDeleteMixin, table=True):
    __tablename__ = "accounts_user"

    id: str = Field(primary_key=True, max_length=64)
    email: str = Field(max_length=320, unique=True)
    password_hash: str = Field(max_length=255)
    display_name: str = Field(max_length=120)
    role: str = Field(max_length=16)
    consents: str = Field(default="", max_length=255)
    """Current consents, comma-separated; the history is in accounts_consent_event."""

    @property
    def consent_set(self) -> frozenset[str]:
        return frozenset(filter(None, self.consents.split(",")))


class ConsentEvent(TenantMixin, table=True):
    __tablename__ = "accounts_consent_event"

    id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(index=True, max_length=64)
    consent: str = Field(max_length=32)
    granted: bool
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Invitation(TenantMixin, TimestampMixin, table=True):
    __tablename__ = "accounts_invitation"

    id: str = Field(primary_key=True, max_length=64)
    code_hash: str = Field(max_length=64, unique=True)
    role: str = Field(max_length=16)
    email: str | None = Field(default=None, max_length=320)
    created_by: str = Field(max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_by: str | None = Field(default=None, max_length=64)


class RefreshToken(TenantMixin, table=True):
    """One row per issued refresh token; a family is one login session."""

    __tablename__ = "accounts_refresh_token"

    id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(index=True, max_length=64)
    family_id: str = Field(index=True, max_length=64)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    rotated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiKey(TenantMixin, TimestampMixin, table=True):
    __tablename__ = "accounts_api_key"

    id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(index=True, max_length=64)
    name: str = Field(max_length=120)
    prefix: str = Field(max_length=16, unique=True)
    secret_hash: str = Field(max_length=64)
    scopes: str = Field(max_length=1024)
    role: str = Field(max_length=16)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def scope_list(self) -> list[str]:
        return [scope for scope in self.scopes.split(" ") if scope]


class SpotifyLink(TenantMixin, TimestampMixin, table=True):
    __tablename__ = "accounts_spotify_link"
    __table_args__ = (UniqueConstraint("user_id", name="uq_accounts_spotify_link_user"),)

    id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(max_length=64)
    spotify_user_id: str = Field(max_length=128)
    display_name: str | None = Field(default=None, max_length=255)
    country: str | None = Field(default=None, max_length=8)
    product: str | None = Field(default=None, max_length=32)
    refresh_token_encrypted: str
    scopes: str = Field(default="", max_length=1024)
    is_sample: bool = False
