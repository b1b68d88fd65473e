"""The service lines of the policy files keep to the baseline: read-only, and naming no
coordinate the users' lines leave to `Type.*` (that would take it away from them)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gateway.subgraphs import SUBGRAPHS, declaration
from shared.auth.service_identity import check_service
from shared.config import Settings
from shared.permissions.defaults import default_lines

ROOT = Path(__file__).resolve().parents[2]
POLICY_FILES = sorted(ROOT.glob("subgraphs/*/policy.csv"))
SERVICE_WRITES = {
    ("storage", "service:analytics", "Mutation.createUpload"),
    ("storage", "service:analytics", "Mutation.completeUpload"),
}
"""The only writes a service is granted: analytics stores the reports it renders through the
client's upload flow, acting for the tenant that asked (the issue's design)."""


def _default_lines(name: str) -> list[list[str]]:
    """What every subgraph's policy gets from its schema (shared/permissions/defaults.py)."""
    schema = declaration(name).schema(Settings(env="test"))._schema
    return default_lines(schema)


def _lines(path: Path) -> list[list[str]]:
    rows = csv.reader(line for line in path.read_text().splitlines() if line.strip() and line[0] != "#")
    return [[field.strip() for field in row] for row in rows]


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda path: path.parent.name)
def test_service_lines_are_read_only_and_take_nothing_from_users(path: Path):
    lines = _lines(path)
    services = [line for line in lines if line[1].startswith("service:")]
    others = {line[3] for line in lines if line[0] == "p" and not line[1].startswith("service:")}
    others |= {line[3] for line in _default_lines(path.parent.name)}
    for line in services:
        check_service(line[1].removeprefix("service:"))
        if line[0] == "g":
            assert line[2] == "workspace:viewer", line  # at most a viewer of a workspace
            continue
        _, subject, _, obj, action, effect = line
        if (path.parent.name, subject, obj) in SERVICE_WRITES:
            assert action == "write" and effect == "allow", line
            continue
        assert action == "read" and effect == "allow" and not obj.startswith(("Mutation.", "ws:")), line
        assert obj.endswith(".*") or obj in others, f"{line}: a new explicit coordinate shadows Type.*"


def test_the_baseline_is_declared():
    declared = {
        path.parent.name for path in POLICY_FILES if any(line[1] == "service:search" for line in _lines(path))
    }
    assert declared == {"accounts", "collaboration", "spotify"} <= set(SUBGRAPHS)
