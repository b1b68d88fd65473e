"""Request correlation by W3C trace context. The router sends `traceparent` on every subgraph
call of a request (its own when the client sent none, also returned to the client), and what
a subgraph logs while serving it, and the `traceId` of an INTERNAL error, carry that trace id:
one id finds a request in the router's answer and in every subgraph's log."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping
from contextvars import ContextVar

from shared import tracing

current_trace_id: ContextVar[str | None] = ContextVar("current_trace_id", default=None)


_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")
_ZERO_TRACE, _ZERO_SPAN = "0" * 32, "0" * 16


def trace_id_from(headers: Mapping[str, str]) -> str | None:
    """The trace id of a valid W3C `traceparent` among `headers` (lower-case names), else
    None. Parsed here rather than by OpenTelemetry's propagator, which costs ~2 % of a small
    request when tracing is off."""
    value = headers.get("traceparent")
    match = _TRACEPARENT.fullmatch(value.strip().lower()) if value else None
    if match is None:
        return None
    version, trace_id, span_id, _flags, rest = match.groups()
    if version == "ff" or trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN or (version == "00" and rest):
        return None
    return trace_id


def start_request_trace(headers: Mapping[str, str] | None) -> str:
    """The request's trace id (from its headers, or a new one), current for this task and the
    tasks it starts."""
    trace_id = (
        tracing.current_trace_id()
        or (trace_id_from(headers) if headers is not None else None)
        or secrets.token_hex(16)
    )
    current_trace_id.set(trace_id)
    return trace_id


def request_trace_id() -> str:
    """The current request's trace id; outside a request, a fresh id (still worth logging)."""
    return current_trace_id.get() or secrets.token_hex(16)


class TraceIdFilter(logging.Filter):
    """Adds `trace_id` to every record logged while a request is being served."""

    def filter(self, record: logging.LogRecord) -> bool:
        trace_id = current_trace_id.get()
        if trace_id is not None and not hasattr(record, "trace_id"):
            record.trace_id = trace_id
        return True
