"""Field-level authorization: every field coordinate is decided by Casbin, once per request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLField, GraphQLResolveInfo
from strawberry.extensions import SchemaExtension

from shared.audit.service import record
from shared.errors import ConsentRequired, DomainError, Forbidden, Unauthenticated
from shared.permissions.enforcer import Decision
from shared.permissions.fields import RULE_KEY, FieldRule

_WRITE_ROOTS = {"Mutation"}


async def _audit_refusal(context: Any, operation: str, error: DomainError) -> None:
    """A refused mutation is audited too (in its own transaction: it has no effect)."""
    principal = context.principal
    async with context.runtime.db.write() as session:
        await record(
            session,
            subgraph=context.subgraph,
            operation=operation,
            outcome=error.code.value,
            principal_id=principal.actor_id,
            tenant_id=principal.tenant_id,
        )
    raise error


def _rule_of(field: GraphQLField) -> FieldRule | None:
    definition = field.extensions.get("strawberry-definition")
    metadata = getattr(definition, "metadata", None) or {}
    rule = metadata.get(RULE_KEY)
    return rule if isinstance(rule, FieldRule) else None


def _is_introspection(type_name: str, field_name: str) -> bool:
    return field_name.startswith("__") or type_name.startswith("__")


class FieldAuthorization(SchemaExtension):
    """Denied fields resolve to null with FORBIDDEN at their path; the rest survives.

    Decisions live in `context.decisions` keyed by coordinate (so a 1,000-row list costs
    one decision per coordinate), and behind that in the engine's memo per policy revision.
    Objects may expose `owner_id` (for "self" grants) and `data_subject_consents`.
    `PlatformSchema` calls `resolve` only on fields for which `checks_values` is true.
    """

    def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: GraphQLResolveInfo,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        type_name = info.parent_type.name
        if _is_introspection(type_name, info.field_name):
            return _next(root, info, *args, **kwargs)
        context = info.context
        coordinate = f"{type_name}.{info.field_name}"
        field = info.parent_type.fields[info.field_name]
        decision, rule = self._decision(context, type_name, coordinate, field)
        if decision is Decision.DENY:
            error: DomainError = (
                Forbidden("Not allowed", coordinate=coordinate)
                if context.principal.is_authenticated
                else Unauthenticated("Authentication required", coordinate=coordinate)
            )
            if type_name in _WRITE_ROOTS:
                return _audit_refusal(context, info.field_name, error)
            raise error
        if decision is Decision.OWNER_ONLY and getattr(root, "owner_id", None) != context.principal.user_id:
            raise Forbidden("Not allowed", coordinate=coordinate)
        if (
            rule is not None
            and rule.consent
            and rule.consent not in getattr(root, "data_subject_consents", ())
        ):
            raise ConsentRequired(f"Consent '{rule.consent}' required", consent=rule.consent)
        return _next(root, info, *args, **kwargs)

    def checks_values(self, type_name: str, field_name: str, field: GraphQLField) -> bool:
        """False when every value of the field is readable in this request (allowed, no
        owner or consent condition): `resolve` would pass each one through unchanged."""
        if _is_introspection(type_name, field_name):
            return False
        coordinate = f"{type_name}.{field_name}"
        decision, rule = self._decision(self.execution_context.context, type_name, coordinate, field)
        return decision is not Decision.ALLOW or (rule is not None and bool(rule.consent))

    def _decision(
        self, context: Any, type_name: str, coordinate: str, field: GraphQLField
    ) -> tuple[Decision, FieldRule | None]:
        """Decided once per coordinate per request."""
        entry: tuple[Decision, FieldRule | None] | None = context.decisions.get(coordinate)
        if entry is None:
            entry = context.decisions[coordinate] = self._decide(context, type_name, coordinate, field)
        return entry

    def _decide(
        self, context: Any, type_name: str, coordinate: str, field: GraphQLField
    ) -> tuple[Decision, FieldRule | None]:
        principal = context.principal
        action = "write" if type_name in _WRITE_ROOTS else "read"
        rule = _rule_of(field)
        if principal.kind in ("api_key", "service"):
            needed = rule.scopes if rule and rule.scopes else (f"{context.subgraph}:{action}",)
            if not any(principal.has_scope(scope) for scope in needed):
                return Decision.DENY, rule
        domain = principal.tenant_id or "platform"
        decision = context.policies.decide(principal.subjects, domain, coordinate, action)
        return decision, rule
