"""API keys for machines and partner teams: shown once, stored hashed, limited to scopes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.principal import Principal, acting_user, tenant_of
from shared.db import Database, new_id, utcnow
from shared.domain_events import emit
from shared.errors import BadUserInput, Unauthenticated
from subgraphs.accounts import domain_events as de
from subgraphs.accounts import repository
from subgraphs.accounts.models import ApiKey
from subgraphs.accounts.repository import ApiKeyRepository
from subgraphs.accounts.service.secrets import digest, new_api_key, same_digest

SCOPE = re.compile(r"^[a-z][a-z0-9-]*:(read|write|check|publish)$")
LAST_USE_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str


async def create(
    session: AsyncSession,
    principal: Principal,
    name: str,
    scopes: list[str],
    expires_in_days: int | None,
) -> IssuedKey:
    tenant_id, user_id = acting_user(principal)
    if not name.strip() or len(name) > 120:
        raise BadUserInput("Name must have 1 to 120 characters", field="name")
    bad = [scope for scope in scopes if not SCOPE.match(scope)]
    if not scopes or bad:
        raise BadUserInput("Scopes look like 'accounts:read'", field="scopes", invalid=bad)
    if expires_in_days is not None and not 1 <= expires_in_days <= 366:
        raise BadUserInput("Keys expire within 1 to 366 days", field="expiresInDays")
    prefix, secret = new_api_key()
    key = ApiKey(
        id=new_id("key"),
        tenant_id=tenant_id,
        user_id=user_id,
        name=name.strip(),
        prefix=prefix,
        secret_hash=digest(secret),
        scopes=" ".join(sorted(set(scopes))),
        role=principal.roles[0] if principal.roles else "viewer",
        expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(key)
    await session.flush()
    emit(
        session,
        de.ApiKeyCreated(
            tenant_id=key.tenant_id,
            actor_id=user_id,
            api_key_id=key.id,
            user_id=key.user_id,
            name=key.name,
            scopes=key.scope_list,
            expires_at=key.expires_at,
        ),
    )
    return IssuedKey(key, secret)


async def revoke(session: AsyncSession, principal: Principal, key_id: str) -> ApiKey:
    key = await ApiKeyRepository(session, tenant_of(principal)).require(key_id)
    if key.user_id != principal.user_id and not {"owner", "admin"} & set(principal.roles):
        raise BadUserInput("Not your key", field="id")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        await session.flush()
        emit(
            session,
            de.ApiKeyRevoked(
                tenant_id=key.tenant_id, actor_id=principal.user_id, api_key_id=key.id, user_id=key.user_id
            ),
        )
    return key


def _usable(key: ApiKey, secret: str, now: datetime) -> bool:
    return (
        same_digest(secret, key.secret_hash)
        and key.revoked_at is None
        and (key.expires_at is None or key.expires_at > now)
    )


class ApiKeyAuthenticator:
    """Resolves `sak_…` credentials for the authenticator; records last use at most once
    a minute per key so a busy client does not write on every request."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def __call__(self, secret: str) -> Principal:
        parts = secret.split("_", 2)
        if len(parts) != 3:
            raise Unauthenticated("Malformed API key")
        now = utcnow()
        async with self.db.read() as session:
            key = await repository.api_key_by_prefix(session, parts[1])
        if key is None or not _usable(key, secret, now):
            raise Unauthenticated("API key is unknown, revoked or expired")
        if key.last_used_at is None or now - key.last_used_at > LAST_USE_RESOLUTION:
            async with self.db.write() as session:
                stored = await ApiKeyRepository(session, key.tenant_id).get(key.id)
                if stored is not None:
                    stored.last_used_at = now
                    session.add(stored)
        return Principal(
            kind="api_key",
            user_id=key.user_id,
            tenant_id=key.tenant_id,
            roles=(key.role,),
            scopes=frozenset(key.scope_list),
            api_key_id=key.id,
        )
