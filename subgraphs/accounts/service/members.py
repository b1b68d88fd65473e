"""Tenant membership: roles, removal, invitations. Casbin decides who may call these
mutations at all (owner/admin); the rules here are the ones a policy cannot express."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.principal import ROLE_ORDER, Principal, acting_user, tenant_of
from shared.db import new_id, utcnow
from shared.domain_events import emit
from shared.errors import BadUserInput, Conflict, Forbidden
from subgraphs.accounts import domain_events as de
from subgraphs.accounts.models import ROLES, Invitation, User
from subgraphs.accounts.repository import UserRepository
from subgraphs.accounts.service.secrets import digest, new_invitation_code


def _rank(role: str) -> int:
    return ROLE_ORDER.index(role)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise BadUserInput(f"Unknown role '{role}'", field="role", allowed=list(ROLES))


def _caller_role(principal: Principal) -> str:
    return max(principal.roles, key=_rank, default="viewer")


async def change_role(
    session: AsyncSession, principal: Principal, user_id: str, role: str, version: int | None
) -> User:
    _check_role(role)
    tenant_id = tenant_of(principal)
    users = UserRepository(session, tenant_id)
    target = await users.require(user_id)
    caller = _caller_role(principal)
    if _rank(caller) < _rank("owner") and ("owner" in (role, target.role)):
        raise Forbidden("Only an owner can grant or take the owner role")
    if target.role == "owner" and role != "owner" and await users.count_owners() <= 1:
        raise Conflict("The last owner cannot be demoted")
    if target.role == role:
        return target
    previous = target.role
    await users.update_versioned(target.id, target.version if version is None else version, role=role)
    await session.refresh(target)
    emit(
        session,
        de.MemberRoleChanged(
            tenant_id=target.tenant_id,
            actor_id=principal.user_id,
            user_id=target.id,
            role=target.role,
            previous_role=previous,
        ),
    )
    return target


async def remove_member(session: AsyncSession, principal: Principal, user_id: str) -> User:
    tenant_id, actor_id = acting_user(principal)
    users = UserRepository(session, tenant_id)
    target = await users.require(user_id)
    if target.role == "owner":
        if _caller_role(principal) != "owner":
            raise Forbidden("Only an owner can remove an owner")
        if await users.count_owners() <= 1:
            raise Conflict("The last owner cannot be removed")
    await users.soft_delete(target, by=actor_id)
    emit(
        session,
        de.MemberRemoved(tenant_id=target.tenant_id, actor_id=actor_id, user_id=target.id, role=target.role),
    )
    return target


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    code: str


async def create_invitation(
    session: AsyncSession, principal: Principal, role: str, email: str | None, ttl_hours: int
) -> IssuedInvitation:
    _check_role(role)
    tenant_id, actor_id = acting_user(principal)
    if _rank(role) > _rank(_caller_role(principal)):
        raise Forbidden("An invitation cannot grant more than the inviter's role")
    if not 1 <= ttl_hours <= 24 * 30:
        raise BadUserInput("Invitations expire within 1 hour to 30 days", field="ttlHours")
    code = new_invitation_code()
    invitation = Invitation(
        id=new_id("inv"),
        tenant_id=tenant_id,
        code_hash=digest(code),
        role=role,
        email=email.strip().lower() if email else None,
        created_by=actor_id,
        expires_at=utcnow() + timedelta(hours=ttl_hours),
    )
    session.add(invitation)
    await session.flush()
    emit(
        session,
        de.InvitationCreated(
            tenant_id=invitation.tenant_id,
            actor_id=actor_id,
            invitation_id=invitation.id,
            role=invitation.role,
            email=invitation.email,
            expires_at=invitation.expires_at,
        ),
    )
    return IssuedInvitation(invitation, code)
