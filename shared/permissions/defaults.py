"""The policy lines every subgraph would otherwise repeat, derived from its schema: the
federation fields the router composes and joins with, and the wrappers whose content is
decided elsewhere: `PageInfo`, connections and edges (their nodes have their own rules) and
mutation payloads (the mutation decides who gets one)."""

from __future__ import annotations

from graphql import GraphQLObjectType, GraphQLSchema

FEDERATION = (
    ("role:anonymous", "Query._service"),
    ("role:authenticated", "Query._service"),
    ("role:anonymous", "_Service.*"),
    ("role:authenticated", "_Service.*"),
    ("role:authenticated", "Query._entities"),
)


def _allow(subject: str, obj: str) -> list[str]:
    return ["p", subject, "*", obj, "read", "allow"]


def is_wrapper(type_name: str) -> bool:
    return type_name == "PageInfo" or type_name.endswith(("Connection", "Edge"))


def is_payload(type_name: str) -> bool:
    return type_name.endswith("Payload")


def default_lines(schema: GraphQLSchema) -> list[list[str]]:
    lines = [_allow(subject, obj) for subject, obj in FEDERATION if _exists(schema, obj)]
    for name, type_ in sorted(schema.type_map.items()):
        if not isinstance(type_, GraphQLObjectType) or name.startswith("__"):
            continue
        if is_wrapper(name):
            lines.append(_allow("role:authenticated", f"{name}.*"))
        elif is_payload(name):
            lines += [_allow("role:anonymous", f"{name}.*"), _allow("role:authenticated", f"{name}.*")]
    return lines


def _exists(schema: GraphQLSchema, obj: str) -> bool:
    type_name, _, field = obj.partition(".")
    type_ = schema.type_map.get(type_name)
    return isinstance(type_, GraphQLObjectType) and (field == "*" or field in type_.fields)
