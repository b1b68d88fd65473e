"""Platform services (service tokens) in the workspace layer: a service is no member of any
workspace, but Casbin may link its subject to a workspace role, e.g.
`g, service:search, workspace:viewer, *`. It then reads the workspaces of the tenant it acts
for as a viewer would: never more than a viewer, never another tenant's."""

from __future__ import annotations

from collections.abc import Sequence

from shared.context import RequestContext
from shared.permissions.enforcer import Decision
from subgraphs.collaboration.models import WorkspaceMember
from subgraphs.collaboration.repository import WorkspaceRepository

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
    found = await WorkspaceRepository(await context.session(), tenant_id).get_many(list(workspace_ids))
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
