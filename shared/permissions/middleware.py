"""Runs the field-authorization hook only on the fields that need it in this request."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from graphql import GraphQLField, GraphQLObjectType, GraphQLSchema, MiddlewareManager
from graphql.type import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef

from shared.permissions.extension import FieldAuthorization

Resolver = Callable[..., Any]


class SchemaField(NamedTuple):
    type_name: str
    field_name: str
    definition: GraphQLField


def fields_by_resolver(schema: GraphQLSchema) -> dict[Resolver, SchemaField | None]:
    """The field each resolver function belongs to; None for one shared by several
    fields (the hook then runs on it, as it would without this map)."""
    found: dict[Resolver, SchemaField | None] = {}

    def add(resolver: Resolver | None, field: SchemaField) -> None:
        if resolver is not None:
            found[resolver] = field if resolver not in found else None

    for name, definition in (
        ("__schema", SchemaMetaFieldDef),
        ("__type", TypeMetaFieldDef),
        ("__typename", TypeNameMetaFieldDef),
    ):
        add(definition.resolve, SchemaField("", name, definition))
    for type_ in schema.type_map.values():
        if isinstance(type_, GraphQLObjectType):
            for name, definition in type_.fields.items():
                add(definition.resolve, SchemaField(type_.name, name, definition))
    return found


class AuthorizingMiddleware(MiddlewareManager):
    """Per request, graphql-core asks the manager once per resolver for the function to
    call. A field whose every value this principal may read gets its resolver without the
    authorization hook, so a 1,000-row list pays the decision once, not per value."""

    def __init__(self, fields: Mapping[Resolver, SchemaField | None], middlewares: Iterable[Any]) -> None:
        middlewares = tuple(middlewares)
        super().__init__(*middlewares)
        self._fields = fields
        self._authorization = next((m for m in middlewares if isinstance(m, FieldAuthorization)), None)
        self._unchecked = MiddlewareManager(*(m for m in middlewares if m is not self._authorization))
        self._chosen: dict[Resolver, Resolver] = {}

    def get_field_resolver(self, field_resolver: Resolver) -> Resolver:
        chosen = self._chosen.get(field_resolver)
        if chosen is None:
            if self._checks_values(field_resolver):
                chosen = super().get_field_resolver(field_resolver)
            else:
                chosen = self._unchecked.get_field_resolver(field_resolver)
            self._chosen[field_resolver] = chosen
        return chosen

    def _checks_values(self, field_resolver: Resolver) -> bool:
        if self._authorization is None:
            return False
        field = self._fields.get(field_resolver)
        if field is None:
            return True
        try:
            return self._authorization.checks_values(*field)
        except Exception:  # raised again by the hook, inside graphql-core's field error handling
            return True
