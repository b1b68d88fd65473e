"""The checks a candidate subgraph schema goes through: composition with every other
current subgraph, breaking and dangerous changes of the public API (each with its schema
coordinate), and lint. Usage is weighed in by the service, which has the data."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
)
from graphql.error import GraphQLError

from gateway.composition import Composition, CompositionError, SubgraphDefinition, compose

Severity = Literal["error", "warning"]
LINT_RULES = ("type-name", "field-name", "enum-value", "description", "private-field")

_COORDINATE = re.compile(r"\b([A-Za-z_]\w*\.[A-Za-z_]\w*(?:\([A-Za-z_]\w*:\))?)")
_TYPE_FIRST = re.compile(
    r"^(?:Standard scalar )?([A-Za-z_]\w*) (?:was removed|changed from|no longer implements)"
)
_UNION_MEMBER = re.compile(r"was removed from union type ([A-Za-z_]\w*)")
_PASCAL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_CAMEL = re.compile(r"^[a-z][A-Za-z0-9]*$")
_UPPER = re.compile(r"^[A-Z][A-Z0-9_]*$")
# Federation plumbing every subgraph has; not the partner's public API.
_FEDERATION_TYPES = {
    "_Service",
    "_Entity",
    "_Any",
    "FieldSet",
    "link__Import",
    "link__Purpose",
    "federation__Policy",
    "federation__Scope",
}
_FEDERATION_FIELDS = {"_entities", "_service"}


@dataclass
class Finding:
    kind: Literal["composition", "breaking", "dangerous", "usage", "lint"]
    severity: Severity
    message: str
    coordinate: str | None = None
    subgraph: str | None = None
    operations: list[dict[str, Any]] = field(default_factory=list)
    clients: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def coordinate_of(description: str) -> str | None:
    """The schema coordinate a graphql-core change description is about."""
    union = _UNION_MEMBER.search(description)
    if union:
        return union.group(1)
    found = _COORDINATE.search(description)
    if found:
        return found.group(1)
    typed = _TYPE_FIRST.match(description)
    return typed.group(1) if typed else None


def composition(members: list[SubgraphDefinition]) -> tuple[Composition | None, list[Finding]]:
    try:
        return compose(members), []
    except CompositionError as error:
        return None, [
            Finding("composition", "error", message, subgraph=_subgraph_named(message))
            for message in error.errors
        ]


def _subgraph_named(message: str) -> str | None:
    found = re.search(r'[\["]([a-z][\w-]*)[\]"]', message)
    return found.group(1) if found else None


def _schema(sdl: str) -> GraphQLSchema:
    return build_schema(sdl, assume_valid_sdl=True)


def api_changes(current_public_sdl: str | None, candidate_public_sdl: str) -> list[Finding]:
    """Breaking changes are errors unless usage shows nobody needs the coordinate (the
    service decides); dangerous ones are warnings."""
    if current_public_sdl is None:
        return []
    return _changes(_schema(current_public_sdl), _schema(candidate_public_sdl))


def subgraph_changes(old_sdl: str, new_sdl: str) -> list[Finding]:
    """Breaking and dangerous changes between two versions of one subgraph's schema."""
    return _changes(_subgraph_schema(old_sdl), _subgraph_schema(new_sdl))


def _changes(old: GraphQLSchema, new: GraphQLSchema) -> list[Finding]:
    findings = [
        Finding("breaking", "error", change.description, coordinate=coordinate_of(change.description))
        for change in find_breaking_changes(old, new)
        # A built-in scalar no field uses any more is the echo of another change, not one.
        if not change.description.startswith("Standard scalar ")
    ]
    return findings + [
        Finding("dangerous", "warning", change.description, coordinate=coordinate_of(change.description))
        for change in find_dangerous_changes(old, new)
    ]


def lint(subgraph: str, sdl: str, errors: frozenset[str] = frozenset()) -> list[Finding]:
    """Naming, descriptions and no public `_` fields; a rule named in `errors` blocks."""
    try:
        schema = _subgraph_schema(sdl)
    except (GraphQLError, TypeError) as error:
        return [Finding("lint", "error", f"invalid SDL: {error}", subgraph=subgraph)]
    found: list[Finding] = []

    def report(rule: str, message: str, coordinate: str) -> None:
        found.append(
            Finding(
                "lint", "error" if rule in errors else "warning", f"[{rule}] {message}", coordinate, subgraph
            )
        )

    for type_ in schema.type_map.values():
        name = type_.name
        if name.startswith("__") or name in _FEDERATION_TYPES or name in _SCALARS:
            continue
        if not _PASCAL.match(name):
            report("type-name", f"type {name} should be PascalCase", name)
        if not type_.description and name not in _ROOTS:
            report("description", f"type {name} has no description", name)
        if isinstance(type_, GraphQLEnumType):
            for value, enum_value in type_.values.items():
                if not _UPPER.match(value):
                    report("enum-value", f"enum value {name}.{value} should be UPPER_CASE", f"{name}.{value}")
                if not enum_value.description:
                    report("description", f"enum value {name}.{value} has no description", f"{name}.{value}")
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            kind = "input field" if isinstance(type_, GraphQLInputObjectType) else "field"
            for field_name, definition in type_.fields.items():
                coordinate = f"{name}.{field_name}"
                if field_name in _FEDERATION_FIELDS:
                    continue
                if field_name.startswith("_"):
                    report("private-field", f"public field {coordinate} starts with _", coordinate)
                elif not _CAMEL.match(field_name):
                    report("field-name", f"field {coordinate} should be camelCase", coordinate)
                if not definition.description:
                    report("description", f"{kind} {coordinate} has no description", coordinate)
                for arg_name, arg in getattr(definition, "args", {}).items():
                    if not arg.description:
                        argument = f"{coordinate}({arg_name}:)"
                        report("description", f"argument {argument} has no description", argument)
    return found


_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}
_ROOTS = {"Query", "Mutation", "Subscription"}
_FEDERATION_LINES = (Path(__file__).with_name("federation.graphql")).read_text().splitlines()
_DECLARED = tuple(
    "directive " + line.split()[1].split("(")[0]
    for line in _FEDERATION_LINES
    if line.startswith("directive ")
)


def _subgraph_schema(sdl: str) -> GraphQLSchema:
    """A subgraph SDL as a schema, with the federation directives it may use declared
    (its own declarations of them, and scalars it defines itself, win)."""
    own = "\n".join(line for line in sdl.splitlines() if not line.startswith(_DECLARED))
    own_words = set(own.split())
    preamble = "\n".join(
        line
        for line in _FEDERATION_LINES
        if not (line.startswith("scalar ") and line.split()[1] in own_words)
    )
    return build_schema(preamble + "\n" + own, assume_valid_sdl=True)
