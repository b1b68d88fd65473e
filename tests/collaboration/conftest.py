"""accounts and collaboration served together (uvicorn on a loopback port, as the router
sees them), plus helpers to build a team with roles."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from shared.db import Database
from shared.runtime import SubgraphRuntime
from tests.support.graphql import gql, sign_up
from tests.support.hosting import served_together
from tests.support.secrets import remember_secret

CREATE_WORKSPACE = (
    "mutation($i: CreateWorkspaceInput!) { createWorkspace(input: $i) { workspace { id myRole } } }"
)
INVITE = """mutation($i: CreateWorkspaceInvitationInput!) { createWorkspaceInvitation(input: $i) {
  code invitation { id role email } } }"""
ACCEPT = "mutation($i: AcceptWorkspaceInvitationInput!) { acceptWorkspaceInvitation(input: $i) { workspace { id myRole } } }"
TENANT_INVITE = "mutation($input: CreateInvitationInput!) { createInvitation(input: $input) { code } }"
CREATE_PROJECT = """mutation($i: CreateProjectInput!) { createProject(input: $i) {
  project { id version type content } } }"""
UPDATE = (
    """mutation($i: UpdateProjectInput!) { updateProject(input: $i) { project { id version content } } }"""
)
PROJECT = "query($id: ID!) { project(id: $id) { id version content title deletedAt } }"


@dataclass
class Team:
    workspace_id: str
    tokens: dict[str, str] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)


@dataclass
class Collab:
    url: str
    client: httpx.AsyncClient
    runtimes: dict[str, SubgraphRuntime]
    db: Database
    """The same database, on the test's event loop (the runtimes' engines live on the server's)."""
    shared_team: Team | None = None
    """For property tests: hypothesis runs many examples on one fixture, one team does."""

    @property
    def runtime(self) -> SubgraphRuntime:
        return self.runtimes["collaboration"]

    @property
    def ws_url(self) -> str:
        return self.url.replace("http", "ws") + "/collaboration/graphql"

    async def gql(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
        return await gql(self.client, query, variables, token=token, path="/collaboration/graphql")

    async def ok(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
        body = await self.gql(query, variables, token)
        assert "errors" not in body, body
        return body["data"]


async def make_team(collab: Collab, roles: tuple[str, ...] = ("EDITOR", "COMMENTER", "VIEWER")) -> Team:
    """An owner, a workspace, and one member per role (all in the owner's tenant)."""
    owner = await sign_up(collab.client, path="/accounts/graphql")
    workspace = (await collab.ok(CREATE_WORKSPACE, {"i": {"name": "Album launch"}}, owner["token"]))[
        "createWorkspace"
    ]
    team = Team(workspace["workspace"]["id"], {"OWNER": owner["token"]}, {"OWNER": owner["user"]["id"]})
    for role in roles:
        tenant_code = (
            await gql(
                collab.client,
                TENANT_INVITE,
                {"input": {"role": "MEMBER"}},
                token=owner["token"],
                path="/accounts/graphql",
            )
        )["data"]["createInvitation"]["code"]
        remember_secret(tenant_code)
        person = await sign_up(
            collab.client, invitation_code=tenant_code, display_name=role.title(), path="/accounts/graphql"
        )
        code = (
            await collab.ok(INVITE, {"i": {"workspaceId": team.workspace_id, "role": role}}, owner["token"])
        )["createWorkspaceInvitation"]["code"]
        remember_secret(code)
        await collab.ok(ACCEPT, {"i": {"code": code}}, person["token"])
        team.tokens[role], team.users[role] = person["token"], person["user"]["id"]
    return team


async def make_project(
    collab: Collab, team: Team, type: str = "PLAYLIST_DRAFT", **extra: Any
) -> dict[str, Any]:
    variables = {"i": {"workspaceId": team.workspace_id, "type": type, "title": "Summer draft", **extra}}
    return dict(
        (await collab.ok(CREATE_PROJECT, variables, team.tokens["OWNER"]))["createProject"]["project"]
    )


@asynccontextmanager
async def serve(settings: Any, redis_url: str, database: Database) -> AsyncIterator[Collab]:
    with served_together(["accounts", "collaboration"], settings, redis_url) as (runtimes, server):
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            yield Collab(server.url, client, runtimes, database)


@pytest.fixture
async def collab(settings, redis_server, database) -> AsyncIterator[Collab]:
    from redis.asyncio import Redis

    flush = Redis.from_url(redis_server.url)
    await flush.flushall()
    await flush.aclose()
    async with serve(settings, redis_server.url, database) as served:
        yield served
