"""Typed GraphQL errors: every refusal carries `extensions.code`."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

from graphql import GraphQLError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from strawberry.extensions import SchemaExtension

from shared.telemetry import request_trace_id

log = logging.getLogger("shared.errors")


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    CONFLICT = "CONFLICT"
    RATE_LIMITED = "RATE_LIMITED"
    CONSENT_REQUIRED = "CONSENT_REQUIRED"
    RESYNC_REQUIRED = "RESYNC_REQUIRED"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"


class DomainError(Exception):
    """Raised by services; the GraphQL layer shows it with its code."""

    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = extensions

    def to_graphql_extensions(self) -> dict[str, Any]:
        return {"code": self.code.value, **self.extensions}


class Unauthenticated(DomainError):
    code = ErrorCode.UNAUTHENTICATED


class Forbidden(DomainError):
    code = ErrorCode.FORBIDDEN


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND


class BadUserInput(DomainError):
    code = ErrorCode.BAD_USER_INPUT


class Conflict(DomainError):
    code = ErrorCode.CONFLICT


class RateLimited(DomainError):
    code = ErrorCode.RATE_LIMITED


class ConsentRequired(DomainError):
    code = ErrorCode.CONSENT_REQUIRED


class Unavailable(DomainError):
    """A backing service (Redis, the database) cannot be reached: nothing was done; retry."""

    code = ErrorCode.UNAVAILABLE


TRANSIENT_ERRORS: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError)


class ResyncRequired(DomainError):
    """A subscriber's position is older than the retained events: reload, then resubscribe."""

    code = ErrorCode.RESYNC_REQUIRED


def typed_error(error: GraphQLError) -> GraphQLError:
    """The error as the client sees it: a domain error's code, BAD_USER_INPUT for a bad
    document, anything unexpected masked as INTERNAL with a trace id (logged here once)."""
    original = error.original_error
    if (error.extensions or {}).get("code") and original is None:
        return error
    if isinstance(original, DomainError):
        return _with_extensions(error, error.message, original.to_graphql_extensions())
    if original is None:
        extensions = dict(error.extensions or {})
        extensions.setdefault("code", ErrorCode.BAD_USER_INPUT.value)
        return _with_extensions(error, error.message, extensions)
    if isinstance(original, TRANSIENT_ERRORS):
        log.warning(
            "backing service unavailable", extra={"error": type(original).__name__, "path": error.path}
        )
        return _with_extensions(
            error, "Service temporarily unavailable; retry shortly.", {"code": ErrorCode.UNAVAILABLE.value}
        )
    if isinstance(original, GraphQLError):
        # graphql-core (or a scalar/enum parser) refused an input value.
        extensions = dict(original.extensions or {})
        extensions.setdefault("code", ErrorCode.BAD_USER_INPUT.value)
        return _with_extensions(error, error.message, extensions)
    trace_id = request_trace_id()
    log.error(
        "unexpected error",
        extra={"trace_id": trace_id, "path": error.path},
        exc_info=(type(original), original, original.__traceback__),
    )
    return _with_extensions(
        error, "Internal server error.", {"code": ErrorCode.INTERNAL.value, "traceId": trace_id}
    )


def type_errors(result: Any) -> None:
    errors = getattr(result, "errors", None)
    if result is not None and errors:
        result.errors = [typed_error(error) for error in errors]


class ErrorCodes(SchemaExtension):
    """Gives every error of a query or mutation a code (see `typed_error`); subscription
    results are typed as they stream (`PlatformSchema.stream`)."""

    def on_operation(self) -> Iterator[None]:
        yield
        type_errors(self.execution_context.result)


def _with_extensions(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


def graphql_error(code: ErrorCode, message: str, **extensions: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code.value, **extensions})
