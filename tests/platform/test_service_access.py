"""A service token does what its scopes and its Casbin lines allow, for its acting tenant
only, and every use of it is audited."""

from __future__ import annotations

from sqlmodel import col, select

from shared.audit.models import AuditRecord
from shared.audit.service import verify_chains
from subgraphs.spotify.catalogue.offline import load_sample
from tests.support.graphql import codes

PROJECT = "query Project($id: ID!) { project(id: $id) { id title type content } }"
WORKSPACE = "query($id: ID!) { workspace(id: $id) { id name projects(first: 5) { edges { node { id } } } } }"
USER = "query($id: ID!) { user(id: $id) { id displayName role email } }"
TRACK = "query($id: ID!) { track(id: $id) { id name album { id name } } }"
UPDATE = "mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id } } }"
TRACK_ID = load_sample()["tracks"][0]["id"]


async def _service_audit(database, operation: str | None = None) -> list[AuditRecord]:
    async with database.read() as session:
        stmt = select(AuditRecord).where(col(AuditRecord.principal_id).startswith("service:"))
        if operation is not None:
            stmt = stmt.where(AuditRecord.operation == operation)
        return list((await session.execute(stmt.order_by(col(AuditRecord.id)))).scalars())


async def test_search_reads_the_projects_of_its_acting_tenant_only(platform, database):
    mine, theirs = await platform.artist("Summer draft"), await platform.artist("Their draft")
    token = platform.tokens.for_tenant("search", ["collaboration:read"], mine.tenant_id)
    body = await platform.gql("collaboration", PROJECT, {"id": mine.project_id}, token=token)
    assert "errors" not in body, body
    assert body["data"]["project"]["title"] == "Summer draft"
    assert body["data"]["project"]["content"] == {"description": "", "trackIds": []}
    other = await platform.gql("collaboration", PROJECT, {"id": theirs.project_id}, token=token)
    assert other == {"data": {"project": None}}
    workspace = await platform.gql("collaboration", WORKSPACE, {"id": mine.workspace_id}, token=token)
    assert "errors" not in workspace, workspace
    assert workspace["data"]["workspace"]["projects"]["edges"] == [{"node": {"id": mine.project_id}}]
    foreign = await platform.gql("collaboration", WORKSPACE, {"id": theirs.workspace_id}, token=token)
    assert foreign == {"data": {"workspace": None}}
    # Without a tenant claim, a service touches no tenant's data.
    untenanted = platform.tokens.for_platform("search", ["collaboration:read"])
    none = await platform.gql("collaboration", PROJECT, {"id": mine.project_id}, token=untenanted)
    assert none == {"data": {"project": None}}

    audited = await _service_audit(database, "query Project")
    assert [(r.principal_id, r.tenant_id, r.subgraph, r.outcome) for r in audited] == [
        ("service:search", mine.tenant_id, "collaboration", "success"),
        ("service:search", mine.tenant_id, "collaboration", "success"),
        ("service:search", None, "collaboration", "success"),
    ]
    assert mine.project_id in audited[0].input_json
    assert await _service_audit(database, "query workspace")
    async with database.read() as session:
        assert (await verify_chains(session))[1] == []


async def test_search_reads_public_user_fields_but_not_email(platform, database):
    mine = await platform.artist("Draft")
    token = platform.tokens.for_tenant("search", ["accounts:read"], mine.tenant_id)
    body = await platform.gql("accounts", USER, {"id": mine.user_id}, token=token)
    user = body["data"]["user"]
    assert user["id"] == mine.user_id and user["displayName"] == "Ada Lovelace" and user["role"] == "OWNER"
    assert user["email"] is None
    assert codes(body) == ["FORBIDDEN"] and body["errors"][0]["path"] == ["user", "email"]
    me = await platform.gql("accounts", "{ me { id } }", token=token)
    assert codes(me) == ["FORBIDDEN"]
    outcomes = [r.outcome for r in await _service_audit(database)]
    assert outcomes == ["partial:FORBIDDEN", "FORBIDDEN"]


async def test_a_service_cannot_call_mutations(platform, database):
    mine = await platform.artist("Draft")
    token = platform.tokens.for_tenant(
        "search", ["collaboration:read", "collaboration:write"], mine.tenant_id
    )
    variables = {"i": {"workspaceId": mine.workspace_id, "type": "PLAYLIST_DRAFT", "title": "Injected"}}
    body = await platform.gql("collaboration", UPDATE, variables, token=token)
    assert body["data"] is None or body["data"]["createProject"] is None
    assert codes(body) == ["FORBIDDEN"]
    audited = await _service_audit(database)
    assert [(r.operation, r.outcome, r.tenant_id) for r in audited] == [
        ("createProject", "FORBIDDEN", mine.tenant_id)
    ]
    # A mutation that never reaches a resolver (an invalid document) is audited too.
    bad = await platform.gql("collaboration", "mutation { createProject { nope } }", token=token)
    assert set(codes(bad)) == {"BAD_USER_INPUT"}
    assert (await _service_audit(database))[-1].outcome == "BAD_USER_INPUT"


async def test_scopes_limit_a_service_like_an_api_key(platform):
    mine = await platform.artist("Draft")
    catalogue_only = platform.tokens.for_tenant("search", ["spotify:read"], mine.tenant_id)
    body = await platform.gql("collaboration", PROJECT, {"id": mine.project_id}, token=catalogue_only)
    assert body["data"]["project"] is None and codes(body) == ["FORBIDDEN"]
    track = await platform.gql("spotify", TRACK, {"id": TRACK_ID}, token=catalogue_only)
    assert "errors" not in track, track
    assert track["data"]["track"]["id"] == TRACK_ID


async def test_the_catalogue_needs_no_tenant_and_other_services_get_only_their_lines(platform):
    untenanted = platform.tokens.for_platform("search", ["spotify:read"])
    track = await platform.gql("spotify", TRACK, {"id": TRACK_ID}, token=untenanted)
    assert "errors" not in track, track
    # No policy line names service:notifications: its scopes alone open nothing.
    stranger = platform.tokens.for_platform("notifications", ["spotify:read"])
    refused = await platform.gql("spotify", TRACK, {"id": TRACK_ID}, token=stranger)
    assert refused["data"]["track"] is None and codes(refused) == ["FORBIDDEN"]
    # Users keep what they had: the service lines took no coordinate from them.
    mine = await platform.artist("Draft")
    as_user = await platform.gql("collaboration", PROJECT, {"id": mine.project_id}, token=mine.token)
    assert as_user["data"]["project"]["title"] == "Draft"
    user_track = await platform.gql("spotify", TRACK, {"id": TRACK_ID}, token=mine.token)
    assert "errors" not in user_track, user_track
