"""Per-request loaders: the caller's memberships and projects by id, one SQL per batch."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from shared.context import RequestContext
from subgraphs.collaboration.models import Project, WorkspaceMember
from subgraphs.collaboration.repository import MemberRepository, ProjectRepository
from subgraphs.collaboration.service_access import service_memberships


def _memberships(context: RequestContext) -> DataLoader[str, WorkspaceMember | None]:
    async def load(workspace_ids: Sequence[str]) -> list[WorkspaceMember | None]:
        principal = context.principal
        if principal.kind == "service":
            return await service_memberships(context, workspace_ids)
        if not principal.tenant_id or not principal.user_id:
            return [None] * len(workspace_ids)
        repo = MemberRepository(await context.session(), principal.tenant_id)
        found = await repo.of_user(principal.user_id, workspace_ids)
        return [found.get(id) for id in workspace_ids]

    return DataLoader(load_fn=load)


def _projects(context: RequestContext) -> DataLoader[str, Project | None]:
    async def load(ids: Sequence[str]) -> list[Project | None]:
        tenant_id = context.principal.tenant_id
        if not tenant_id:
            return [None] * len(ids)
        found = await ProjectRepository(await context.session(), tenant_id).get_many(ids)
        return [found.get(id) for id in ids]

    return DataLoader(load_fn=load)


def membership_loader(context: RequestContext) -> DataLoader[str, WorkspaceMember | None]:
    """The caller's membership by workspace id."""
    return context.loader("collaboration.memberships", _memberships)


def project_loader(context: RequestContext) -> DataLoader[str, Project | None]:
    return context.loader("collaboration.projects", _projects)
