"""Rules of workspaces, members, invitations, projects and comments; no GraphQL here.
Each function works in the caller's transaction and returns the events it recorded."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.principal import Principal
from shared.db import new_id, utcnow
from shared.domain_events import emit
from shared.errors import BadUserInput, Conflict, Forbidden, NotFound
from subgraphs.collaboration import content
from subgraphs.collaboration import domain_events as de
from subgraphs.collaboration.access import WorkspaceRole
from subgraphs.collaboration.events import EventKind, record
from subgraphs.collaboration.models import (
    ActivityEvent,
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


@dataclass
class Outcome:
    """What a change produced: the rows to return and the events to publish after commit."""

    events: list[ActivityEvent] = field(default_factory=list)


def _ids(principal: Principal) -> tuple[str, str]:
    if not principal.tenant_id or not principal.user_id:
        raise Forbidden("A signed-in user is required")
    return principal.tenant_id, principal.user_id


def _check_name(value: str, field: str, limit: int) -> str:
    value = value.strip()
    if not 1 <= len(value) <= limit:
        raise BadUserInput(f"{field} must have 1 to {limit} characters", field=field)
    return value


async def create_workspace(
    session: AsyncSession, principal: Principal, name: str
) -> tuple[Workspace, Outcome]:
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
    outcome = Outcome([record(session, tenant_id, workspace.id, EventKind.MEMBER_JOINED, user_id, payload)])
    ids = {"tenant_id": tenant_id, "actor_id": user_id, "workspace_id": workspace.id}
    emit(session, de.WorkspaceCreated(**ids, name=workspace.name, owner_id=user_id))
    emit(session, de.MemberAdded(**ids, user_id=user_id, role="owner"))
    await session.flush()
    return workspace, outcome


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


async def create_invitation(
    session: AsyncSession,
    principal: Principal,
    inviter: WorkspaceMember,
    role: WorkspaceRole,
    email: str | None,
) -> tuple[Invitation, str]:
    """An inviter grants at most their own role. Returns the invitation and its code (shown
    once; only its hash is stored)."""
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
    emit(
        session,
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
    return invitation, code


async def accept_invitation(
    session: AsyncSession, principal: Principal, code: str
) -> tuple[WorkspaceMember, Outcome]:
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
    event = record(session, tenant_id, invitation.workspace_id, EventKind.MEMBER_JOINED, user_id, payload)
    emit(
        session,
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
    return member, Outcome([event])


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
    session: AsyncSession, principal: Principal, workspace_id: str, user_id: str, role: WorkspaceRole
) -> tuple[WorkspaceMember, Outcome]:
    tenant_id, actor_id = _ids(principal)
    member = await _member_of(session, tenant_id, workspace_id, user_id)
    if member.role != role.value:
        if role is not WorkspaceRole.OWNER:
            await _keep_an_owner(session, tenant_id, member)
        changed = {"workspace_id": workspace_id, "user_id": user_id, "previous_role": member.role}
        emit(
            session, de.MemberRoleChanged(tenant_id=tenant_id, actor_id=actor_id, role=role.value, **changed)
        )
        member.role = role.value
        member.version += 1
        session.add(member)
    payload = {"userId": user_id, "role": role.value}
    event = record(session, tenant_id, workspace_id, EventKind.MEMBER_ROLE_CHANGED, actor_id, payload)
    await session.flush()
    return member, Outcome([event])


async def remove_member(
    session: AsyncSession, principal: Principal, workspace_id: str, user_id: str
) -> Outcome:
    tenant_id, actor_id = _ids(principal)
    member = await _member_of(session, tenant_id, workspace_id, user_id)
    await _keep_an_owner(session, tenant_id, member)
    await session.delete(member)
    removed = {"workspace_id": workspace_id, "user_id": user_id, "role": member.role}
    emit(session, de.MemberRemoved(tenant_id=tenant_id, actor_id=actor_id, **removed))
    payload = {"userId": user_id, "removedBy": actor_id}
    event = record(session, tenant_id, workspace_id, EventKind.MEMBER_LEFT, actor_id, payload)
    await session.flush()
    return Outcome([event])


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
    session: AsyncSession,
    principal: Principal,
    workspace_id: str,
    project_type: content.ProjectType,
    title: str,
    initial: Any | None,
) -> tuple[Project, Outcome]:
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
    event = record(session, tenant_id, workspace_id, EventKind.PROJECT_CREATED, user_id, payload, project.id)
    emit(
        session,
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
    return project, Outcome([event])


async def _commit_version(
    session: AsyncSession,
    principal: Principal,
    project: Project,
    expected_version: int,
    new_content: dict[str, Any],
    operations: list[Any],
    message: str | None,
    restored_from: int | None = None,
) -> tuple[Project, Outcome]:
    """Compare-and-set on the version: of two writers on the same version, one wins."""
    tenant_id, user_id = _ids(principal)
    if expected_version != project.version:
        raise Conflict("The project changed since that version", currentVersion=project.version)
    projects = ProjectRepository(session, tenant_id)
    await projects.update_versioned(project.id, expected_version, content=new_content)
    await session.refresh(project)
    session.add(_version_row(project, user_id, operations, message, restored_from))
    payload: dict[str, Any] = {"version": project.version, "operations": operations, "message": message}
    if restored_from is not None:
        payload["restoredFrom"] = restored_from
    event = record(
        session, tenant_id, project.workspace_id, EventKind.PROJECT_CHANGED, user_id, payload, project.id
    )
    emit(
        session,
        de.ProjectChanged(
            tenant_id=tenant_id,
            actor_id=user_id,
            workspace_id=project.workspace_id,
            project_id=project.id,
            version=project.version,
            type=project.type,
            title=project.title,
            content=project.content,
            restored_from=restored_from,
        ),
    )
    await session.flush()
    return project, Outcome([event])


async def update_project(
    session: AsyncSession,
    principal: Principal,
    project: Project,
    version: int,
    operations: Any,
    message: str | None,
) -> tuple[Project, Outcome]:
    if version != project.version:
        raise Conflict("The project changed since that version", currentVersion=project.version)
    changed = content.apply(content.ProjectType(project.type), project.content, operations)
    return await _commit_version(
        session, principal, project, version, changed, operations, _check_message(message)
    )


async def restore_version(
    session: AsyncSession,
    principal: Principal,
    project: Project,
    version: int,
    restore: int,
    message: str | None,
) -> tuple[Project, Outcome]:
    """A new version equal to an old one: history is never rewritten."""
    assert principal.tenant_id
    old = await VersionRepository(session, principal.tenant_id).of(project.id, restore)
    if old is None:
        raise NotFound("No such version", version=restore)
    operations = [{"op": "replace", "path": "", "value": old.content}]
    return await _commit_version(
        session,
        principal,
        project,
        version,
        old.content,
        operations,
        _check_message(message),
        restored_from=restore,
    )


async def set_project_deleted(
    session: AsyncSession, principal: Principal, project: Project, deleted: bool
) -> tuple[Project, Outcome]:
    tenant_id, user_id = _ids(principal)
    projects = ProjectRepository(session, tenant_id)
    if deleted:
        await projects.soft_delete(project, by=user_id)
    else:
        await projects.restore(project)
    kind = EventKind.PROJECT_DELETED if deleted else EventKind.PROJECT_RESTORED
    event = record(
        session, tenant_id, project.workspace_id, kind, user_id, {"version": project.version}, project.id
    )
    gone = de.ProjectDeleted if deleted else de.ProjectRestored
    where = {"workspace_id": project.workspace_id, "project_id": project.id}
    emit(session, gone(tenant_id=tenant_id, actor_id=user_id, version=project.version, **where))
    await session.flush()
    return project, Outcome([event])


async def add_comment(
    session: AsyncSession,
    principal: Principal,
    project: Project,
    body: str,
    reply_to: str | None,
    mentions: list[str],
) -> tuple[Comment, Outcome]:
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
    event = record(
        session, tenant_id, project.workspace_id, EventKind.COMMENT_ADDED, user_id, payload, project.id
    )
    emit(
        session,
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
    return comment, Outcome([event])


async def set_resolved(
    session: AsyncSession, principal: Principal, comment: Comment, resolved: bool
) -> tuple[Comment, Outcome]:
    """Resolving works on a thread, through its first comment."""
    tenant_id, user_id = _ids(principal)
    if comment.thread_id != comment.id:
        raise BadUserInput(
            "Resolve the thread through its first comment", field="id", threadId=comment.thread_id
        )
    comment.resolved_at, comment.resolved_by = (utcnow(), user_id) if resolved else (None, None)
    session.add(comment)
    kind = EventKind.COMMENT_RESOLVED if resolved else EventKind.COMMENT_UNRESOLVED
    event = record(
        session, tenant_id, comment.workspace_id, kind, user_id, {"commentId": comment.id}, comment.project_id
    )
    resolution = de.CommentResolved if resolved else de.CommentUnresolved
    where = {"workspace_id": comment.workspace_id, "project_id": comment.project_id, "comment_id": comment.id}
    emit(session, resolution(tenant_id=tenant_id, actor_id=user_id, **where))
    await session.flush()
    return comment, Outcome([event])
