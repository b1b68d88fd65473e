"""Builds a subgraph's Strawberry federation schema with the platform's extensions."""

from __future__ import annotations

import hashlib
import inspect
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from enum import Enum
from typing import Any, Literal, Self, TypeVar, cast

import strawberry
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, MiddlewareManager
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.disable_introspection import DisableIntrospection
from strawberry.federation.schema import FederationAny
from strawberry.federation.schema_directives import FieldSet, Key
from strawberry.types import ExecutionResult, Info

from shared import tracing
from shared.audit.service_calls import ServiceAudit
from shared.config import Settings
from shared.errors import ErrorCodes, Unauthenticated, type_errors
from shared.logging import logged_variables
from shared.metrics import observe_operation
from shared.permissions.extension import FieldAuthorization
from shared.permissions.middleware import AuthorizingMiddleware, fields_by_resolver
from shared.telemetry import current_trace_id

log = logging.getLogger("shared.operations")

# The composition library (@theguild/federation-composition) rejects link versions > v2.9.
FEDERATION_VERSION: Literal["2.9"] = "2.9"


class RequestLifecycle(SchemaExtension):
    """Refuses the operation when the credentials were bad; closes the request session; ends a
    principal switched by `RequestContext.act_as` with the operation (a WebSocket connection's
    context outlives it); and answers the resolvers' `RequestContext.extensions`."""

    async def on_operation(self) -> AsyncIterator[None]:  # type: ignore[override]
        context = self.execution_context.context
        caller = getattr(context, "principal", None)
        getattr(context, "extensions", {}).clear()
        try:
            yield
        finally:
            if caller is not None and context.principal is not caller:
                context.principal = caller
                context.decisions.clear()
            await context.close()

    def on_execute(self) -> Iterator[None]:
        error = self.execution_context.context.auth_error
        if error is not None:
            # A result set before execution short-circuits it (nothing resolves).
            self.execution_context.result = GraphQLExecutionResult(
                data=None, errors=[GraphQLError(error.message, original_error=error)]
            )
        yield

    def get_results(self) -> dict[str, Any]:
        return dict(getattr(self.execution_context.context, "extensions", {}))


class OperationLog(SchemaExtension):
    """One structured line per operation, and its count and duration in the metrics.
    Variables pass the redaction step like every other log field, so a password in signUp's
    input never reaches the log."""

    async def on_operation(self) -> AsyncIterator[None]:  # type: ignore[override]
        started = time.perf_counter()
        execution = self.execution_context
        with tracing.span("graphql", subgraph=execution.context.subgraph) as span:
            yield
            if span is not None:  # named once parsed: the operation is known only now
                name = execution.operation_name or "anonymous"
                span.update_name(f"graphql {name}")
                span.set_attribute("graphql.operation.name", name)
                span.set_attribute(
                    "graphql.document.sha256", hashlib.sha256((execution.query or "").encode()).hexdigest()
                )
        context = self.execution_context
        principal = context.context.principal
        result = context.result
        seconds = time.perf_counter() - started
        error_codes = [
            (error.extensions or {}).get("code") for error in (getattr(result, "errors", None) or [])
        ]
        observe_operation(context.context.subgraph, context.operation_name, error_codes, seconds)
        log.info(
            "graphql operation",
            extra={
                "operation": context.operation_name,
                "subgraph": context.context.subgraph,
                "principal": principal.user_id or principal.kind,
                "tenant": principal.tenant_id,
                "duration_ms": round(seconds * 1000, 2),
                "trace_id": current_trace_id.get(),
                "error_codes": error_codes,
                "variables": logged_variables(context.query, context.graphql_document, context.variables),
            },
        )


@strawberry.type
class UserExtension:
    """Base of a subgraph's `User` that adds fields to the accounts user: its key, the
    reference resolver, and `owner_id`, the subject of Casbin's "self" rules."""

    id: strawberry.ID = strawberry.field(
        description="Accounts user id (opaque), the key the router joins on."
    )

    @property
    def owner_id(self) -> str:
        return str(self.id)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Self:
        return cls(id=id)


V = TypeVar("V")


def described(value: V, description: str) -> V:
    """An enum member with its description (`strawberry.enum_value`), typed as its value so
    `Member.value` stays a `str` for mypy."""
    return cast(V, strawberry.enum_value(value, description=description))


E = TypeVar("E", bound=Enum)


def described_enum(
    cls: type[E], description: str, values: Mapping[E, str], name: str | None = None
) -> type[E]:
    """`strawberry.enum` for a domain enum whose body cannot hold `strawberry.enum_value`
    (a `StrEnum`): the description of each of its values is given here, every one required."""
    strawberry.enum(cls, name=name, description=description)
    for value in cls.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = values[cls[value.name]]
    return cls


