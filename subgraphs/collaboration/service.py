"""Rules of workspaces, members, invitations, projects and comments; no GraphQL here.
Each change works in the caller's unit of work: it records its activity (appended to the
workspace's stream after commit) and emits its domain events there. What the caller was
granted on a resource (`ProjectAccess`, `CommentAccess`, a membership) comes from the
field's declared permission, already read: a change reads its aggregate once."""

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
from shared.db import new_id, utcnow
from shared.db.repository import changed_copy
from shared.errors import BadUserInput, Conflict, Forbidden, NotFound, ResyncRequired
from shared.events import PositionLost, is_event_id
from shared.mutations import UnitOfWork
from shared.runtime import SubgraphRuntime
from subgraphs.collaboration import content, events, presence
from subgraphs.collaboration import domain_events as de
from subgraphs.collaboration.access import CommentAccess, ProjectAccess, WorkspaceRole, fresh_membership
from subgraphs.collaboration.config import CollaborationServices
from subgraphs.collaboration.events import MEMBERSHIP_KINDS, EventKind, record
from subgraphs.collaboration.models import (
    Comment,
    Invitation,
    Project,
    ProjectVersion,
    Workspace,
    WorkspaceMember,
)
from subgraphs.collaboration.repository import (
    CommentRepository,
    InvitationRepository,
    MemberRepository,
    ProjectRepository,
    VersionRepository,
    WorkspaceRepository,
)

INVITATION_TTL = timedelta(days=7)
INVITATION_PREFIX = "wsi_"
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,63}$")


def _ids(principal: Principal) -> tuple[str, str]:
    if not principal.tenant_id or not principal.user_id:
        raise Forbidden("A signed-in user is required")
    return principal.tenant_id, principal.user_id


def _check_name(value: str, field: str, limit: int) -> str:
    value = value.strip()
    if not 1 <= len(value) <= limit:
        raise BadUserInput(f"{field} must have 1 to {limit} characters", field=field)
    return value


async def create_workspace(uow: UnitOfWork, principal: Principal, name: str) -> Workspace:
    session = uow.session
    tenant_id, user_id = _ids(principal)
    workspace = Workspace(
        id=new_id("wks"), tenant_id=tenant_id, name=_check_name(name, "name", 100), created_by=user_id
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
    tenant_id, user_id = _ids(principal)
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
        ),
    )
    await session.flush()
    uow.target_id = invitation.id
    return invitation, code


async def accept_invitation(
    uow: UnitOfWork, principal: Principal, code: str
) -> tuple[Workspace, WorkspaceMember]:
    """Joins the invitation's workspace; returns it and the new membership."""
    session = uow.session
    tenant_id, user_id = _ids(principal)
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
    tenant_id, actor_id = _ids(principal)
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
    tenant_id, actor_id = _ids(principal)
    member = await _member_of(session, tenant_id, workspace_id, user_id)
    await _keep_an_owner(session, tenant_id, member)
    await session.delete(member)
    removed = {"workspace_id": workspace_id, "user_id": user_id, "role": member.role}
    uow.emit(de.MemberRemoved(tenant_id=tenant_id, actor_id=actor_id, **removed))
    payload = {"userId": user_id, "removedBy": actor_id}
    record(uow, tenant_id, workspace_id, EventKind.MEMBER_LEFT, actor_id, payload)
    await session.flush()


def _version_row(
    project: Project,
    author_id: str,
    operations: list[Any],
    message: str | None,
    restored_from: int | None = None,
) -> ProjectVersion:
    return ProjectVersion(
        id=new_id("pjv"),
        tenant_id=project.tenant_id,
        project_id=project.id,
        version=project.version,
        author_id=author_id,
        operations=operations,
        content=project.content,
        message=message,
        restored_from=restored_from,
    )


def _check_message(message: str | None) -> str | None:
    if message is not None and len(message) > 500:
        raise BadUserInput("A message has at most 500 characters", field="message")
    return message


