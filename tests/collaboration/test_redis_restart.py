"""Redis dies under live subscriptions and comes back: the platform refuses work it
cannot do safely meanwhile (UNAVAILABLE, nothing accepted), and the subscribers' stream
readers reconnect and resume from their own position: no accepted edit is missing."""

from __future__ import annotations

from typing import Any

import pytest

from shared.auth.authenticate import forget_live_sessions
from shared.redis import EmbeddedRedis
from tests.collaboration.conftest import UPDATE, make_project, make_team, serve
from tests.collaboration.test_realtime import EVENTS, _event, _subscribed
from tests.support.graphql import codes

pytestmark = pytest.mark.realtime


def _edit(project_id: str, version: int) -> dict[str, Any]:
    operations = [{"op": "add", "path": "/trackIds/-", "value": f"t{version}"}]
    return {"i": {"id": project_id, "version": version, "operations": operations}}


async def test_subscribers_resume_after_a_redis_restart(settings, database, tmp_path):
    redis = EmbeddedRedis(tmp_path, append_only=True).start()
    try:
        async with serve(settings, redis.url, database) as collab:
            team = await make_team(collab, roles=("EDITOR", "VIEWER"))
            project = await make_project(collab, team)
            watchers = [await _subscribed(collab, team, EVENTS, {"ws": team.workspace_id}) for _ in range(2)]
            editor = team.tokens["EDITOR"]
            await collab.ok(UPDATE, _edit(project["id"], 1), editor)
            for ws in watchers:
                assert (await _event(ws))["version"] == 2

            redis.kill()
            # A session checked in the last seconds is not asked about again (the request
            # revocation cache): this request must ask, and find Redis gone.
            forget_live_sessions()
            refused = await collab.gql(UPDATE, _edit(project["id"], 2), editor)
            assert codes(refused) == ["UNAVAILABLE"]
            redis.start()

            await collab.ok(UPDATE, _edit(project["id"], 2), editor)
            await collab.ok(UPDATE, _edit(project["id"], 3), editor)
            for ws in watchers:
                assert [(await _event(ws))["version"] for _ in range(2)] == [3, 4]
                await ws.__aexit__()
    finally:
        redis.stop()