def reference_only() -> list[Key]:
    """The key of an entity another subgraph owns, held here by id only: the router joins it."""
    return [Key(fields=FieldSet("id"), resolvable=False)]


class PlatformSchema(strawberry.federation.Schema):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fields_by_resolver = fields_by_resolver(self._schema)

    def _get_middleware_manager(self, extensions: list[SchemaExtension]) -> MiddlewareManager:
        # Overrides a private Strawberry hook. Should Strawberry stop calling it, its own
        # manager runs FieldAuthorization on every field value: slower, equally safe.
        hooks = [extension for extension in extensions if extension._implements_resolve()]
        return AuthorizingMiddleware(self._fields_by_resolver, hooks)

    def entities_resolver(  # type: ignore[override]
        self, info: Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        """`_entities` for types that define `resolve_references(info, ids)` resolves each
        type's representations in one call (Strawberry calls `resolve_reference` once per
        representation: a thousand awaits for a thousand tracks)."""
        batched: dict[Any, list[int]] = defaultdict(list)
        reps: list[dict[str, Any]] = representations  # type: ignore[assignment]
        for index, representation in enumerate(reps):
            definition: Any = self.schema_converter.type_map[representation["__typename"]].definition
            origin = definition.origin
            if hasattr(origin, "resolve_references") and set(representation) == {"__typename", "id"}:
                batched[origin].append(index)
        if not batched:
            return super().entities_resolver(info, representations)
        taken = {index for indices in batched.values() for index in indices}
        rest = [index for index in range(len(representations)) if index not in taken]
        plain = super().entities_resolver(info, [representations[index] for index in rest]) if rest else []

        async def resolve() -> list[Any]:
            results: list[Any] = [None] * len(representations)
            for index, result in zip(rest, plain, strict=True):
                results[index] = await result if inspect.isawaitable(result) else result
            for origin, indices in batched.items():
                ids = [str(reps[index]["id"]) for index in indices]
                for index, found in zip(indices, await origin.resolve_references(info, ids), strict=True):
                    results[index] = found
            return results

        return resolve()  # type: ignore[return-value]  # graphql-core awaits it

    async def stream(self, *args: Any, **kwargs: Any) -> Any:
        result = await super().stream(*args, **kwargs)
        if not hasattr(result, "__aiter__"):
            type_errors(result)
            return result
        context = kwargs.get("context_value")

        async def typed() -> AsyncIterator[Any]:
            try:
                async for item in result:
                    refusal = await _no_longer_authenticated(context)
                    if refusal is not None:
                        yield refusal
                        return
                    type_errors(item)
                    yield item
            finally:
                await result.aclose()  # a client that leaves ends the source stream too

        return typed()

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """ErrorCodes logs unexpected errors once, with the trace id the client sees;
        the view's `process_result` catches any error that bypassed it."""


async def _no_longer_authenticated(context: Any) -> ExecutionResult | None:
    """A subscription was authenticated once, at connection_init. Before each result: has its
    token expired or its session been revoked since? Then the stream ends with UNAUTHENTICATED."""
    runtime = getattr(context, "runtime", None)
    if runtime is None:
        return None
    try:
        await runtime.authenticator.ensure_current(context.principal)
    except Unauthenticated as error:
        refusal = ExecutionResult(data=None, errors=[GraphQLError(error.message, original_error=error)])
        type_errors(refusal)
        return refusal
    return None


def build_schema(
    settings: Settings,
    *,
    query: type,
    mutation: type | None = None,
    subscription: type | None = None,
    types: Iterable[type] = (),
    extra_extensions: Iterable[Any] = (),
) -> PlatformSchema:
    # Limit rules are built once: the validation cache is keyed by the rule classes, and
    # fresh classes per request would make every request miss it.
    limit_rules = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    ]
    extensions: list[Any] = [
        OperationLog,  # outermost: logs the final, typed errors
        ServiceAudit,  # audits service-token operations, after ErrorCodes has typed the errors
        ErrorCodes,  # exits before OperationLog, after everything else: sees every error
        RequestLifecycle,
        # Factories: a fresh extension per request; the parse and validation caches are
        # module-level inside Strawberry, so they are still shared across requests.
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: ParserCache(maxsize=1024),
        lambda: AddValidationRules(limit_rules),
        lambda: ValidationCache(maxsize=1024),
        FieldAuthorization,
        *extra_extensions,
    ]
    if not settings.is_dev:
        extensions.append(DisableIntrospection)
    return PlatformSchema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        types=list(types),
        extensions=extensions,
        federation_version=FEDERATION_VERSION,
    )
