"""Per-request loaders: the caller's memberships and projects by id, one SQL per batch.

Platform services (service tokens) are no member of any workspace, but Casbin may link their
subject to a workspace role, e.g. `g, service:search, workspace:viewer, *`. A service then
reads the workspaces of the tenant it acts for as a viewer would: never more than a viewer,
never another tenant's."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from shared.context import RequestContext
from shared.permissions.enforcer import Decision
from subgraphs.collaboration.models import Project, WorkspaceMember
from subgraphs.collaboration.repository import MemberRepository, ProjectRepository, WorkspaceRepository

SERVICE_ROLE = "viewer"
"""The role a service holds in a workspace its policy lets it read."""
READ_WORKSPACE = "ws:Query.workspace"
"""What a service must be allowed in a workspace to be its viewer: reading it."""


async def service_memberships(
    context: RequestContext, workspace_ids: Sequence[str]
) -> list[WorkspaceMember | None]:
    principal = context.principal
    if principal.kind != "service" or not principal.tenant_id or not principal.actor_id:
        return [None] * len(workspace_ids)
    tenant_id, subject = principal.tenant_id, principal.actor_id
    found = await WorkspaceRepository.load_many(context.runtime.db, tenant_id, workspace_ids)
    members: list[WorkspaceMember | None] = []
    for workspace_id in workspace_ids:
        readable = workspace_id in found and (
            context.policies.decide((subject,), workspace_id, READ_WORKSPACE, "read") is Decision.ALLOW
        )
        members.append(
            WorkspaceMember(
                id=subject,
                tenant_id=tenant_id,
                workspace_id=workspace_id,
                user_id=subject,
                role=SERVICE_ROLE,
            )
            if readable
            else None
        )
    return members


def _memberships(context: RequestContext) -> DataLoader[str, WorkspaceMember | None]:
    async def load(workspace_ids: Sequence[str]) -> list[WorkspaceMember | None]:
        principal = context.principal
        if principal.kind == "service":
            return await service_memberships(context, workspace_ids)
        if not principal.tenant_id or not principal.user_id:
            return [None] * len(workspace_ids)
        found = await MemberRepository.load_of_user(
            context.runtime.db, principal.tenant_id, principal.user_id, workspace_ids
        )
        return [found.get(id) for id in workspace_ids]

    return DataLoader(load_fn=load)


def _projects(context: RequestContext) -> DataLoader[str, Project | None]:
    async def load(ids: Sequence[str]) -> list[Project | None]:
        tenant_id = context.principal.tenant_id
        if not tenant_id:
            return [None] * len(ids)
        found = await ProjectRepository.load_many(context.runtime.db, tenant_id, ids)
        return [found.get(id) for id in ids]

    return DataLoader(load_fn=load)


def membership_loader(context: RequestContext) -> DataLoader[str, WorkspaceMember | None]:
    """The caller's membership by workspace id."""
    return context.loader("collaboration.memberships", _memberships)


def project_loader(context: RequestContext) -> DataLoader[str, Project | None]:
    return context.loader("collaboration.projects", _projects)
