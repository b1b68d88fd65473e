"""Comments on a project (with mentions of workspace members) and their resolution."""

from __future__ import annotations

from shared.auth.principal import Principal
from shared.db import new_id, utcnow
from shared.db.repository import changed_copy
from shared.errors import BadUserInput, NotFound
from shared.mutations import UnitOfWork
from subgraphs.collaboration import domain_events as de
from subgraphs.collaboration.access import CommentAccess, ProjectAccess
from subgraphs.collaboration.models import (
    Comment,
    WorkspaceMember,
)
from subgraphs.collaboration.repository import (
    CommentRepository,
    MemberRepository,
)
from subgraphs.collaboration.service.activity import EventKind, record
from subgraphs.collaboration.service.common import signed_in_ids


async def add_comment(
    uow: UnitOfWork,
    principal: Principal,
    access: ProjectAccess,
    body: str,
    reply_to: str | None,
    mentions: list[str],
) -> Comment:
    session, project = uow.session, access.project
    tenant_id, user_id = signed_in_ids(principal)
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
    tenant_id, user_id = signed_in_ids(principal)
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
