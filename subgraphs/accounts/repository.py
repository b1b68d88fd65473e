"""Queries of the accounts domain. Tenant data goes through tenant-scoped repositories;
credential lookups (by e-mail, token or key hash) run before a tenant is known and
return only the row the presented secret names."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from shared.db import TenantRepository, utcnow
from subgraphs.accounts.models import (
    ApiKey,
    ConsentEvent,
    Invitation,
    RefreshToken,
    SpotifyLink,
    Tenant,
    User,
)


class UserRepository(TenantRepository[User]):
    model = User

    async def count_owners(self) -> int:
        return await self.count(col(User.role) == "owner")

    async def page(self, after: str | None, limit: int) -> Sequence[User]:
        stmt = self.select().order_by(col(User.id)).limit(limit)
        if after:
            stmt = stmt.where(col(User.id) > after)
        return (await self.session.execute(stmt)).scalars().all()


class ApiKeyRepository(TenantRepository[ApiKey]):
    model = ApiKey

    async def for_user(self, user_id: str) -> Sequence[ApiKey]:
        stmt = self.select().where(col(ApiKey.user_id) == user_id).order_by(col(ApiKey.created_at))
        return (await self.session.execute(stmt)).scalars().all()


class ConsentRepository(TenantRepository[ConsentEvent]):
    model = ConsentEvent

    async def history(self, user_id: str) -> Sequence[ConsentEvent]:
        stmt = self.select().where(col(ConsentEvent.user_id) == user_id).order_by(col(ConsentEvent.id))
        return (await self.session.execute(stmt)).scalars().all()


class SpotifyLinkRepository(TenantRepository[SpotifyLink]):
    model = SpotifyLink

    async def for_user(self, user_id: str) -> SpotifyLink | None:
        stmt = self.select().where(col(SpotifyLink.user_id) == user_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()


class RefreshTokenRepository(TenantRepository[RefreshToken]):
    model = RefreshToken

    async def revoke_family(self, family_id: str) -> int:
        stmt = (
            update(RefreshToken)
            .where(
                col(RefreshToken.tenant_id) == self.tenant_id,
                col(RefreshToken.family_id) == family_id,
                col(RefreshToken.revoked_at).is_(None),
            )
            .values(revoked_at=utcnow())
        )
        result = await self.session.execute(stmt)
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def live_families(self, user_id: str) -> list[str]:
        """The sessions of a user that are not revoked (a family per log-in)."""
        stmt = (
            select(RefreshToken.family_id)
            .where(
                col(RefreshToken.tenant_id) == self.tenant_id,
                col(RefreshToken.user_id) == user_id,
                col(RefreshToken.revoked_at).is_(None),
            )
            .distinct()
        )
        return list((await self.session.execute(stmt)).scalars())


async def tenants_by_ids(session: AsyncSession, ids: Sequence[str]) -> dict[str, Tenant]:
    stmt = select(Tenant).where(col(Tenant.id).in_(ids), col(Tenant.deleted_at).is_(None))
    return {tenant.id: tenant for tenant in (await session.execute(stmt)).scalars()}


# Credential lookups: the secret identifies the row, and with it the tenant.


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    stmt = select(User).where(func.lower(col(User.email)) == email.lower(), col(User.deleted_at).is_(None))
    return (await session.execute(stmt)).scalar_one_or_none()


async def email_taken(session: AsyncSession, email: str) -> bool:
    stmt = select(func.count()).select_from(User).where(func.lower(col(User.email)) == email.lower())
    return bool((await session.execute(stmt)).scalar_one())


async def refresh_token_by_hash(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    stmt = select(RefreshToken).where(col(RefreshToken.token_hash) == token_hash)
    return (await session.execute(stmt)).scalar_one_or_none()


async def api_key_by_prefix(session: AsyncSession, prefix: str) -> ApiKey | None:
    stmt = select(ApiKey).where(col(ApiKey.prefix) == prefix)
    return (await session.execute(stmt)).scalar_one_or_none()


async def invitation_by_code_hash(session: AsyncSession, code_hash: str) -> Invitation | None:
    stmt = select(Invitation).where(col(Invitation.code_hash) == code_hash)
    return (await session.execute(stmt)).scalar_one_or_none()
