"""The router serves Prometheus metrics at /metrics: they parse with Prometheus's own text
parser, and the request and subgraph-call series move when a query is served."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.router.conftest import Stack

pytestmark = pytest.mark.e2e


def _totals(text: str) -> dict[str, float]:
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


async def test_router_metrics_parse_and_move(stack: Stack):
    async with httpx.AsyncClient(base_url=stack.router_url, timeout=30) as client:
        before = _totals((await client.get("/metrics")).text)
        for _ in range(3):
            answer = await client.post("/graphql", json={"query": "{ tracks { id title plays } }"})
            assert answer.json()["data"]["tracks"]
        response = await client.get("/metrics")
    after = _totals(response.text)
    assert response.status_code == 200
    requests = "graphql_envelop_request_duration_count"
    assert after.get(requests, 0) - before.get(requests, 0) == 3
    calls = "graphql_gateway_subgraph_execute_duration_count"
    assert after.get(calls, 0) - before.get(calls, 0) >= 6  # both subgraphs, each time
