"""Workspace roles (owner > editor > commenter > viewer) decided by Casbin with the
workspace as the domain: the caller's membership is the subject, a coordinate the object."""

from __future__ import annotations

import enum

from shared.context import RequestContext
from shared.errors import Forbidden, NotFound
from shared.permissions.enforcer import Decision
from subgraphs.collaboration.loaders import membership_loader
from subgraphs.collaboration.models import WorkspaceMember
from subgraphs.collaboration.repository import MemberRepository


class WorkspaceRole(enum.StrEnum):
    VIEWER = "viewer"
    COMMENTER = "commenter"
    EDITOR = "editor"
    OWNER = "owner"

    @property
    def rank(self) -> int:
        return list(WorkspaceRole).index(self)


async def membership(context: RequestContext, workspace_id: str) -> WorkspaceMember | None:
    return await membership_loader(context).load(workspace_id)


def role_allows(context: RequestContext, role: str, workspace_id: str, coordinate: str, action: str) -> bool:
    decision = context.policies.decide((f"workspace:{role}",), workspace_id, f"ws:{coordinate}", action)
    return decision is Decision.ALLOW


async def allows(context: RequestContext, workspace_id: str, coordinate: str, action: str = "read") -> bool:
    member = await membership(context, workspace_id)
    return member is not None and role_allows(context, member.role, workspace_id, coordinate, action)


async def require(
    context: RequestContext, workspace_id: str, coordinate: str, action: str = "write"
) -> WorkspaceMember:
    """The caller's membership, if their role allows `coordinate`. A non-member learns
    nothing (NOT_FOUND); a member whose role is too low gets FORBIDDEN."""
    member = await membership(context, workspace_id)
    if member is None:
        raise NotFound("Workspace not found", id=workspace_id)
    if not role_allows(context, member.role, workspace_id, coordinate, action):
        raise Forbidden(f"Your role ({member.role}) does not allow this", coordinate=coordinate)
    return member


async def fresh_membership(context: RequestContext, workspace_id: str) -> WorkspaceMember | None:
    """Read now, in a session of its own: for subscriptions, which must not hold the
    connection's shared session for as long as they live, and see role changes."""
    principal = context.principal
    if not principal.tenant_id or not principal.user_id:
        return None
    async with context.runtime.db.read() as session:
        return await MemberRepository(session, principal.tenant_id).find(workspace_id, principal.user_id)


async def require_now(context: RequestContext, workspace_id: str, coordinate: str) -> WorkspaceMember:
    member = await fresh_membership(context, workspace_id)
    if member is None:
        raise NotFound("Workspace not found", id=workspace_id)
    if not role_allows(context, member.role, workspace_id, coordinate, "read"):
        raise Forbidden(f"Your role ({member.role}) does not allow this", coordinate=coordinate)
    return member
