"""Optimistic concurrency on projects: of two edits made on the same version exactly one
wins and the other gets CONFLICT; over many interleavings (hypothesis) no accepted edit is
ever lost."""

from __future__ import annotations

import asyncio
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.collaboration.conftest import PROJECT, UPDATE, make_project, make_team
from tests.support.graphql import codes

CLIENTS = 3
# An action: (client, "read") takes the project's current version; (client, "write") sends
# an edit made on the version that client last read.
actions = st.lists(
    st.tuples(st.integers(0, CLIENTS - 1), st.sampled_from(["read", "write"])), min_size=1, max_size=12
)
tracks = itertools.count()


async def test_two_edits_on_the_same_version_one_wins(collab):
    team = await make_team(collab, roles=("EDITOR",))
    project = await make_project(collab, team)
    for version in range(1, 6):
        sent = [
            collab.gql(
                UPDATE,
                {
                    "i": {
                        "id": project["id"],
                        "version": version,
                        "operations": [{"op": "add", "path": "/trackIds/-", "value": f"{who}{version}"}],
                    }
                },
                team.tokens[who],
            )
            for who in ("OWNER", "EDITOR")
        ]
        results = await asyncio.gather(*sent)
        outcomes = sorted("ok" if "errors" not in body else codes(body)[0] for body in results)
        assert outcomes == ["CONFLICT", "ok"], results
    final = (await collab.ok(PROJECT, {"id": project["id"]}, team.tokens["OWNER"]))["project"]
    assert final["version"] == 6 and len(final["content"]["trackIds"]) == 5


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(schedule=actions)
async def test_no_interleaving_loses_an_accepted_edit(collab, schedule):
    if collab.shared_team is None:
        collab.shared_team = await make_team(collab, roles=())
    team = collab.shared_team
    project = await make_project(collab, team)
    token = team.tokens["OWNER"]
    version, accepted = 1, []
    seen = dict.fromkeys(range(CLIENTS), 1)
    for client, action in schedule:
        if action == "read":
            seen[client] = (await collab.ok(PROJECT, {"id": project["id"]}, token))["project"]["version"]
            continue
        track = f"c{client}-{next(tracks)}"
        operations = [{"op": "add", "path": "/trackIds/-", "value": track}]
        body = await collab.gql(
            UPDATE, {"i": {"id": project["id"], "version": seen[client], "operations": operations}}, token
        )
        if seen[client] == version:
            assert "errors" not in body, body
            version += 1
            accepted.append(track)
            seen[client] = version
        else:
            assert (
                codes(body) == ["CONFLICT"] and body["errors"][0]["extensions"]["currentVersion"] == version
            )
    final = (await collab.ok(PROJECT, {"id": project["id"]}, token))["project"]
    assert final["version"] == version
    assert final["content"]["trackIds"] == accepted
