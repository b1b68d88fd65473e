"""The sources of `spotify-agent search reindex` through the router, as it reads them by
default: the service token travels to spotify and collaboration, the whole catalogue pages
through, a project and its workspace's owner made through the router are listed from the
same graph, and users are refused."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from jose import jwt

from shared.auth.service_tokens import ServiceTokens
from subgraphs.search import maintenance
from subgraphs.search.backends.base import DocumentType
from subgraphs.search.maintenance import SCOPES, SERVICE, SourceError, Sources
from tests.support.graphql import gql, sign_up

pytestmark = pytest.mark.e2e


async def _ok(router: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    body = await gql(router, query, variables, token=token)
    assert "errors" not in body, body
    return dict(body["data"])


async def test_a_reindex_pages_its_sources_through_the_router(platform):
    async with httpx.AsyncClient(base_url=platform.router_url, timeout=30) as router:
        account = await sign_up(router)
        workspace = (
            await _ok(
                router,
                'mutation { createWorkspace(input: {name: "Sources"}) { workspace { id } } }',
                {},
                account["token"],
            )
        )["createWorkspace"]["workspace"]["id"]
        project = (
            await _ok(
                router,
                "mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id } } }",
                {"i": {"workspaceId": workspace, "type": "PLAYLIST_DRAFT", "title": "Listed"}},
                account["token"],
            )
        )["createProject"]["project"]["id"]

    tokens = ServiceTokens.from_settings(platform.settings)
    source = Sources(f"{platform.router_url}/graphql", lambda: tokens.headers(SERVICE, SCOPES))
    try:
        assert await maintenance.live_count(source, DocumentType.ARTIST) == 300
        assert await maintenance.live_count(source, DocumentType.PLAYLIST) >= 12  # and the platform's
        ids: list[str] = []
        after = None
        while True:
            page = await source.catalogue(DocumentType.ARTIST, after, first=120)
            ids += [item["id"] for item in page.items]
            if not page.has_next:
                break
            after = page.end_cursor
        assert len(ids) == len(set(ids)) == 300

        projects = [
            doc async for page in maintenance.listing(source, DocumentType.PROJECT) for doc in page.documents
        ]
        [listed] = [doc for doc in projects if doc.entity_id == project]
        tenant = jwt.get_unverified_claims(account["token"])["tid"]
        assert (listed.name, listed.workspace_id, listed.tenant_id) == ("Listed", workspace, tenant)
        members = await maintenance.source_memberships(source)
        assert maintenance.Membership(tenant, workspace, account["user"]["id"], "owner") in members
    finally:
        await source.aclose()

    as_user = Sources(
        f"{platform.router_url}/graphql", lambda: {"Authorization": f"Bearer {account['token']}"}
    )
    try:
        for kind in (DocumentType.TRACK, DocumentType.PLAYLIST, DocumentType.PROJECT):
            with pytest.raises(SourceError, match="FORBIDDEN"):
                await maintenance.live_count(as_user, kind)
    finally:
        await as_user.aclose()
