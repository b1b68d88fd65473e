"""OpenTelemetry traces, off unless the standard environment variables turn them on:
`OTEL_TRACES_EXPORTER=otlp` with `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`),
exported over OTLP/HTTP; sampled parent-based with a trace-id ratio (`OTEL_TRACES_SAMPLER`,
`OTEL_TRACES_SAMPLER_ARG`; default `parentbased_traceidratio` at 0.1); `OTEL_SERVICE_NAME`.

What is traced: each request (the ASGI span, continuing the router's `traceparent`), each
GraphQL operation (its name, type, subgraph and a SHA-256 of its document), and as children
the I/O: SQL (SQLAlchemy, and the keyed reads of `shared/db/keyed.py`), Redis and outbound
HTTP. No span per resolved field: that is where tracing costs most for least."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.sampling import ParentBased, Sampler, TraceIdRatioBased

_provider: TracerProvider | None = None
_tracer: trace.Tracer | None = None
EXCLUDED_PATHS = "healthz,readyz,metrics"


def requested() -> bool:
    """Whether the environment asks for traces."""
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    return os.environ.get("OTEL_TRACES_EXPORTER", "none").strip().lower() not in ("", "none")


def _sampler() -> Sampler | None:
    if os.environ.get("OTEL_TRACES_SAMPLER"):
        return None  # the SDK reads OTEL_TRACES_SAMPLER and its argument itself
    ratio = float(os.environ.get("OTEL_TRACES_SAMPLER_ARG") or 0.1)
    return ParentBased(TraceIdRatioBased(ratio))


def configure(
    service_name: str, *, processor: SpanProcessor | None = None, sampler: Sampler | None = None
) -> bool:
    """Sets up tracing for this process when the environment asks for it, or when a test
    passes its own `processor`. Returns whether tracing is on. Idempotent."""
    global _provider, _tracer
    if _provider is not None:
        return True
    if processor is None:
        if not requested():
            return False
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        processor = BatchSpanProcessor(OTLPSpanExporter())
    name = os.environ.get("OTEL_SERVICE_NAME") or service_name
    provider = TracerProvider(resource=Resource.create({"service.name": name}), sampler=sampler or _sampler())
    provider.add_span_processor(processor)
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    RedisInstrumentor().instrument(tracer_provider=provider)
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    _provider, _tracer = provider, provider.get_tracer("spotify-agent")
    return True


def shutdown() -> None:
    """Flushes and stops tracing (tests; a process's exit flushes by itself)."""
    global _provider, _tracer
    if _provider is None:
        return
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    RedisInstrumentor().uninstrument()
    HTTPXClientInstrumentor().uninstrument()
    _provider.shutdown()
    _provider = _tracer = None


def active() -> bool:
    return _tracer is not None


def middleware() -> list[Any]:
    """Starlette middleware giving each request its span (continuing an incoming
    `traceparent`), when tracing is on."""
    if _provider is None:
        return []
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    from starlette.middleware import Middleware

    return [
        Middleware(
            OpenTelemetryMiddleware,
            excluded_urls=EXCLUDED_PATHS,
            exclude_spans=["receive", "send"],  # one span per ASGI message is noise, and costs
            tracer_provider=_provider,
        )
    ]


def instrument_engine(engine: Any) -> None:
    """SQL spans for an engine's statements (SQLAlchemy), when on."""
    if _tracer is None:
        return
    # Per engine, by the instrumentation's own engine tracer: its instrumentor instruments once
    # per process (a second engine would be ignored) and patches `create_engine` globally.
    from opentelemetry import metrics
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

    usage = metrics.get_meter("spotify-agent").create_up_down_counter("db.client.connections.usage")
    EngineTracer(_tracer, engine.sync_engine, usage)


def span(name: str, **attributes: Any) -> Any:
    """A child span of the current one when tracing is on; a no-op context otherwise."""
    if _tracer is None:
        return nullcontext()
    return _tracer.start_as_current_span(name, attributes=attributes)


@contextmanager
def client_span(name: str, **attributes: Any) -> Iterator[None]:
    """A span for an outgoing call this process makes by hand (the keyed reads' SQL)."""
    if _tracer is None:
        yield
        return
    with _tracer.start_as_current_span(name, kind=trace.SpanKind.CLIENT, attributes=attributes):
        yield


def current_trace_id() -> str | None:
    """The trace id of the current span, when tracing is on and one is recording."""
    if _tracer is None:
        return None
    context = trace.get_current_span().get_span_context()
    return trace.format_trace_id(context.trace_id) if context.is_valid else None
