"""The registry service in-process (with the platform's own subgraphs published through
it), partner teams with accounts API keys, and a platform admin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from gateway.host import definitions
from gateway.registry.app import create_registry_app
from gateway.registry.bootstrap import publish_platform
from gateway.subgraphs import SUBGRAPHS
from tests.support.graphql import gql, sign_up
from tests.support.secrets import remember_secret

CREATE_KEY = "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }"
TENANT = "{ me { tenant { id } } }"
PAYLOAD = """passed check { id action passed findings { kind severity message coordinate subgraph operations clients } }
  version { id } supergraph { id }"""
CHECK = f"mutation($i: SchemaInput!) {{ checkSchema(input: $i) {{ {PAYLOAD} }} }}"
PUBLISH = f"mutation($i: SchemaInput!) {{ publishSchema(input: $i) {{ {PAYLOAD} }} }}"
DELETE = f"mutation($n: String!) {{ deleteSubgraph(subgraph: $n) {{ {PAYLOAD} }} }}"
MERCH_URL = "http://127.0.0.1:9/merch/graphql"


@dataclass
class RegistryHarness:
    client: httpx.AsyncClient
    accounts: httpx.AsyncClient
    admin_key: str
    app: Any
    settings: Any

    async def gql(self, query: str, variables: dict[str, Any] | None = None, key: str | None = None) -> Any:
        return await gql(self.client, query, variables, token=key)

    async def team(self, name: str, patterns: list[str], scopes: list[str]) -> str:
        """A partner tenant made a team owning `patterns`; returns its API key."""
        owner = await sign_up(self.accounts, tenant_name=name)
        key = await api_key(self.accounts, owner["token"], scopes)
        tenant_id = (await gql(self.accounts, TENANT, token=owner["token"]))["data"]["me"]["tenant"]["id"]
        created = await self.gql(
            "mutation($n: String!, $t: String!) { createTeam(name: $n, tenantId: $t) { id } }",
            {"n": name, "t": tenant_id},
            self.admin_key,
        )
        team_id = created["data"]["createTeam"]["id"]
        for pattern in patterns:
            granted = await self.gql(
                "mutation($t: ID!, $p: String!) { grantSubgraphName(teamId: $t, pattern: $p) { pattern } }",
                {"t": team_id, "p": pattern},
                self.admin_key,
            )
            assert "errors" not in granted, granted
        return key


async def api_key(accounts: httpx.AsyncClient, token: str, scopes: list[str]) -> str:
    body = await gql(accounts, CREATE_KEY, {"input": {"name": "registry", "scopes": scopes}}, token=token)
    assert "errors" not in body, body
    secret = str(body["data"]["createApiKey"]["secret"])
    remember_secret(secret)
    return secret


@pytest.fixture
async def registry(accounts, settings, database) -> AsyncIterator[RegistryHarness]:
    _, accounts_client = accounts
    admin = await sign_up(accounts_client, tenant_name="Platform Ops")
    admin_tenant = (await gql(accounts_client, TENANT, token=admin["token"]))["data"]["me"]["tenant"]["id"]
    admin_key = await api_key(accounts_client, admin["token"], ["registry:write"])
    configured = settings.model_copy(
        update={"registry_admin_tenants": admin_tenant, "registry_router_token": "usage-token"}
    )
    app = create_registry_app(configured, database)
    await publish_platform(app.state.registry, definitions(configured, SUBGRAPHS))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://registry.test"
    ) as client:
        yield RegistryHarness(client, accounts_client, admin_key, app, configured)
