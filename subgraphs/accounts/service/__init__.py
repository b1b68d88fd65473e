"""The rules of the accounts domain; this module holds identity: sign up, log in, rotate and
revoke sessions. One module per other sub-domain (as in schema/): `members` (roles,
invitations), `api_keys`, `consents`, `linking` (a Spotify account). Plain functions over a
session or the runtime; they raise domain errors and know nothing of GraphQL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.authenticate import note_revoked, revoked_session_key
from shared.auth.principal import Principal
from shared.auth.tokens import issue_access_token
from shared.db import new_id, utcnow
from shared.domain_events import emit
from shared.errors import BadUserInput, ConsentRequired, RateLimited, Unauthenticated
from shared.mutations import CommitThenRefuse, UnitOfWork
from shared.runtime import SubgraphRuntime
from subgraphs.accounts import domain_events as de
from subgraphs.accounts import repository
from subgraphs.accounts.models import (
    CONSENTS,
    REQUIRED_CONSENTS,
    ConsentEvent,
    RefreshToken,
    Tenant,
    User,
)
from subgraphs.accounts.repository import RefreshTokenRepository, UserRepository
from subgraphs.accounts.service import stream as events
from subgraphs.accounts.service.secrets import (
    digest,
    hash_password,
    new_refresh_token,
    verify_password,
)

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class SignUpData:
    email: str
    password: str
    display_name: str
    tenant_name: str | None
    invitation_code: str | None
    consents: frozenset[str]


@dataclass(frozen=True)
class Session:
    user: User
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: str = ""


def validate_sign_up(data: SignUpData, min_password: int) -> None:
    missing = REQUIRED_CONSENTS - data.consents
    if missing:
        raise ConsentRequired("Terms and data processing consent are required", missing=sorted(missing))
    unknown = data.consents - set(CONSENTS)
    if unknown:
        raise BadUserInput("Unknown consent", field="consents", unknown=sorted(unknown))
    if not EMAIL.match(data.email) or len(data.email) > 320:
        raise BadUserInput("Invalid e-mail address", field="email")
    if len(data.password) < min_password:
        raise BadUserInput(f"Password must have at least {min_password} characters", field="password")
    if not data.display_name.strip() or len(data.display_name) > 120:
        raise BadUserInput("Display name must have 1 to 120 characters", field="displayName")
    if bool(data.tenant_name) == bool(data.invitation_code):
        raise BadUserInput("Give either a new tenant name or an invitation code", field="tenantName")
    if data.tenant_name is not None and not (1 <= len(data.tenant_name.strip()) <= 120):
        raise BadUserInput("Tenant name must have 1 to 120 characters", field="tenantName")


async def sign_up(session: AsyncSession, runtime: SubgraphRuntime, data: SignUpData) -> Session:
    validate_sign_up(data, runtime.config.password_min_length)
    if await repository.email_taken(session, data.email):
        raise BadUserInput("An account with this e-mail already exists", field="email")
    invitation = None
    if data.invitation_code:
        invitation = await repository.invitation_by_code_hash(session, digest(data.invitation_code))
        now = utcnow()
        if invitation is None or invitation.used_at is not None or invitation.expires_at <= now:
            raise BadUserInput("Invitation is invalid, used or expired", field="invitationCode")
        if invitation.email and invitation.email.lower() != data.email.lower():
            raise BadUserInput("Invitation was issued to another e-mail", field="invitationCode")
        tenant_id, role = invitation.tenant_id, invitation.role
    else:
        tenant = Tenant(id=new_id("tnt"), name=(data.tenant_name or "").strip())
        session.add(tenant)
        tenant_id, role = tenant.id, "owner"
    user = User(
        id=new_id("usr"),
        tenant_id=tenant_id,
        email=data.email.strip(),
        password_hash=hash_password(data.password),
        display_name=data.display_name.strip(),
        role=role,
        consents=",".join(sorted(data.consents)),
    )
    session.add(user)
    if invitation is not None:
        invitation.used_at, invitation.used_by = utcnow(), user.id
        session.add(invitation)
    for consent in sorted(data.consents):
        session.add(
            ConsentEvent(
                id=new_id("cns"),
                tenant_id=tenant_id,
                user_id=user.id,
                consent=consent,
                granted=True,
            )
        )
    await session.flush()
    _emit_signed_up(session, user, invitation.id if invitation else None, (data.tenant_name or "").strip())
    started = await start_session(session, runtime, user)
    _emit_session_started(session, user, started, "sign_up")
    return started


def _emit_signed_up(session: AsyncSession, user: User, invitation_id: str | None, tenant_name: str) -> None:
    tenant, actor = user.tenant_id, user.id
    if invitation_id is None:
        emit(session, de.TenantCreated(tenant_id=tenant, actor_id=actor, name=tenant_name, owner_id=actor))
    consents = sorted(user.consent_set)
    emit(
        session,
        de.UserSignedUp(
            tenant_id=tenant,
            actor_id=actor,
            user_id=user.id,
            display_name=user.display_name,
            role=user.role,
            consents=consents,
            invitation_id=invitation_id,
        ),
    )
    emit(
        session,
        de.MemberAdded(
            tenant_id=tenant, actor_id=actor, user_id=user.id, role=user.role, invitation_id=invitation_id
        ),
    )
    for consent in consents:
        emit(
            session,
            de.ConsentGranted(
                tenant_id=tenant, actor_id=actor, user_id=user.id, consent=consent, at_sign_up=True
            ),
        )


def _emit_session_started(session: AsyncSession, user: User, started: Session, method: str) -> None:
    emit(
        session,
        de.SessionStarted(
            tenant_id=user.tenant_id,
            actor_id=user.id,
            user_id=user.id,
            session_id=started.session_id,
            method=method,
        ),
    )


async def start_session(
    session: AsyncSession, runtime: SubgraphRuntime, user: User, family_id: str | None = None
) -> Session:
    settings, config = runtime.settings, runtime.config
    if runtime.signing_key is None:
        raise RuntimeError("accounts signs tokens: its runtime has no signing key")
    family = family_id or new_id("ses")
    refresh = new_refresh_token()
    session.add(
        RefreshToken(
            id=new_id("rtk"),
            tenant_id=user.tenant_id,
            user_id=user.id,
            family_id=family,
            token_hash=digest(refresh),
            expires_at=utcnow() + timedelta(seconds=config.refresh_token_ttl_seconds),
        )
    )
    access = issue_access_token(
        runtime.signing_key,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_seconds=config.access_token_ttl_seconds,
        user_id=user.id,
        tenant_id=user.tenant_id,
        roles=[user.role],
        consents=user.consent_set,
        session_id=family,
    )
    await session.flush()
    return Session(user, access, refresh, config.access_token_ttl_seconds, family)


def _attempt_keys(email: str, address: str | None) -> list[str]:
    keys = [f"accounts:login-failures:account:{digest(email.lower())}"]
    if address:
        keys.append(f"accounts:login-failures:address:{address}")
    return keys


async def _check_login_rate(redis: Redis, runtime: SubgraphRuntime, email: str, address: str | None) -> None:
    config = runtime.config
    limits = [config.login_attempts_per_account, config.login_attempts_per_address]
    for key, limit in zip(_attempt_keys(email, address), limits, strict=False):
        failures = await redis.get(key)
        if failures is not None and int(failures) >= limit:
            retry_after = max(int(await redis.ttl(key)), 1)
            raise RateLimited("Too many failed log-in attempts", retryAfter=retry_after)


async def _record_failure(redis: Redis, runtime: SubgraphRuntime, email: str, address: str | None) -> None:
    window = runtime.config.login_window_seconds
    async with redis.pipeline(transaction=True) as pipe:
        for key in _attempt_keys(email, address):
            # The window starts at the first failure (SET NX; EXPIRE NX needs Redis 7).
            pipe.set(key, 0, ex=window, nx=True)
            pipe.incr(key)
        await pipe.execute()


async def log_in(
    session: AsyncSession, runtime: SubgraphRuntime, email: str, password: str, address: str | None
) -> Session:
    await _check_login_rate(runtime.redis, runtime, email, address)
    user = await repository.user_by_email(session, email)
    if not verify_password(password, user.password_hash if user else None) or user is None:
        await _record_failure(runtime.redis, runtime, email, address)
        raise Unauthenticated("E-mail or password is wrong")
    started = await start_session(session, runtime, user)
    _emit_session_started(session, user, started, "log_in")
    return started


async def refresh_session(uow: UnitOfWork, runtime: SubgraphRuntime, refresh_token: str) -> Session:
    """Rotates the refresh token. Presenting a rotated one again means it leaked: the
    whole family (every token of that login) is revoked, committed, and the caller refused."""
    session = uow.session
    row = await repository.refresh_token_by_hash(session, digest(refresh_token))
    if row is None:
        raise Unauthenticated("Unknown refresh token")
    tokens = RefreshTokenRepository(session, row.tenant_id)
    if row.revoked_at is not None:
        raise Unauthenticated("Session revoked")
    if row.rotated_at is not None:
        await tokens.revoke_family(row.family_id)
        await _mark_revoked(runtime, row.family_id, row.user_id)
        uow.target_id = row.family_id
        reused = Unauthenticated(
            "Refresh token reuse detected; the session was revoked", reason="REFRESH_TOKEN_REUSED"
        )
        raise CommitThenRefuse(reused, outcome="REFRESH_TOKEN_REUSED")
    if row.expires_at <= utcnow():
        raise Unauthenticated("Refresh token expired")
    row.rotated_at = utcnow()
    session.add(row)
    user = await UserRepository(session, row.tenant_id).get(row.user_id)
    if user is None:
        raise Unauthenticated("Account no longer exists")
    uow.target_id, uow.tenant_id = user.id, user.tenant_id
    return await start_session(session, runtime, user, family_id=row.family_id)


async def change_password(
    uow: UnitOfWork, runtime: SubgraphRuntime, principal: Principal, current: str, new: str
) -> tuple[User, int]:
    """Checks the current password (failures count towards the log-in limit, so a stolen
    access token cannot guess it), sets the new one and revokes every other session of the
    user. Returns the user and how many sessions were revoked."""
    tenant_id, user_id = principal.tenant_id, principal.user_id
    if principal.kind != "user" or not tenant_id or not user_id or not principal.session_id:
        raise Unauthenticated("Changing the password needs a user session")
    user = await UserRepository(uow.session, tenant_id).require(user_id)
    await _check_login_rate(runtime.redis, runtime, user.email, principal.client_address)
    if not verify_password(current, user.password_hash):
        await _record_failure(runtime.redis, runtime, user.email, principal.client_address)
        raise BadUserInput("The current password is wrong", field="currentPassword")
    minimum = runtime.config.password_min_length
    if len(new) < minimum:
        raise BadUserInput(f"Password must have at least {minimum} characters", field="newPassword")
    if new == current:
        raise BadUserInput("The new password is the current one", field="newPassword")
    user.password_hash = hash_password(new)
    uow.session.add(user)
    tokens = RefreshTokenRepository(uow.session, tenant_id)
    others = [family for family in await tokens.live_families(user_id) if family != principal.session_id]
    for family in others:
        await tokens.revoke_family(family)
        uow.after_commit(f"revoked:{family}", partial(_mark_revoked, runtime, family, user_id))
    uow.target_id = user_id
    changed = de.PasswordChanged(
        tenant_id=tenant_id, actor_id=user_id, user_id=user_id, revoked_sessions=len(others)
    )
    uow.emit(changed)
    return user, len(others)


async def log_out(session: AsyncSession, runtime: SubgraphRuntime, principal: Principal) -> str:
    if not principal.session_id or not principal.tenant_id or not principal.user_id:
        raise Unauthenticated("Log-out needs a user session")
    await RefreshTokenRepository(session, principal.tenant_id).revoke_family(principal.session_id)
    await _mark_revoked(runtime, principal.session_id, principal.user_id)
    return principal.session_id


async def _mark_revoked(runtime: SubgraphRuntime, family_id: str, user_id: str) -> None:
    # Access tokens of the session stop working everywhere before they expire.
    ttl = runtime.config.access_token_ttl_seconds + 60
    await runtime.redis.set(revoked_session_key(family_id), "1", ex=ttl)
    note_revoked(family_id)
    await events.publish(runtime.redis, user_id, "SESSION_REVOKED", sessionId=family_id)
