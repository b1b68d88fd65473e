"""Workspaces, their members and invitations, presence and the live stream of a workspace."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.principal import Principal
from shared.context import RequestContext
from shared.crypto import INVITATION_MAIL, sealed_for
from shared.db import new_id, utcnow
from shared.errors import BadUserInput, Conflict, Forbidden, NotFound
from shared.events import is_event_id
from shared.mutations import UnitOfWork
from shared.runtime import SubgraphRuntime
from subgraphs.collaboration import domain_events as de
from subgraphs.collaboration.access import WorkspaceRole, fresh_membership
from subgraphs.collaboration.config import CollaborationServices
from subgraphs.collaboration.models import (
    Invitation,
    Workspace,
    WorkspaceMember,
)
from subgraphs.collaboration.repository import (
    InvitationRepository,
    MemberRepository,
    WorkspaceRepository,
)
from subgraphs.collaboration.service import activity as events
from subgraphs.collaboration.service import presence
from subgraphs.collaboration.service.activity import MEMBERSHIP_KINDS, EventKind, record
from subgraphs.collaboration.service.common import checked_name, signed_in_ids

INVITATION_TTL = timedelta(days=7)
INVITATION_PREFIX = "wsi_"
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,63}$")


async def create_workspace(uow: UnitOfWork, principal: Principal, name: str) -> Workspace:
    session = uow.session
    tenant_id, user_id = signed_in_ids(principal)
    workspace = Workspace(
        id=new_id("wks"), tenant_id=tenant_id, name=checked_name(name, "name", 100), created_by=user_id
    )
    WorkspaceRepository(session, tenant_id).add(workspace)
    owner = WorkspaceMember(
        id=new_id("wsm"), tenant_id=tenant_id, workspace_id=workspace.id, user_id=user_id, role="owner"
    )
    MemberRepository(session, tenant_id).add(owner)
    payload = {"userId": user_id, "role": "owner"}
    record(uow, tenant_id, workspace.id, EventKind.MEMBER_JOINED, user_id, payload)
    ids = {"tenant_id": tenant_id, "actor_id": user_id, "workspace_id": workspace.id}
    uow.emit(de.WorkspaceCreated(**ids, name=workspace.name, owner_id=user_id))
    uow.emit(de.MemberAdded(**ids, user_id=user_id, role="owner"))
    await session.flush()
    uow.target_id = workspace.id
    return workspace


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


async def create_invitation(
    uow: UnitOfWork,
    principal: Principal,
    inviter: WorkspaceMember,
    role: WorkspaceRole,
    email: str | None,
) -> tuple[Invitation, str]:
    """An inviter grants at most their own role. Returns the invitation and its code (shown
    once; only its hash is stored)."""
    session = uow.session
    tenant_id, user_id = signed_in_ids(principal)
    if role.rank > WorkspaceRole(inviter.role).rank:
        raise Forbidden("You can invite with your own role at most", role=role.value)
    if email is not None and not EMAIL.match(email.strip()):
        raise BadUserInput("Invalid email address", field="email")
    code = INVITATION_PREFIX + secrets.token_urlsafe(24)
    invitation = Invitation(
        id=new_id("wsv"),
        tenant_id=tenant_id,
        workspace_id=inviter.workspace_id,
        code_hash=_hash(code),
        role=role.value,
        email=email.strip().lower() if email else None,
        invited_by=user_id,
        expires_at=utcnow() + INVITATION_TTL,
    )
    InvitationRepository(session, tenant_id).add(invitation)
    uow.emit(
        de.InvitationCreated(
            tenant_id=tenant_id,
            actor_id=user_id,
            workspace_id=invitation.workspace_id,
            invitation_id=invitation.id,
            role=invitation.role,
            email=invitation.email,
            invited_by=user_id,
            expires_at=invitation.expires_at,
            sealed_code=_sealed(uow, code) if invitation.email else None,
        ),
    )
    await session.flush()
    uow.target_id = invitation.id
    return invitation, code


def _sealed(uow: UnitOfWork, code: str) -> str | None:
    if uow.context is None:
        return None
    return sealed_for(uow.context.runtime.settings, INVITATION_MAIL).encrypt(code.encode()).decode()


async def accept_invitation(
    uow: UnitOfWork, principal: Principal, code: str
) -> tuple[Workspace, WorkspaceMember]:
    """Joins the invitation's workspace; returns it and the new membership."""
    session = uow.session
    tenant_id, user_id = signed_in_ids(principal)
    invitations = InvitationRepository(session, tenant_id)
    invitation = await invitations.by_code_hash(_hash(code.strip()))
    now = utcnow()
    if invitation is None or invitation.revoked_at is not None:
        raise BadUserInput("Unknown invitation code", field="code")
    if invitation.accepted_at is not None:
        raise BadUserInput("This invitation was already used", field="code")
    if invitation.expires_at < now:
        raise BadUserInput("This invitation has expired", field="code")
    members = MemberRepository(session, tenant_id)
    if await members.find(invitation.workspace_id, user_id) is not None:
        raise BadUserInput("You are already a member of this workspace", field="code")
    if not await invitations.claim(invitation.id, user_id, now):
        raise BadUserInput("This invitation was already used", field="code")
    member = WorkspaceMember(
        id=new_id("wsm"),
        tenant_id=tenant_id,
        workspace_id=invitation.workspace_id,
        user_id=user_id,
        role=invitation.role,
        email=invitation.email,
    )
    members.add(member)
    payload = {"userId": user_id, "role": invitation.role}
    record(uow, tenant_id, invitation.workspace_id, EventKind.MEMBER_JOINED, user_id, payload)
    uow.emit(
        de.MemberAdded(
            tenant_id=tenant_id,
            actor_id=user_id,
            workspace_id=invitation.workspace_id,
            user_id=user_id,
            role=invitation.role,
            invitation_id=invitation.id,
        ),
    )
    await session.flush()
    uow.target_id = member.workspace_id
    workspace = await WorkspaceRepository(session, tenant_id).require(member.workspace_id)
    return workspace, member


