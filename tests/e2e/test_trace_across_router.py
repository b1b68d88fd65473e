"""With tracing on in the router and in the subgraphs, one federated request is one trace:
the router's spans and the subgraph's request span, operation span and SQL spans share the
trace id, and the subgraph's request span is the child of a router span. The router exports
over OTLP/HTTP to a collector stand-in; the subgraph host records in memory."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.composition import write_supergraph
from gateway.host import definitions
from gateway.router_process import RouterProcess
from shared import tracing
from shared.config import Settings
from shared.redis import free_port
from tests.support.graphql import sign_up
from tests.support.hosting import served_together
from tests.support.servers import ServerThread

pytestmark = pytest.mark.e2e


class Collector:
    """Receives the router's OTLP/HTTP JSON exports."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []

    async def traces(self, request: Request) -> Response:
        body = await request.json()
        for resource in body.get("resourceSpans", []):
            for scope in resource.get("scopeSpans", []):
                self.spans.extend(scope.get("spans", []))
        return Response(status_code=200)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/traces", self.traces, methods=["POST"])])


def _server_span(memory: InMemorySpanExporter, trace_id: str) -> Any:
    return next(
        (
            span
            for span in memory.get_finished_spans()
            if f"{span.context.trace_id:032x}" == trace_id and span.name == "POST /accounts/graphql"
        ),
        None,
    )


def _parent_exported(memory: InMemorySpanExporter, collector: Collector, trace_id: str) -> bool:
    server = _server_span(memory, trace_id)
    return server is not None and any(
        span["spanId"] == f"{server.parent.span_id:016x}" for span in collector.spans
    )


async def test_a_federated_request_is_one_trace_from_the_router_to_sql(
    tmp_path, redis_server, sqlite_factory
):
    memory = InMemorySpanExporter()
    tracing.configure("test-subgraphs", processor=SimpleSpanProcessor(memory), sampler=ALWAYS_ON)
    collector = Collector()
    sink = ServerThread(collector.app()).start()
    settings = Settings(
        env="test", data_dir=tmp_path, database_url=sqlite_factory.new(), subgraph_port=free_port()
    )
    try:
        with served_together(["accounts"], settings, redis_server.url, port=settings.subgraph_port) as (
            _,
            host,
        ):
            async with httpx.AsyncClient(base_url=host.url, timeout=30) as client:
                user = await sign_up(client, path="/accounts/graphql")
            supergraph = tmp_path / "supergraph.graphql"
            write_supergraph(definitions(settings, ["accounts"]), supergraph)
            env = {
                "OTEL_TRACES_EXPORTER": "otlp",
                "OTEL_EXPORTER_OTLP_ENDPOINT": sink.url,
                "OTEL_BSP_SCHEDULE_DELAY": "100",
                "ROUTER_TRACE_SAMPLE_RATIO": "1",
            }
            async with RouterProcess(
                supergraph, port=free_port(), log_path=tmp_path / "router.log", env=env
            ) as router:
                async with httpx.AsyncClient(base_url=router.url, timeout=30) as client:
                    memory.clear()
                    answer = await client.post(
                        "/graphql",
                        json={"query": "query Me { me { id displayName } }"},
                        headers={"authorization": f"Bearer {user['token']}"},
                    )
                    assert answer.json()["data"]["me"]["id"] == user["user"]["id"]
                    trace_id = answer.headers["traceparent"].split("-")[1]
                    # Both sides export when their spans end (the router in batches): wait for the
                    # subgraph's request span, then for the router span that is its parent.
                    deadline = time.monotonic() + 20
                    while time.monotonic() < deadline and not _parent_exported(memory, collector, trace_id):
                        await asyncio.sleep(0.1)
    finally:
        sink.stop()
        tracing.shutdown()

    router_spans = {span["spanId"]: span for span in collector.spans if span["traceId"] == trace_id}
    assert router_spans, f"the router exported no span of trace {trace_id}"
    ours = [span for span in memory.get_finished_spans() if f"{span.context.trace_id:032x}" == trace_id]
    names = {span.name for span in ours}
    assert "graphql anonymous" in names, names  # the router sends its fetches without a name
    assert "SELECT accounts_user" in names, names
    server = next(span for span in ours if span.name == "POST /accounts/graphql")
    assert f"{server.parent.span_id:016x}" in router_spans  # the subgraph call's span in the router
