"""Every field of every subgraph is decided by a policy line (an explicit allow or deny, for
its coordinate or its type's `Type.*`), and every line that names a coordinate names one
that exists: a field nobody decided is denied by accident, a stale line hides a rename."""

from __future__ import annotations

import re

import pytest
from graphql import GraphQLObjectType

from gateway.subgraphs import SUBGRAPHS, declaration
from shared.config import Settings
from shared.permissions import PolicyEngine
from shared.permissions.defaults import default_lines
from shared.permissions.resources import SELF

RESOURCE_PREFIX = re.compile(r"^[a-z]+:(?=[A-Z_])")
"""`ws:` and the like: objects of a resource scope, named after a field's coordinate."""


def _engine_and_schema(name: str) -> tuple[PolicyEngine, dict[str, GraphQLObjectType]]:
    subgraph = declaration(name)
    schema = subgraph.schema(Settings(env="test"))._schema
    engine = PolicyEngine([subgraph.policy], default_lines(schema))
    types = {
        type_name: type_
        for type_name, type_ in schema.type_map.items()
        if isinstance(type_, GraphQLObjectType) and not type_name.startswith("__")
    }
    return engine, types


def _coordinate(obj: str) -> str | None:
    """The coordinate a policy object names (None for row-level objects like `asset:stem`)."""
    named = RESOURCE_PREFIX.sub("", obj).removesuffix(SELF)
    return named if "." in named else None


def _undecided(lines: list[list[str]], types: dict[str, GraphQLObjectType]) -> list[str]:
    objects = {line[2] for line in lines}
    return [
        f"{type_name}.{field}"
        for type_name, type_ in types.items()
        for field in type_.fields
        if f"{type_name}.{field}" not in objects and f"{type_name}.*" not in objects
    ]


def _stale(lines: list[list[str]], types: dict[str, GraphQLObjectType]) -> list[str]:
    stale = []
    for line in lines:
        coordinate = _coordinate(line[2])
        if coordinate is None:
            continue
        type_name, _, field = coordinate.partition(".")
        if type_name not in types or (field != "*" and field not in types[type_name].fields):
            stale.append(", ".join(line))
    return stale


@pytest.mark.parametrize("name", SUBGRAPHS)
def test_every_field_is_decided_by_a_line(name: str) -> None:
    engine, types = _engine_and_schema(name)
    assert _undecided(engine.lines(), types) == []


@pytest.mark.parametrize("name", SUBGRAPHS)
def test_every_line_names_a_coordinate_that_exists(name: str) -> None:
    engine, types = _engine_and_schema(name)
    assert _stale(engine.lines(), types) == []


def test_the_checks_see_an_undecided_field_and_a_stale_line() -> None:
    engine, types = _engine_and_schema("storage")
    lines = engine.lines()
    without_assets = [line for line in lines if line[2] != "Asset.*"]
    assert "Asset.checksum" in _undecided(without_assets, types)
    renamed = [*lines, ["role:authenticated", "*", "ws:Asset.sha256", "read", "allow"]]
    assert _stale(renamed, types) == ["role:authenticated, *, ws:Asset.sha256, read, allow"]
    assert _coordinate("ws:Mutation.removeWorkspaceMember@self") == "Mutation.removeWorkspaceMember"
    assert _coordinate("asset:stem") is None