async def create_project(
    uow: UnitOfWork,
    principal: Principal,
    workspace_id: str,
    project_type: content.ProjectType,
    title: str,
    initial: Any | None,
) -> Project:
    session = uow.session
    tenant_id, user_id = _ids(principal)
    body = content.validate(project_type, initial if initial is not None else content.EMPTY[project_type])
    project = Project(
        id=new_id("prj"),
        tenant_id=tenant_id,
        workspace_id=workspace_id,
        type=project_type.value,
        title=_check_name(title, "title", 200),
        content=body,
        created_by=user_id,
    )
    ProjectRepository(session, tenant_id).add(project)
    session.add(_version_row(project, user_id, [], "created"))
    payload = {"version": 1, "type": project_type.value, "title": project.title}
    record(uow, tenant_id, workspace_id, EventKind.PROJECT_CREATED, user_id, payload, project.id)
    uow.emit(
        de.ProjectCreated(
            tenant_id=tenant_id,
            actor_id=user_id,
            workspace_id=workspace_id,
            project_id=project.id,
            version=1,
            type=project.type,
            title=project.title,
            content=project.content,
        ),
    )
    await session.flush()
    uow.target_id = project.id
    return project


async def _commit_version(
    uow: UnitOfWork,
    principal: Principal,
    project: Project,
    expected_version: int,
    new_content: dict[str, Any],
    operations: list[Any],
    message: str | None,
    restored_from: int | None = None,
) -> Project:
    """Compare-and-set on the version: of two writers on the same version, one wins. The
    project was read once (by the field's permission); the answer is built, not re-read."""
    tenant_id, user_id = _ids(principal)
    if expected_version != project.version:
        raise Conflict("The project changed since that version", currentVersion=project.version)
    projects = ProjectRepository(uow.session, tenant_id)
    version = await projects.update_versioned(project.id, expected_version, content=new_content)
    changed = changed_copy(project, content=new_content, version=version, updated_at=utcnow())
    uow.session.add(_version_row(changed, user_id, operations, message, restored_from))
    payload: dict[str, Any] = {"version": version, "operations": operations, "message": message}
    if restored_from is not None:
        payload["restoredFrom"] = restored_from
    record(uow, tenant_id, project.workspace_id, EventKind.PROJECT_CHANGED, user_id, payload, project.id)
    uow.emit(
        de.ProjectChanged(
            tenant_id=tenant_id,
            actor_id=user_id,
            workspace_id=project.workspace_id,
            project_id=project.id,
            version=version,
            type=project.type,
            title=project.title,
            content=new_content,
            restored_from=restored_from,
        ),
    )
    await uow.session.flush()
    return changed


async def update_project(
    uow: UnitOfWork,
    principal: Principal,
    access: ProjectAccess,
    version: int,
    operations: Any,
    message: str | None,
) -> Project:
    project = access.project
    uow.target_id = project.id
    if version != project.version:
        raise Conflict("The project changed since that version", currentVersion=project.version)
    changed = content.apply(content.ProjectType(project.type), project.content, operations)
    return await _commit_version(
        uow, principal, project, version, changed, operations, _check_message(message)
    )


async def restore_version(
    uow: UnitOfWork,
    principal: Principal,
    access: ProjectAccess,
    version: int,
    restore: int,
    message: str | None,
) -> Project:
    """A new version equal to an old one: history is never rewritten."""
    project = access.project
    uow.target_id = project.id
    tenant_id, _ = _ids(principal)
    old = await VersionRepository(uow.session, tenant_id).of(project.id, restore)
    if old is None:
        raise NotFound("No such version", version=restore)
    operations = [{"op": "replace", "path": "", "value": old.content}]
    return await _commit_version(
        uow,
        principal,
        project,
        version,
        old.content,
        operations,
        _check_message(message),
        restored_from=restore,
    )


async def set_project_deleted(
    uow: UnitOfWork, principal: Principal, access: ProjectAccess, deleted: bool
) -> Project:
    """Soft delete (restorable), or restore a deleted project."""
    project = access.project
    uow.target_id = project.id
    tenant_id, user_id = _ids(principal)
    now = utcnow()
    at, by = (now, user_id) if deleted else (None, None)
    if not await ProjectRepository(uow.session, tenant_id).set_deleted(project.id, by, at):
        raise NotFound("Project not found", id=project.id)
    kind = EventKind.PROJECT_DELETED if deleted else EventKind.PROJECT_RESTORED
    payload = {"version": project.version}
    record(uow, tenant_id, project.workspace_id, kind, user_id, payload, project.id)
    gone = de.ProjectDeleted if deleted else de.ProjectRestored
    where = {"workspace_id": project.workspace_id, "project_id": project.id}
    uow.emit(gone(tenant_id=tenant_id, actor_id=user_id, version=project.version, **where))
    await uow.session.flush()
    return changed_copy(project, deleted_at=at, deleted_by=by, updated_at=now)


