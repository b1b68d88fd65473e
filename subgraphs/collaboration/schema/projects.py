"""Projects of a workspace: created, edited by JSON Patch on a known version, restored to an
old version, deleted and brought back."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from shared.mutations import unit_of_work
from shared.permissions.resources import granted
from subgraphs.collaboration import service
from subgraphs.collaboration.access import on_project, on_workspace
from subgraphs.collaboration.service.content import ProjectType
from subgraphs.collaboration.types import CollabInfo, Project, readable_project


@strawberry.input(description="A new project in a workspace.")
class CreateProjectInput:
    workspace_id: strawberry.ID = strawberry.field(description="Collaboration workspace id.")
    type: ProjectType = strawberry.field(
        description="What the project holds; fixes its content's shape for good."
    )
    title: str = strawberry.field(description="The project's title, 1 to 200 characters.")
    content: JSON | None = strawberry.field(default=None, description="Initial content; default: empty.")


@strawberry.input(description="Operations on a project's content, made on a known version.")
class UpdateProjectInput:
    id: strawberry.ID = strawberry.field(description="Collaboration project id.")
    version: int = strawberry.field(description="The version the operations were made on.")
    operations: JSON = strawberry.field(description="JSON Patch (RFC 6902) operations, 1 to 100.")
    message: str | None = strawberry.field(
        default=None, description="A note on the change, up to 500 characters."
    )


@strawberry.input(description="An old version of a project to bring back as a new version.")
class RestoreProjectVersionInput:
    id: strawberry.ID = strawberry.field(description="Collaboration project id.")
    version: int = strawberry.field(description="The current version (as for updateProject).")
    restore: int = strawberry.field(description="The version whose content comes back.")
    message: str | None = strawberry.field(
        default=None, description="A note on the restore, up to 500 characters."
    )


@strawberry.input(description="A project, by id.")
class ProjectIdInput:
    id: strawberry.ID = strawberry.field(description="Collaboration project id.")


@strawberry.type(description="The project after the change.")
class ProjectPayload:
    project: Project = strawberry.field(description="The project, with its new version.")


@strawberry.type
class ProjectQuery:
    @strawberry.field(description="A project of one of your workspaces; null for any other.")
    async def project(
        self,
        info: CollabInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description="Collaboration project id.")],
    ) -> Project | None:
        return await readable_project(info, str(id))


@strawberry.type
class ProjectMutation:
    @strawberry.mutation(
        description="Start a project in a workspace (editors).",
        extensions=[on_workspace("input.workspaceId")],
    )
    async def create_project(
        self,
        info: CollabInfo,
        input: Annotated[
            CreateProjectInput, strawberry.argument(description="Workspace, type, title and content.")
        ],
    ) -> ProjectPayload:
        audit = {"workspaceId": input.workspace_id, "type": input.type.value}
        async with unit_of_work(info, audit) as uow:
            row = await service.create_project(
                uow, info.context.principal, str(input.workspace_id), input.type, input.title, input.content
            )
        return ProjectPayload(project=Project.from_row(row))

    @strawberry.mutation(
        description="Apply operations made on `version`; a stale version gets CONFLICT.",
        extensions=[on_project("input.id")],
    )
    async def update_project(
        self,
        info: CollabInfo,
        input: Annotated[
            UpdateProjectInput, strawberry.argument(description="Project, base version and operations.")
        ],
    ) -> ProjectPayload:
        async with unit_of_work(info, {"projectId": input.id, "version": input.version}) as uow:
            row = await service.update_project(
                uow,
                info.context.principal,
                granted(info).resource,
                input.version,
                input.operations,
                input.message,
            )
        return ProjectPayload(project=Project.from_row(row))

    @strawberry.mutation(
        description="Make a new version equal to an old one.", extensions=[on_project("input.id")]
    )
    async def restore_project_version(
        self,
        info: CollabInfo,
        input: Annotated[
            RestoreProjectVersionInput,
            strawberry.argument(description="Project, current version and the one to restore."),
        ],
    ) -> ProjectPayload:
        async with unit_of_work(info, {"projectId": input.id, "restore": input.restore}) as uow:
            row = await service.restore_version(
                uow,
                info.context.principal,
                granted(info).resource,
                input.version,
                input.restore,
                input.message,
            )
        return ProjectPayload(project=Project.from_row(row))

    @strawberry.mutation(
        description="Soft-delete a project (editors); restorable.", extensions=[on_project("input.id")]
    )
    async def delete_project(
        self,
        info: CollabInfo,
        input: Annotated[ProjectIdInput, strawberry.argument(description="The project to delete.")],
    ) -> ProjectPayload:
        async with unit_of_work(info, {"projectId": input.id}) as uow:
            row = await service.set_project_deleted(uow, info.context.principal, granted(info).resource, True)
        return ProjectPayload(project=Project.from_row(row))

    @strawberry.mutation(
        description="Bring back a deleted project.", extensions=[on_project("input.id", deleted=True)]
    )
    async def restore_project(
        self,
        info: CollabInfo,
        input: Annotated[ProjectIdInput, strawberry.argument(description="The deleted project.")],
    ) -> ProjectPayload:
        async with unit_of_work(info, {"projectId": input.id}) as uow:
            row = await service.set_project_deleted(
                uow, info.context.principal, granted(info).resource, False
            )
        return ProjectPayload(project=Project.from_row(row))
