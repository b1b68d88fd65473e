"""Workspace roles (owner > editor > commenter > viewer) decided by Casbin with the workspace
as the domain: the caller's membership is the subject, the field's coordinate the object
(`ws:<Type>.<field>`). Fields declare which resource they act on (`ResourcePermission` with
one of the scopes below); the scope finds the workspace and the caller's role in it."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from shared.context import RequestContext
from shared.permissions.resources import Grant, ResourcePermission
from subgraphs.collaboration.loaders import membership_loader, project_loader
from subgraphs.collaboration.models import Comment, Project, WorkspaceMember
from subgraphs.collaboration.repository import CommentRepository, MemberRepository, ProjectRepository

PREFIX = "ws:"


class WorkspaceRole(enum.StrEnum):
    VIEWER = "viewer"
    COMMENTER = "commenter"
    EDITOR = "editor"
    OWNER = "owner"

    @property
    def rank(self) -> int:
        return list(WorkspaceRole).index(self)


@dataclass(frozen=True)
class ProjectAccess:
    project: Project
    member: WorkspaceMember


@dataclass(frozen=True)
class CommentAccess:
    comment: Comment
    member: WorkspaceMember


async def membership(context: RequestContext, workspace_id: str) -> WorkspaceMember | None:
    """The caller's membership, through the request's loader."""
    return await membership_loader(context).load(workspace_id)


async def fresh_membership(context: RequestContext, workspace_id: str) -> WorkspaceMember | None:
    """Read now, in a session of its own: for subscriptions, which must not hold the
    connection's shared session for as long as they live, and see role changes."""
    principal = context.principal
    if not principal.tenant_id or not principal.user_id:
        return None
    async with context.runtime.db.read() as session:
        return await MemberRepository(session, principal.tenant_id).find(workspace_id, principal.user_id)


def _grant(member: WorkspaceMember, resource: Any) -> Grant[Any]:
    return Grant(member.workspace_id, (f"workspace:{member.role}",), resource, member.role)


async def _member(context: RequestContext, workspace_id: str, fresh: bool) -> WorkspaceMember | None:
    return await (fresh_membership(context, workspace_id) if fresh else membership(context, workspace_id))


class Workspaces:
    """The resource is a workspace; the grant's resource is the caller's membership."""

    prefix = PREFIX
    kind = "Workspace"

    async def grant(self, context: RequestContext, workspace_id: str, *, fresh: bool) -> Grant[Any] | None:
        member = await _member(context, workspace_id, fresh)
        return _grant(member, member) if member else None


class Projects:
    """The resource is a project (`deleted`: only a soft-deleted one, to restore it); the
    grant's resource is a `ProjectAccess`. A project of a workspace the caller is not in
    does not exist for them."""

    prefix = PREFIX
    kind = "Project"

    def __init__(self, *, deleted: bool = False) -> None:
        self.deleted = deleted

    async def grant(self, context: RequestContext, project_id: str, *, fresh: bool) -> Grant[Any] | None:
        project = await self._project(context, project_id, fresh)
        if project is None:
            return None
        member = await _member(context, project.workspace_id, fresh)
        return _grant(member, ProjectAccess(project, member)) if member else None

    async def _project(self, context: RequestContext, project_id: str, fresh: bool) -> Project | None:
        tenant_id = context.principal.tenant_id
        if not tenant_id:
            return None
        if not fresh and not self.deleted:
            return await project_loader(context).load(project_id)
        if fresh:
            async with context.runtime.db.read() as session:
                return await ProjectRepository(session, tenant_id).get(project_id)
        row = await ProjectRepository(await context.session(), tenant_id).get(
            project_id, include_deleted=True
        )
        return row if row is not None and row.deleted_at is not None else None


class Comments:
    """The resource is a comment; the grant's resource is a `CommentAccess`."""

    prefix = PREFIX
    kind = "Comment"

    async def grant(self, context: RequestContext, comment_id: str, *, fresh: bool) -> Grant[Any] | None:
        tenant_id = context.principal.tenant_id
        if not tenant_id:
            return None
        comment = await CommentRepository(await context.session(), tenant_id).get(comment_id)
        if comment is None:
            return None
        member = await _member(context, comment.workspace_id, fresh)
        return _grant(member, CommentAccess(comment, member)) if member else None


WORKSPACES = Workspaces()
PROJECTS = Projects()
DELETED_PROJECTS = Projects(deleted=True)
COMMENTS = Comments()


def on_workspace(argument: str | None = None, **options: Any) -> ResourcePermission:
    """The field acts on a workspace: its id at `argument`, or `parent=` an attribute."""
    return ResourcePermission(WORKSPACES, argument, **options)


def on_project(argument: str, *, deleted: bool = False, **options: Any) -> ResourcePermission:
    return ResourcePermission(DELETED_PROJECTS if deleted else PROJECTS, argument, **options)


def on_comment(argument: str) -> ResourcePermission:
    return ResourcePermission(COMMENTS, argument)