async def add_comment(
    uow: UnitOfWork,
    principal: Principal,
    access: ProjectAccess,
    body: str,
    reply_to: str | None,
    mentions: list[str],
) -> Comment:
    session, project = uow.session, access.project
    tenant_id, user_id = _ids(principal)
    body = body.strip()
    if not 1 <= len(body) <= 5000:
        raise BadUserInput("A comment has 1 to 5000 characters", field="body")
    comments = CommentRepository(session, tenant_id)
    thread_id: str | None = None
    if reply_to is not None:
        parent = await comments.get(reply_to)
        if parent is None or parent.project_id != project.id:
            raise NotFound("No such comment in this project", id=reply_to)
        thread_id = parent.thread_id
    mentioned = list(dict.fromkeys(mentions))
    if len(mentioned) > 20:
        raise BadUserInput("At most 20 mentions", field="mentions")
    if mentioned:
        members = await MemberRepository(session, tenant_id).list(
            WorkspaceMember.workspace_id == project.workspace_id,
            WorkspaceMember.user_id.in_(mentioned),  # type: ignore[attr-defined]
            limit=len(mentioned),
        )
        unknown = sorted(set(mentioned) - {member.user_id for member in members})
        if unknown:
            raise BadUserInput("Mentions must be members of the workspace", field="mentions", unknown=unknown)
    comment_id = new_id("cmt")
    comment = Comment(
        id=comment_id,
        tenant_id=tenant_id,
        workspace_id=project.workspace_id,
        project_id=project.id,
        thread_id=thread_id or comment_id,
        author_id=user_id,
        body=body,
        mentions=mentioned,
    )
    comments.add(comment)
    payload = {"commentId": comment.id, "threadId": comment.thread_id, "mentions": mentioned}
    record(uow, tenant_id, project.workspace_id, EventKind.COMMENT_ADDED, user_id, payload, project.id)
    uow.emit(
        de.CommentAdded(
            tenant_id=tenant_id,
            actor_id=user_id,
            workspace_id=project.workspace_id,
            project_id=project.id,
            comment_id=comment.id,
            thread_id=comment.thread_id,
            author_id=user_id,
            body=body,
            mentions=mentioned,
        ),
    )
    await session.flush()
    uow.target_id = comment.id
    return comment


async def set_resolved(
    uow: UnitOfWork, principal: Principal, access: CommentAccess, resolved: bool
) -> Comment:
    """Resolving works on a thread, through its first comment."""
    comment = access.comment
    uow.target_id = comment.id
    tenant_id, user_id = _ids(principal)
    if comment.thread_id != comment.id:
        raise BadUserInput(
            "Resolve the thread through its first comment", field="id", threadId=comment.thread_id
        )
    at, by = (utcnow(), user_id) if resolved else (None, None)
    await CommentRepository(uow.session, tenant_id).set_resolution(comment.id, at, by)
    kind = EventKind.COMMENT_RESOLVED if resolved else EventKind.COMMENT_UNRESOLVED
    payload = {"commentId": comment.id}
    record(uow, tenant_id, comment.workspace_id, kind, user_id, payload, comment.project_id)
    resolution = de.CommentResolved if resolved else de.CommentUnresolved
    where = {"workspace_id": comment.workspace_id, "project_id": comment.project_id, "comment_id": comment.id}
    uow.emit(resolution(tenant_id=tenant_id, actor_id=user_id, **where))
    await uow.session.flush()
    return changed_copy(comment, resolved_at=at, resolved_by=by)


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
    try:
        async for event_id, fields in hub.follow(events.stream_key(workspace_id), after):
            event = events.decode(event_id, fields)
            if event.kind in MEMBERSHIP_KINDS and event.payload.get("userId") == me:
                if await fresh_membership(context, workspace_id) is None:
                    raise Forbidden("You are no longer a member of this workspace", workspaceId=workspace_id)
            if project_id is None or event.project_id == project_id:
                yield event
    except PositionLost as error:
        raise ResyncRequired(str(error), workspaceId=workspace_id) from error
