"""Projects: JSON Patch operations with optimistic concurrency, a version per accepted
change, restore without rewriting history; bad input writes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from subgraphs.collaboration.models import ActivityEvent, ProjectVersion
from tests.collaboration.conftest import PROJECT, UPDATE, make_project, make_team
from tests.support.graphql import codes

VERSIONS = "query($id: ID!) { project(id: $id) { versions(first: 20) { version message restoredFrom content operations author { id } } } }"
RESTORE = """mutation($i: RestoreProjectVersionInput!) { restoreProjectVersion(input: $i) { project { version content } } }"""
DELETE = "mutation($i: ProjectIdInput!) { deleteProject(input: $i) { project { id deletedAt } } }"
UNDELETE = "mutation($i: ProjectIdInput!) { restoreProject(input: $i) { project { id deletedAt } } }"
JOINS = "query($id: ID!) { project(id: $id) { tracks { id } assets { id } playlist { id } } }"


def add_track(track_id: str) -> list[dict]:
    return [{"op": "add", "path": "/trackIds/-", "value": track_id}]


async def _counts(collab) -> tuple[int, int]:
    async with collab.db.read() as session:
        versions = (await session.execute(select(func.count()).select_from(ProjectVersion))).scalar_one()
        events = (await session.execute(select(func.count()).select_from(ActivityEvent))).scalar_one()
    return int(versions), int(events)


async def test_edits_make_versions_and_a_stale_version_conflicts(collab):
    team = await make_team(collab, roles=("EDITOR", "COMMENTER", "VIEWER"))
    project = await make_project(collab, team)
    assert project["version"] == 1 and project["content"] == {"description": "", "trackIds": []}
    editor = team.tokens["EDITOR"]
    first = await collab.ok(
        UPDATE,
        {"i": {"id": project["id"], "version": 1, "operations": add_track("t1"), "message": "opener"}},
        editor,
    )
    assert first["updateProject"]["project"]["version"] == 2
    stale = await collab.gql(
        UPDATE, {"i": {"id": project["id"], "version": 1, "operations": add_track("t2")}}, editor
    )
    assert codes(stale) == ["CONFLICT"]
    assert stale["errors"][0]["extensions"]["currentVersion"] == 2
    second = await collab.ok(
        UPDATE, {"i": {"id": project["id"], "version": 2, "operations": add_track("t2")}}, editor
    )
    assert second["updateProject"]["project"]["content"]["trackIds"] == ["t1", "t2"]

    history = (await collab.ok(VERSIONS, {"id": project["id"]}, team.tokens["COMMENTER"]))["project"][
        "versions"
    ]
    assert [v["version"] for v in history] == [3, 2, 1]
    assert history[1]["message"] == "opener" and history[1]["author"]["id"] == team.users["EDITOR"]
    hidden = await collab.gql(VERSIONS, {"id": project["id"]}, team.tokens["VIEWER"])
    assert codes(hidden) == ["FORBIDDEN"] and hidden["data"]["project"]["versions"] is None

    restored = await collab.ok(RESTORE, {"i": {"id": project["id"], "version": 3, "restore": 2}}, editor)
    assert restored["restoreProjectVersion"]["project"] == {
        "version": 4,
        "content": {"description": "", "trackIds": ["t1"]},
    }
    history = (await collab.ok(VERSIONS, {"id": project["id"]}, editor))["project"]["versions"]
    assert [v["version"] for v in history] == [4, 3, 2, 1] and history[0]["restoredFrom"] == 2

    joins = await collab.ok(JOINS, {"id": project["id"]}, team.tokens["VIEWER"])
    assert joins["project"]["tracks"] == [{"id": "t1"}] and joins["project"]["playlist"] is None


async def test_bad_operations_and_roles_write_nothing(collab):
    team = await make_team(collab, roles=("EDITOR", "VIEWER"))
    project = await make_project(collab, team)
    editor = team.tokens["EDITOR"]
    before = await _counts(collab)
    cases = [
        [{"op": "replace", "path": "/missing/deep", "value": 1}],
        [{"op": "add", "path": "/notInSchema", "value": 1}],
        [{"op": "replace", "path": "/trackIds", "value": "not a list"}],
        [{"op": "explode", "path": "/trackIds"}],
        [{"op": "test", "path": "/description", "value": "something else"}],
        [],
        [{"op": "add", "path": "/trackIds/-", "value": "t"}] * 101,
        [{"op": "replace", "path": "/description", "value": "x" * 70_000}],
        "not a list of operations",
    ]
    for operations in cases:
        body = await collab.gql(
            UPDATE, {"i": {"id": project["id"], "version": 1, "operations": operations}}, editor
        )
        assert codes(body) == ["BAD_USER_INPUT"], (
            operations if isinstance(operations, str) else operations[:1],
            body,
        )
    viewer = await collab.gql(
        UPDATE,
        {"i": {"id": project["id"], "version": 1, "operations": add_track("t")}},
        team.tokens["VIEWER"],
    )
    assert codes(viewer) == ["FORBIDDEN"]
    wrong_type = await collab.gql(
        "mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id } } }",
        {"i": {"workspaceId": team.workspace_id, "type": "SCREENPLAY", "title": "x"}},
        editor,
    )
    assert codes(wrong_type) == ["BAD_USER_INPUT"]
    misfit = await collab.gql(
        "mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id } } }",
        {
            "i": {
                "workspaceId": team.workspace_id,
                "type": "DOCUMENT",
                "title": "x",
                "content": {"kind": "poem"},
            }
        },
        editor,
    )
    assert codes(misfit) == ["BAD_USER_INPUT"]
    assert await _counts(collab) == before
    unchanged = await collab.ok(PROJECT, {"id": project["id"]}, editor)
    assert unchanged["project"]["version"] == 1


async def test_soft_delete_and_restore(collab):
    team = await make_team(collab, roles=("EDITOR", "VIEWER"))
    project = await make_project(collab, team, type="RELEASE_PLAN")
    assert codes(await collab.gql(DELETE, {"i": {"id": project["id"]}}, team.tokens["VIEWER"])) == [
        "FORBIDDEN"
    ]
    deleted = await collab.ok(DELETE, {"i": {"id": project["id"]}}, team.tokens["EDITOR"])
    assert deleted["deleteProject"]["project"]["deletedAt"]
    assert (await collab.ok(PROJECT, {"id": project["id"]}, team.tokens["EDITOR"]))["project"] is None
    edit = await collab.gql(
        UPDATE,
        {"i": {"id": project["id"], "version": 1, "operations": add_track("t")}},
        team.tokens["EDITOR"],
    )
    assert codes(edit) == ["NOT_FOUND"]
    back = await collab.ok(UNDELETE, {"i": {"id": project["id"]}}, team.tokens["EDITOR"])
    assert back["restoreProject"]["project"]["deletedAt"] is None
    assert (await collab.ok(PROJECT, {"id": project["id"]}, team.tokens["VIEWER"]))["project"]["version"] == 1
