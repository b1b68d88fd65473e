"""Platform mechanisms: accounts, collaboration and spotify hosted together in-process (as the
dev host mounts them) with a ServiceTokens minting from the key ring; a clean Redis per
domain-event test and the table its consumers apply to."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from jose import jwt
from redis.asyncio import Redis
from sqlalchemy import Table

from shared.auth.service_tokens import ServiceTokens
from shared.db import Database
from shared.redis import EmbeddedRedis, create_redis
from shared.runtime import SubgraphRuntime
from tests.support.domain_events import APPLIED
from tests.support.graphql import gql, sign_up
from tests.support.hosting import hosted_together

CREATE_WORKSPACE = "mutation($i: CreateWorkspaceInput!) { createWorkspace(input: $i) { workspace { id } } }"
CREATE_PROJECT = """mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id } } }"""


@dataclass
class Artist:
    token: str
    user_id: str
    tenant_id: str
    workspace_id: str
    project_id: str


@dataclass
class Platform:
    client: httpx.AsyncClient
    runtimes: dict[str, SubgraphRuntime]
    tokens: ServiceTokens

    async def gql(self, subgraph: str, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        return await gql(self.client, query, variables, path=f"/{subgraph}/graphql", **kw)

    async def artist(self, project_title: str) -> Artist:
        account = await sign_up(self.client, path="/accounts/graphql")
        token = account["token"]
        tenant_id = jwt.get_unverified_claims(token)["tid"]
        created = await self.gql("collaboration", CREATE_WORKSPACE, {"i": {"name": "Launch"}}, token=token)
        workspace_id = created["data"]["createWorkspace"]["workspace"]["id"]
        variables = {"i": {"workspaceId": workspace_id, "type": "PLAYLIST_DRAFT", "title": project_title}}
        project = await self.gql("collaboration", CREATE_PROJECT, variables, token=token)
        assert "errors" not in project, project
        project_id = project["data"]["createProject"]["project"]["id"]
        return Artist(token, account["user"]["id"], tenant_id, workspace_id, project_id)


@pytest.fixture
async def platform(settings, redis_server, database) -> AsyncIterator[Platform]:
    from redis.asyncio import Redis

    flush = Redis.from_url(redis_server.url)
    await flush.flushall()
    await flush.aclose()
    names = ["accounts", "collaboration", "spotify"]
    async with hosted_together(
        names, settings, redis_server.url, client_address=("203.0.113.9", 5555)
    ) as host:
        ring = host.runtimes["accounts"].key_ring
        tokens = ServiceTokens(ring, settings.jwt_issuer, settings.jwt_audience)
        yield Platform(host.client, host.runtimes, tokens)


@pytest.fixture
async def redis(redis_server: EmbeddedRedis) -> AsyncIterator[Redis]:
    client = create_redis(redis_server.url)
    await client.flushall()
    yield client
    await client.aclose()


@pytest.fixture
async def applied_table(database: Database) -> Table:
    async with database.write_engine.begin() as connection:
        await connection.run_sync(APPLIED.metadata.create_all)
    return APPLIED
