"""`/metrics` parses with Prometheus's own text parser and moves when requests are served:
operations by subgraph, name and outcome, their durations, DataLoader batch sizes, Casbin
decisions, database pool connections, the event-stream and job-queue gauges read from Redis,
and the worker's job durations."""

from __future__ import annotations

import pytest
from arq.worker import Retry
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import DisconnectionError, InvalidRequestError

from gateway.worker import _tasks
from shared.metrics import measured_job, watch_pool
from tests.support.graphql import gql, sign_up
from tests.support.hosting import hosted_together

ME = "query Me { me { id displayName } }"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_parse_and_move_with_requests(settings, redis_server):
    async with hosted_together(["accounts", "collaboration"], settings, redis_server.url) as platform:
        client = platform.client
        user = await sign_up(client, path="/accounts/graphql")
        before = samples((await client.get("/metrics")).text)
        for _ in range(3):
            answer = await gql(client, ME, token=user["token"], path="/accounts/graphql")
            assert answer["data"]["me"]["id"] == user["user"]["id"]
        refused = await gql(client, ME, token="not-a-token", path="/accounts/graphql")
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        response = await client.get("/metrics")
        assert response.headers["content-type"].startswith("text/plain")
        after = samples(response.text)

    ok = {"subgraph": "accounts", "operation": "Me", "outcome": "ok"}
    assert (
        value(after, "graphql_operations_total", **ok) - value(before, "graphql_operations_total", **ok) == 3
    )
    refusals = {**ok, "outcome": "UNAUTHENTICATED"}
    assert (
        value(after, "graphql_operations_total", **refusals)
        - value(before, "graphql_operations_total", **refusals)
        == 1
    )
    timed = {"subgraph": "accounts", "operation": "Me"}
    assert (
        value(after, "graphql_operation_duration_seconds_count", **timed)
        - value(before, "graphql_operation_duration_seconds_count", **timed)
        == 4
    )
    batches = {"loader": "accounts.users"}
    assert (
        value(after, "dataloader_batch_size_count", **batches)
        - value(before, "dataloader_batch_size_count", **batches)
        == 3
    )
    assert (
        value(after, "dataloader_batch_size_sum", **batches)
        - value(before, "dataloader_batch_size_sum", **batches)
        == 3
    )
    assert sum(v for (name, _), v in after.items() if name == "casbin_decisions_total") > 0
    assert (
        value(after, "domain_events_stream_length", stream="events:accounts") >= 2
    )  # tenant created, signed up
    assert ("job_queue_depth", (("queue", "arq:queue"),)) in after
    # The loaders read off the ORM (keyed reads); sign-up wrote through the write pool (SQLite)
    # or the one ORM pool (PostgreSQL reads and writes share it).
    assert value(after, "db_pool_connections", pool="keyed", state="open") >= 1
    assert value(after, "db_pool_connections", pool="keyed", state="in_use") == 0
    writes = "write" if settings.resolved_database_url.startswith("sqlite") else "orm"
    assert value(after, "db_pool_connections", pool=writes, state="open") >= 1
    assert value(after, "db_pool_connections", pool=writes, state="in_use") == 0


@pytest.mark.parametrize("refused", ["before the count", "after the count"])
def test_pool_gauges_stay_true_when_a_checkout_fails(tmp_path, refused):
    """A checkout refused as a disconnection (as the pre-ping does when the server has gone,
    before any checkout listener runs) is retried, then checked in by SQLAlchemy without a
    completed checkout: in use stays at what is in use."""
    engine = create_engine(f"sqlite:///{tmp_path / 'pool.db'}")
    watch_pool(engine, refused)
    refusing = True

    def refuse(*_: object) -> None:
        if refusing:
            raise DisconnectionError("the server has gone away")

    event.listen(engine, "checkout", refuse, insert=refused == "before the count")

    def in_use() -> float | None:
        return REGISTRY.get_sample_value("db_pool_connections", {"pool": refused, "state": "in_use"})

    try:
        for _ in range(3):
            with pytest.raises(InvalidRequestError, match="closed"):
                engine.connect()
        assert in_use() == 0
        refusing = False
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar_one() == 1
            assert in_use() == 1
        assert in_use() == 0
    finally:
        engine.dispose()


def test_every_job_and_cron_job_is_timed():
    functions, cron_jobs = _tasks()
    assert functions and cron_jobs
    for job in [*functions, *cron_jobs]:
        assert hasattr(job.coroutine, "__wrapped__"), job.name


async def test_job_runs_are_timed_by_outcome():
    async def succeeds(ctx):
        return "done"

    async def asks_to_retry(ctx):
        raise Retry(defer=1)

    async def fails(ctx):
        raise ValueError("broken")

    def runs(name: str, outcome: str) -> float:
        labels = {"function": name, "outcome": outcome}
        return REGISTRY.get_sample_value("job_duration_seconds_count", labels) or 0.0

    assert await measured_job("test_succeeds", succeeds)({}) == "done"
    with pytest.raises(Retry):
        await measured_job("test_retries", asks_to_retry)({})
    with pytest.raises(ValueError):
        await measured_job("test_fails", fails)({})
    assert (runs("test_succeeds", "ok"), runs("test_retries", "retry"), runs("test_fails", "failed")) == (
        1,
        1,
        1,
    )
    assert runs("test_succeeds", "failed") == 0
