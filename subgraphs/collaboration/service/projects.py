"""Projects: created from a type's empty content, changed by versioned JSON Patch, soft-deleted
and restored; every version is kept."""

from __future__ import annotations

from typing import Any

from shared.auth.principal import Principal
from shared.db import new_id, utcnow
from shared.db.repository import changed_copy
from shared.errors import BadUserInput, Conflict, NotFound
from shared.mutations import UnitOfWork
from subgraphs.collaboration import domain_events as de
from subgraphs.collaboration.access import ProjectAccess
from subgraphs.collaboration.models import (
    Project,
    ProjectVersion,
)
from subgraphs.collaboration.repository import (
    ProjectRepository,
    VersionRepository,
)
from subgraphs.collaboration.service import content
from subgraphs.collaboration.service.activity import EventKind, record
from subgraphs.collaboration.service.common import checked_name, signed_in_ids


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
    tenant_id, user_id = signed_in_ids(principal)
    body = content.validate(project_type, initial if initial is not None else content.EMPTY[project_type])
    project = Project(
        id=new_id("prj"),
        tenant_id=tenant_id,
        workspace_id=workspace_id,
        type=project_type.value,
        title=checked_name(title, "title", 200),
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
    tenant_id, user_id = signed_in_ids(principal)
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
    tenant_id, _ = signed_in_ids(principal)
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
    tenant_id, user_id = signed_in_ids(principal)
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
