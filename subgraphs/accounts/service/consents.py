"""Consents: give or withdraw one (recorded as a `ConsentEvent`, announced as a domain event)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.principal import Principal, acting_user
from shared.db import new_id
from shared.domain_events import emit
from shared.errors import BadUserInput
from subgraphs.accounts import domain_events as de
from subgraphs.accounts.models import CONSENTS, ConsentEvent, User
from subgraphs.accounts.repository import UserRepository


async def set_consent(session: AsyncSession, principal: Principal, consent: str, granted: bool) -> User:
    if consent not in CONSENTS:
        raise BadUserInput(f"Unknown consent '{consent}'", field="consent", allowed=list(CONSENTS))
    tenant_id, user_id = acting_user(principal)
    user = await UserRepository(session, tenant_id).require(user_id)
    current = set(user.consent_set)
    if (consent in current) == granted:
        return user
    current.add(consent) if granted else current.discard(consent)
    user.consents = ",".join(sorted(current))
    session.add(user)
    session.add(
        ConsentEvent(
            id=new_id("cns"),
            tenant_id=user.tenant_id,
            user_id=user.id,
            consent=consent,
            granted=granted,
        )
    )
    await session.flush()
    changed = de.ConsentGranted if granted else de.ConsentRevoked
    emit(session, changed(tenant_id=user.tenant_id, actor_id=user.id, user_id=user.id, consent=consent))
    return user
