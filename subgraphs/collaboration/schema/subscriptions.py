"""Live streams of a workspace and of one project, resumable from an event id."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from shared.permissions.resources import granted
from subgraphs.collaboration import service
from subgraphs.collaboration.access import on_project, on_workspace
from subgraphs.collaboration.types import CollabInfo, WorkspaceEvent

AFTER = "Resume after this event id (`WorkspaceEvent.id`); null for new events only."


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Everything that happens in a workspace, from `after` on (or from now).",
        extensions=[on_workspace("workspaceId", fresh=True)],
    )
    async def workspace_events(
        self,
        info: CollabInfo,
        workspace_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="Collaboration workspace id of a workspace you are a member of."),
        ],
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> AsyncGenerator[WorkspaceEvent, None]:
        async for event in service.follow_workspace(info.context, str(workspace_id), after):
            yield WorkspaceEvent.from_event(event)

    @strawberry.subscription(
        description="Changes of one project (its operations and versions), from `after` on.",
        extensions=[on_project("projectId", fresh=True)],
    )
    async def project_changes(
        self,
        info: CollabInfo,
        project_id: Annotated[strawberry.ID, strawberry.argument(description="Collaboration project id.")],
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> AsyncGenerator[WorkspaceEvent, None]:
        project = granted(info).resource.project
        async for event in service.follow_workspace(info.context, project.workspace_id, after, project.id):
            yield WorkspaceEvent.from_event(event)
