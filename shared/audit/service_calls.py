"""Every operation a service token runs is audited: who (`service:<name>`), the tenant it
acts for, the operation, its outcome. Mutations audit themselves (`shared/mutations.py`, and
FieldAuthorization for refused ones); this records the rest: queries, subscriptions, and
mutations that never reached a resolver (invalid documents)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from graphql import FieldNode, GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from shared.audit.service import record
from shared.telemetry import request_trace_id

log = logging.getLogger("shared.audit")


def _operation(execution_context: Any) -> tuple[str, str]:
    """(type, name): the operation's name, else its root fields."""
    kind = "query"
    name = execution_context.operation_name
    document = execution_context.graphql_document
    if document is not None:
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            if name is not None and (definition.name is None or definition.name.value != name):
                continue
            kind = definition.operation.value
            if name is None:
                fields = [
                    s.name.value for s in definition.selection_set.selections if isinstance(s, FieldNode)
                ]
                name = ",".join(fields)
            break
    return kind, name or "anonymous"


def _outcome(result: Any) -> tuple[str, bool]:
    """(outcome, whether execution reached the fields). `partial:` when some root field
    answered despite the errors."""
    errors = list(getattr(result, "errors", None) or [])
    if not errors:
        return "success", True
    codes = sorted({str((error.extensions or {}).get("code", "INTERNAL")) for error in errors})
    data = getattr(result, "data", None)
    reached = data is not None or any(error.path for error in errors)
    partial = isinstance(data, dict) and any(value is not None for value in data.values())
    return (("partial:" if partial else "") + ",".join(codes))[:64], reached


class ServiceAudit(SchemaExtension):
    """Placed outside ErrorCodes (its errors are typed by then) and RequestLifecycle (the
    request's read session is closed): one audit record per service operation, in a
    transaction of its own. If the record cannot be written, the answer is withheld."""

    async def on_operation(self) -> AsyncIterator[None]:  # type: ignore[override]
        yield
        context = self.execution_context.context
        principal = getattr(context, "principal", None)
        if principal is None or principal.kind != "service":
            return
        kind, name = _operation(self.execution_context)
        outcome, reached = _outcome(self.execution_context.result)
        if kind == OperationType.MUTATION.value and reached:
            return  # its resolvers (unit_of_work) or FieldAuthorization recorded it
        try:
            async with context.runtime.db.write() as session:
                await record(
                    session,
                    subgraph=context.subgraph,
                    operation=f"{kind} {name}"[:128],
                    outcome=outcome,
                    principal_id=principal.actor_id,
                    tenant_id=principal.tenant_id,
                    input=self.execution_context.variables or {},
                )
        except Exception as exc:
            trace_id = request_trace_id()
            log.error("service call not audited", extra={"trace_id": trace_id, "error": type(exc).__name__})
            raise GraphQLError(
                "Internal server error.", extensions={"code": "INTERNAL", "traceId": trace_id}
            ) from exc
