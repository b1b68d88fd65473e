"""With tracing on, one request is one trace: the request span continues the router's
`traceparent`, the GraphQL operation span is its child, and the I/O (the keyed SQL read,
Redis) are children within the same trace; no span is made per resolved field, and the
subgraph's log line carries the same trace id."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON

from shared import tracing
from shared.auth.authenticate import forget_live_sessions
from tests.support.graphql import gql, sign_up
from tests.support.hosting import hosted_together

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
ROUTER_SPAN = "00f067aa0ba902b7"


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    assert tracing.configure("test", processor=SimpleSpanProcessor(exporter), sampler=ALWAYS_ON)
    try:
        yield exporter
    finally:
        tracing.shutdown()


async def test_one_request_is_one_trace_from_the_router_span_down_to_sql(spans, settings, redis_server):
    async with hosted_together(["accounts"], settings, redis_server.url) as platform:
        user = await sign_up(platform.client, path="/accounts/graphql")
        forget_live_sessions()  # the request asks Redis about its session
        spans.clear()
        headers = {
            "traceparent": f"00-{TRACE_ID}-{ROUTER_SPAN}-01",
            "authorization": f"Bearer {user['token']}",
        }
        answer = await platform.client.post(
            "/accounts/graphql", json={"query": "query Me { me { id displayName } }"}, headers=headers
        )
        assert answer.json()["data"]["me"]["id"] == user["user"]["id"]
        await gql(platform.client, "{ __typename }", path="/accounts/graphql")  # another trace

    finished = [span for span in spans.get_finished_spans() if f"{span.context.trace_id:032x}" == TRACE_ID]
    by_name = {span.name: span for span in finished}
    server = next(
        span for span in finished if span.parent is not None and f"{span.parent.span_id:016x}" == ROUTER_SPAN
    )
    operation = by_name["graphql Me"]
    assert operation.attributes["subgraph"] == "accounts"
    assert len(operation.attributes["graphql.document.sha256"]) == 64
    ancestors = {span.context.span_id: span for span in finished}

    def chain(span) -> list[str]:
        names = []
        while span.parent is not None and span.parent.span_id in ancestors:
            span = ancestors[span.parent.span_id]
            names.append(span.name)
        return names

    sql = by_name["SELECT accounts_user"]
    assert sql.attributes["db.system"] in ("sqlite", "postgresql")
    assert operation.name in chain(sql) and server.name in chain(sql)
    redis = [span for span in finished if span.attributes.get("db.system") == "redis"]
    assert redis and all(server.name in chain(span) for span in redis)
    assert len(finished) <= 12, [span.name for span in finished]  # request, operation, I/O: no resolver spans


async def test_orm_statements_are_spans_of_the_request_too(spans, settings, redis_server):
    async with hosted_together(["accounts"], settings, redis_server.url) as platform:
        spans.clear()
        await sign_up(platform.client, path="/accounts/graphql")
    finished = spans.get_finished_spans()
    server = next(span for span in finished if span.name == "POST /accounts/graphql")
    inserts = [span for span in finished if span.name.startswith("INSERT")]
    assert inserts, [span.name for span in finished]
    assert {span.context.trace_id for span in inserts} == {server.context.trace_id}
