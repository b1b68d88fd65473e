"""The collaboration subgraph's schema, assembled from one module per sub-domain. Resolvers
are thin: the rules are in service.py, the permissions declared on each field."""

from __future__ import annotations

import strawberry

from shared.config import Settings
from shared.schema import PlatformSchema, build_schema
from subgraphs.collaboration.schema.comments import CommentMutation
from subgraphs.collaboration.schema.items import ItemsQuery
from subgraphs.collaboration.schema.projects import ProjectMutation, ProjectQuery
from subgraphs.collaboration.schema.subscriptions import Subscription
from subgraphs.collaboration.schema.workspaces import WorkspaceMutation, WorkspaceQuery
from subgraphs.collaboration.types import Asset, Playlist, Track, User, Workspace


@strawberry.type
class Query(WorkspaceQuery, ProjectQuery, ItemsQuery):
    pass


@strawberry.type
class Mutation(WorkspaceMutation, ProjectMutation, CommentMutation):
    pass


def create_schema(settings: Settings) -> PlatformSchema:
    return build_schema(
        settings,
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Workspace, User, Track, Playlist, Asset],
    )