async def _member_of(
    session: AsyncSession, tenant_id: str, workspace_id: str, user_id: str
) -> WorkspaceMember:
    member = await MemberRepository(session, tenant_id).find(workspace_id, user_id)
    if member is None:
        raise NotFound("No such member", userId=user_id)
    return member


async def _keep_an_owner(session: AsyncSession, tenant_id: str, member: WorkspaceMember) -> None:
    if (
        member.role == "owner"
        and await MemberRepository(session, tenant_id).count_owners(member.workspace_id) <= 1
    ):
        raise Conflict("A workspace keeps at least one owner")


async def change_role(
    uow: UnitOfWork, principal: Principal, workspace_id: str, user_id: str, role: WorkspaceRole
) -> WorkspaceMember:
    session = uow.session
    uow.target_id = workspace_id
    tenant_id, actor_id = signed_in_ids(principal)
    member = await _member_of(session, tenant_id, workspace_id, user_id)
    if member.role != role.value:
        if role is not WorkspaceRole.OWNER:
            await _keep_an_owner(session, tenant_id, member)
        changed = {"workspace_id": workspace_id, "user_id": user_id, "previous_role": member.role}
        uow.emit(de.MemberRoleChanged(tenant_id=tenant_id, actor_id=actor_id, role=role.value, **changed))
        member.role = role.value
        member.version += 1
        session.add(member)
    payload = {"userId": user_id, "role": role.value}
    record(uow, tenant_id, workspace_id, EventKind.MEMBER_ROLE_CHANGED, actor_id, payload)
    await session.flush()
    return member


async def remove_member(uow: UnitOfWork, principal: Principal, workspace_id: str, user_id: str) -> None:
    """An owner removes a member, or a member leaves (their own id)."""
    session = uow.session
    uow.target_id = workspace_id
    tenant_id, actor_id = signed_in_ids(principal)
    member = await _member_of(session, tenant_id, workspace_id, user_id)
    await _keep_an_owner(session, tenant_id, member)
    await session.delete(member)
    removed = {"workspace_id": workspace_id, "user_id": user_id, "role": member.role}
    uow.emit(de.MemberRemoved(tenant_id=tenant_id, actor_id=actor_id, **removed))
    payload = {"userId": user_id, "removedBy": actor_id}
    record(uow, tenant_id, workspace_id, EventKind.MEMBER_LEFT, actor_id, payload)
    await session.flush()


async def update_presence(
    runtime: SubgraphRuntime[Any, CollaborationServices], member: WorkspaceMember, viewing: str | None
) -> list[presence.PresenceEntry]:
    """Marks the member present (a heartbeat) and announces a change; returns who is here."""
    if viewing is not None and len(viewing) > 200:
        raise BadUserInput("viewing has at most 200 characters", field="viewing")
    workspace_id, user_id = member.workspace_id, member.user_id
    if await presence.touch(runtime.redis, workspace_id, user_id, viewing):
        payload = {"userId": user_id, "state": "present", "viewing": viewing}
        streams = runtime.services.event_streams
        await events.publish_ephemeral(streams, workspace_id, EventKind.PRESENCE_CHANGED, user_id, payload)
    return await presence.present(runtime.redis, workspace_id)


async def follow_workspace(
    context: RequestContext[Any, CollaborationServices],
    workspace_id: str,
    after: str | None,
    project_id: str | None = None,
) -> AsyncIterator[events.StreamEvent]:
    """The workspace's events after `after` (or from now), live, of one project if given. A
    member removed (or demoted) while following is checked again at once: removed, the
    stream ends with FORBIDDEN. A position no longer retained ends it with RESYNC_REQUIRED."""
    if after is not None and not is_event_id(after):
        raise BadUserInput("after must be an event id (as delivered: 1700000000000-0)", field="after")
    hub = context.runtime.services.stream_hub
    me = context.principal.user_id
    async for event_id, fields in hub.follow(events.stream_key(workspace_id), after):
        event = events.decode(event_id, fields)
        if event.kind in MEMBERSHIP_KINDS and event.payload.get("userId") == me:
            if await fresh_membership(context, workspace_id) is None:
                raise Forbidden("You are no longer a member of this workspace", workspaceId=workspace_id)
        if project_id is None or event.project_id == project_id:
            yield event
