"""SQL budgets of the hottest mutation: updateProject reads its project once (the field's
declared permission loads it with the caller's membership), then writes in one transaction."""

from __future__ import annotations

from tests.collaboration.conftest import UPDATE, make_project, make_team
from tests.support.counting import count_statements


async def test_update_project_reads_its_project_once(collab):
    team = await make_team(collab, roles=("EDITOR",))
    project = await make_project(collab, team)
    operations = [{"op": "add", "path": "/trackIds/-", "value": "t1"}]
    variables = {"i": {"id": project["id"], "version": 1, "operations": operations}}
    with count_statements(collab.runtime.db) as counter:
        body = await collab.ok(UPDATE, variables, team.tokens["EDITOR"])
    assert body["updateProject"]["project"]["version"] == 2
    tables = [_table(statement) for statement in counter.statements]
    assert tables == [
        ("SELECT", "collaboration_project"),  # the permission's read of the aggregate
        ("SELECT", "collaboration_workspace_member"),  # the caller's role
        ("UPDATE", "collaboration_project"),  # compare-and-set on the version
        ("INSERT", "event_outbox"),
        ("INSERT", "collaboration_activity_event"),
        ("INSERT", "collaboration_project_version"),
        ("SELECT", "audit_chain_head"),
        ("UPDATE", "audit_chain_head"),
        ("INSERT", "audit_log"),
        ("UPDATE", "event_outbox"),  # published, after commit
        ("UPDATE", "collaboration_activity_event"),  # appended to the workspace stream
    ]


def _table(statement: str) -> tuple[str, str]:
    words = statement.replace(",", " ").split()
    verb = words[0].upper()
    after = {"SELECT": "FROM", "INSERT": "INTO", "UPDATE": "UPDATE", "DELETE": "FROM"}[verb]
    return verb, words[[word.upper() for word in words].index(after) + 1]
