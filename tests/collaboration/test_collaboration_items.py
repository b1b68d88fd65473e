"""`collaborationItems`: every tenant's projects (deleted ones too) and current workspace
memberships in keyset pages, as the domain events describe them, for platform service tokens
only, one SQL statement a page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from jose import jwt

from shared.auth.service_tokens import ServiceTokens
from shared.pagination import encode_cursor
from tests.collaboration.conftest import UPDATE, Collab, Team, make_project, make_team
from tests.support.counting import count_statements
from tests.support.graphql import codes, gql, sign_up
from tests.support.hosting import HostedPlatform, hosted_together

ITEMS = """query($kind: CollaborationItemKind!, $first: Int, $after: String) {
  collaborationItems(kind: $kind, first: $first, after: $after) {
    items totalCount pageInfo { hasNextPage endCursor } } }"""
DELETE = "mutation($i: ProjectIdInput!) { deleteProject(input: $i) { project { id deletedAt } } }"
REMOVE = "mutation($i: RemoveWorkspaceMemberInput!) { removeWorkspaceMember(input: $i) { userId } }"
CREATE_WORKSPACE = "mutation($i: CreateWorkspaceInput!) { createWorkspace(input: $i) { workspace { id } } }"
SCOPES = ("collaboration:read",)


@dataclass
class Items:
    host: HostedPlatform
    tokens: ServiceTokens
    collab: Collab

    def service_token(self, service: str = "search", scopes: tuple[str, ...] = SCOPES) -> str:
        return self.tokens.for_platform(service, scopes)

    async def page(self, token: str | None, kind: str, **variables: Any) -> dict[str, Any]:
        return await gql(
            self.host.client,
            ITEMS,
            {"kind": kind, **variables},
            token=token,
            path="/collaboration/graphql",
        )


@pytest.fixture
async def items(settings, redis_server, database) -> AsyncIterator[Items]:
    async with hosted_together(["accounts", "collaboration"], settings, redis_server.url) as host:
        ring = host.runtimes["accounts"].key_ring
        collab = Collab("http://platform.test", host.client, host.runtimes, database)
        yield Items(host, ServiceTokens(ring, settings.jwt_issuer, settings.jwt_audience), collab)


def _tenant(team: Team) -> str:
    return str(jwt.get_unverified_claims(team.tokens["OWNER"])["tid"])


@dataclass
class World:
    projects: list[dict[str, Any]]
    memberships: list[dict[str, Any]]
    tenants: tuple[str, str]


async def _two_tenants(items: Items) -> World:
    """Tenant A: a workspace with an owner, an editor and a removed viewer; a project edited
    to version 2 and a deleted one. Tenant B: two workspaces, a commenter, a document."""
    collab = items.collab
    a = await make_team(collab, ("EDITOR", "VIEWER"))
    b = await make_team(collab, ("COMMENTER",))
    tenant_a, tenant_b = _tenant(a), _tenant(b)
    assert tenant_a != tenant_b
    await collab.ok(
        REMOVE, {"i": {"workspaceId": a.workspace_id, "userId": a.users["VIEWER"]}}, a.tokens["OWNER"]
    )
    edited = await make_project(collab, a)
    operations = [{"op": "replace", "path": "/description", "value": "Late summer"}]
    changed = (await collab.ok(UPDATE, {"i": {"id": edited["id"], "version": 1, "operations": operations}},
                               a.tokens["OWNER"]))["updateProject"]["project"]  # fmt: skip
    assert changed["version"] == 2
    gone = await make_project(collab, a, title="Scrapped")
    await collab.ok(DELETE, {"i": {"id": gone["id"]}}, a.tokens["OWNER"])
    document = await make_project(collab, b, "DOCUMENT", title="Lyrics")
    second = await collab.ok(CREATE_WORKSPACE, {"i": {"name": "B-sides"}}, b.tokens["OWNER"])
    second_id = second["createWorkspace"]["workspace"]["id"]

    def project(tenant: str, team: Team, row: dict[str, Any], title: str, deleted: bool) -> dict[str, Any]:
        return {"tenant_id": tenant, "project_id": row["id"], "workspace_id": team.workspace_id,
                "title": title, "content": row["content"], "version": row["version"], "deleted": deleted}  # fmt: skip

    def member(tenant: str, workspace_id: str, user_id: str, role: str) -> dict[str, Any]:
        return {"tenant_id": tenant, "workspace_id": workspace_id, "user_id": user_id, "role": role}

    projects = [
        project(tenant_a, a, changed, "Summer draft", False),
        project(tenant_a, a, gone, "Scrapped", True),
        project(tenant_b, b, document, "Lyrics", False),
    ]
    memberships = [
        member(tenant_a, a.workspace_id, a.users["OWNER"], "owner"),
        member(tenant_a, a.workspace_id, a.users["EDITOR"], "editor"),
        member(tenant_b, b.workspace_id, b.users["OWNER"], "owner"),
        member(tenant_b, b.workspace_id, b.users["COMMENTER"], "commenter"),
        member(tenant_b, second_id, b.users["OWNER"], "owner"),
    ]
    return World(projects, memberships, (tenant_a, tenant_b))


async def _everything(items: Items, token: str, kind: str, first: int) -> tuple[list[dict[str, Any]], int]:
    found: list[dict[str, Any]] = []
    after, pages, totals = None, 0, set()
    while True:
        body = await items.page(token, kind, first=first, after=after)
        assert "errors" not in body, body["errors"]
        page = body["data"]["collaborationItems"]
        assert len(page["items"]) <= first
        totals.add(page["totalCount"])
        found += page["items"]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            assert totals == {len(found)}
            return found, pages
        after = page["pageInfo"]["endCursor"]


async def test_a_platform_service_pages_every_tenant_in_the_events_shape(items):
    world = await _two_tenants(items)
    token = items.service_token()

    projects, pages = await _everything(items, token, "PROJECT", first=2)
    assert pages == 2
    assert [item["project_id"] for item in projects] == sorted(p["project_id"] for p in world.projects)
    assert sorted(projects, key=lambda item: item["project_id"]) == sorted(
        world.projects, key=lambda item: item["project_id"]
    )
    edited = next(item for item in projects if item["version"] == 2)
    assert edited["content"] == {"description": "Late summer", "trackIds": []}
    assert {item["tenant_id"] for item in projects} == set(world.tenants)

    memberships, pages = await _everything(items, token, "MEMBERSHIP", first=2)
    assert pages == 3
    order = [(item["workspace_id"], item["user_id"]) for item in memberships]
    assert order == sorted(order) and len(set(order)) == len(order)
    assert sorted(memberships, key=lambda m: (m["workspace_id"], m["user_id"])) == sorted(
        world.memberships, key=lambda m: (m["workspace_id"], m["user_id"])
    )


@pytest.mark.budget
async def test_one_sql_statement_a_page(items):
    await _two_tenants(items)
    token = items.service_token()
    runtime = items.host.runtimes["collaboration"]
    await items.page(token, "PROJECT", first=1)  # the platform audit chain's first record
    totals = set()
    afters: dict[str, str | None] = {"PROJECT": None, "MEMBERSHIP": None}
    tables = {"PROJECT": "collaboration_project", "MEMBERSHIP": "collaboration_workspace_member"}
    for kind, first in (
        ("PROJECT", 2),
        ("PROJECT", 1),
        ("MEMBERSHIP", 2),
        ("MEMBERSHIP", 2),
        ("MEMBERSHIP", 1),
    ):
        with count_statements(runtime.db) as sql:
            body = await items.page(token, kind, first=first, after=afters[kind])
        assert "errors" not in body, body["errors"]
        page = body["data"]["collaborationItems"]
        assert len(page["items"]) == first
        # One statement reads the page and the total; every service operation also appends
        # its audit record (a fixed cost, not a per-item one).
        reads = [statement for statement in sql.statements if "audit_" not in statement]
        assert len(reads) == 1 and tables[kind] in reads[0], sql.statements
        totals.add(sql.count)
        afters[kind] = page["pageInfo"]["endCursor"]
    # The page and its total, then the audit record: its chain head read, moved, and the record.
    assert totals == {4}  # whatever the page's size or kind


async def test_only_a_platform_search_token_may_list(items):
    world = await _two_tenants(items)
    user = await sign_up(items.host.client, path="/accounts/graphql")
    for kind in ("PROJECT", "MEMBERSHIP"):
        denied = await items.page(user["token"], kind)
        assert codes(denied) == ["FORBIDDEN"] and denied.get("data") is None
    assert codes(await items.page(None, "PROJECT")) == ["UNAUTHENTICATED"]
    # A token acting for one tenant must not list the others (nor its own, this way).
    tenant_token = items.tokens.for_tenant("search", SCOPES, world.tenants[0])
    for kind in ("PROJECT", "MEMBERSHIP"):
        refused = await items.page(tenant_token, kind)
        assert codes(refused) == ["FORBIDDEN"] and refused.get("data") is None
    assert codes(await items.page(items.service_token("analytics"), "PROJECT")) == ["FORBIDDEN"]
    wrong_scope = items.service_token("search", ("spotify:read",))
    assert codes(await items.page(wrong_scope, "PROJECT")) == ["FORBIDDEN"]
    # The users' other fields are untouched by the new line.
    mine = await items.collab.ok(CREATE_WORKSPACE, {"i": {"name": "Mine"}}, user["token"])
    assert mine["createWorkspace"]["workspace"]["id"]


async def test_bad_page_sizes_and_cursors_are_bad_input(items):
    await _two_tenants(items)
    token = items.service_token()
    for kind in ("PROJECT", "MEMBERSHIP"):
        assert codes(await items.page(token, kind, first=0)) == ["BAD_USER_INPUT"]
        assert codes(await items.page(token, kind, first=1001)) == ["BAD_USER_INPUT"]
        assert codes(await items.page(token, kind, after="not-a-cursor!")) == ["BAD_USER_INPUT"]
        assert "errors" not in await items.page(token, kind, first=1000)
    # A membership cursor names a (workspace, user) pair: a lone key is not one.
    lone = encode_cursor("wks_0")
    assert codes(await items.page(token, "MEMBERSHIP", after=lone)) == ["BAD_USER_INPUT"]
    for kind, total in (("PROJECT", 3), ("MEMBERSHIP", 5)):
        last = (await items.page(token, kind, first=total))["data"]["collaborationItems"]
        assert last["pageInfo"]["hasNextPage"] is False
        beyond = await items.page(token, kind, after=last["pageInfo"]["endCursor"])
        assert beyond["data"]["collaborationItems"] == {
            "items": [],
            "totalCount": total,
            "pageInfo": {"hasNextPage": False, "endCursor": None},
        }
