"""Field-level authorization: every field coordinate is decided by Casbin, once per request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLResolveInfo
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
            principal_id=principal.user_id or principal.api_key_id,
            tenant_id=principal.tenant_id,
        )
    raise error


def _rule_of(info: GraphQLResolveInfo) -> FieldRule | None:
    definition = info.parent_type.fields[info.field_name].extensions.get("strawberry-definition")
    metadata = getattr(definition, "metadata", None) or {}
    rule = metadata.get(RULE_KEY)
    return rule if isinstance(rule, FieldRule) else None


class FieldAuthorization(SchemaExtension):
    """Denied fields resolve to null with FORBIDDEN at their path; the rest survives.

    Decisions live in `context.decisions` keyed by coordinate (so a 1,000-row list costs
    one decision per coordinate), and behind that in the engine's memo per policy revision.
    Objects may expose `owner_id` (for "self" grants) and `data_subject_consents`.
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
        if info.field_name.startswith("__") or type_name.startswith("__"):
            return _next(root, info, *args, **kwargs)
        context = info.context
        coordinate = f"{type_name}.{info.field_name}"
        entry = context.decisions.get(coordinate)
        if entry is None:
            entry = context.decisions[coordinate] = self._decide(context, info, coordinate)
        decision, rule = entry
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

    def _decide(
        self, context: Any, info: GraphQLResolveInfo, coordinate: str
    ) -> tuple[Decision, FieldRule | None]:
        principal = context.principal
        action = "write" if info.parent_type.name in _WRITE_ROOTS else "read"
        rule = _rule_of(info)
        if principal.kind == "api_key":
            needed = rule.scopes if rule and rule.scopes else (f"{context.subgraph}:{action}",)
            if not any(principal.has_scope(scope) for scope in needed):
                return Decision.DENY, rule
        domain = principal.tenant_id or "platform"
        decision = context.policies.decide(principal.subjects, domain, coordinate, action)
        return decision, rule
