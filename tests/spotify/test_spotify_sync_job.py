"""syncMySpotifyLibrary: a job handle, one job at a time per user, progress by
subscription, an idempotent import of playlists and listening history."""

from __future__ import annotations

import httpx
import pytest
from arq.connections import ArqRedis
from arq.jobs import Job
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from gateway.worker import create_worker
from shared import jobs
from shared.redis import create_redis
from subgraphs.spotify.catalogue.library import Play
from subgraphs.spotify.config import SpotifySettings
from subgraphs.spotify.models import LibraryPlaylist, StreamEvent
from subgraphs.spotify.service.sync import ingest_plays
from tests.support import hosting
from tests.support.graphql import codes, gql, sign_up
from tests.support.ws import GraphQLWebSocket

SYNC = "mutation { syncMySpotifyLibrary { job { id status alreadyRunning } } }"
LINK = 'mutation($s: String!) { linkSpotifyAccount(input: {code: "offline", state: $s}) { account { spotifyUserId } } }'


@pytest.fixture
async def served(settings, redis_server, accounts):
    """accounts and spotify under uvicorn, each in its own thread and event loop with its
    own connections (WebSocket subscriptions need a real server)."""
    with hosting.served("accounts", settings, redis_server.url) as (_, accounts_server):
        config = SpotifySettings(accounts_internal_url=accounts_server.url)
        with hosting.served("spotify", settings, redis_server.url, config=config) as (_, spotify_server):
            redis = create_redis(redis_server.url)
            try:
                async with httpx.AsyncClient(base_url=spotify_server.url, timeout=30) as client:
                    account = await sign_up(accounts[1])
                    yield redis, client, spotify_server, account
            finally:
                await redis.aclose()


async def _link(accounts_client, token: str) -> None:
    state = (await gql(accounts_client, "{ spotifyAuthorizeUrl { state } }", token=token))["data"][
        "spotifyAuthorizeUrl"
    ]["state"]
    assert "errors" not in await gql(accounts_client, LINK, {"s": state}, token=token)


async def _count(database, model) -> int:
    async with database.read() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def _run_worker(settings, redis_url: str) -> None:
    worker = create_worker(settings, redis_url, burst=True, poll_delay=0.05)
    try:
        await worker.async_run()
    finally:
        await worker.close()


async def test_sync_needs_a_linked_account(served):
    _, client, _, account = served
    body = await gql(client, SYNC, token=account["token"])
    assert codes(body) == ["BAD_USER_INPUT"]


@pytest.mark.realtime
async def test_sync_runs_once_at_a_time_reports_progress_and_imports_idempotently(
    served, accounts, database, settings, redis_server
):
    redis, client, server, account = served
    _, accounts_client = accounts
    await _link(accounts_client, account["token"])

    first = (await gql(client, SYNC, token=account["token"]))["data"]["syncMySpotifyLibrary"]["job"]
    second = (await gql(client, SYNC, token=account["token"]))["data"]["syncMySpotifyLibrary"]["job"]
    assert first["status"] == "QUEUED" and first["alreadyRunning"] is False
    assert second == {**first, "alreadyRunning": True}
    queue = ArqRedis.from_url(redis_server.url)
    queued_job = await Job(first["id"], queue).info()
    await queue.aclose()
    # arq logs job arguments: they name the account's sealed payload, never carry it.
    assert queued_job is not None and set(queued_job.kwargs) == {
        "job_id",
        "tenant_id",
        "user_id",
        "payload_key",
    }

    timed = {"function": "sync_spotify_library", "outcome": "ok"}
    runs_before = REGISTRY.get_sample_value("job_duration_seconds_count", timed) or 0
    url = server.url.replace("http", "ws") + "/graphql"
    async with GraphQLWebSocket(url, {"Authorization": f"Bearer {account['token']}"}) as ws:
        assert (await ws.ack())["type"] == "connection_ack"
        await ws.subscribe(
            "subscription($id: ID!) { jobProgress(jobId: $id) { status progress result } }",
            {"id": first["id"]},
        )
        queued = await ws.next()
        assert queued["payload"]["data"]["jobProgress"]["status"] == "QUEUED"
        await _run_worker(settings, redis_server.url)
        statuses = []
        while True:
            message = await ws.next()
            if message["type"] != "next":
                break
            statuses.append(message["payload"]["data"]["jobProgress"])
    assert statuses[-1]["status"] == "COMPLETED" and statuses[-1]["progress"] == 1.0
    assert statuses[-1]["result"] == {"playlists": 12, "plays": 50, "new_plays": 50}
    assert REGISTRY.get_sample_value("job_duration_seconds_count", timed) == runs_before + 1
    assert [s["progress"] for s in statuses] == sorted(s["progress"] for s in statuses)
    assert await _count(database, LibraryPlaylist) == 12 and await _count(database, StreamEvent) == 50

    again = (await gql(client, SYNC, token=account["token"]))["data"]["syncMySpotifyLibrary"]["job"]
    assert again["id"] != first["id"] and again["alreadyRunning"] is False
    await _run_worker(settings, redis_server.url)
    events = [fields async for _, fields in jobs.follow(redis, again["id"])]
    assert events[-1]["status"] == "COMPLETED" and '"new_plays": 0' in events[-1]["data"]
    assert await _count(database, LibraryPlaylist) == 12 and await _count(database, StreamEvent) == 50


async def test_someone_elses_job_is_forbidden(served, accounts):
    _, client, server, account = served
    _, accounts_client = accounts
    await _link(accounts_client, account["token"])
    job = (await gql(client, SYNC, token=account["token"]))["data"]["syncMySpotifyLibrary"]["job"]
    other = await sign_up(accounts_client)
    url = server.url.replace("http", "ws") + "/graphql"
    async with GraphQLWebSocket(url, {"Authorization": f"Bearer {other['token']}"}) as ws:
        await ws.ack()
        await ws.subscribe("subscription($id: ID!) { jobProgress(jobId: $id) { status } }", {"id": job["id"]})
        message = await ws.next()
    assert message["type"] in ("error", "next")
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert errors[0].get("extensions", {}).get("code") == "FORBIDDEN", errors


async def test_stream_event_ingestion_is_idempotent(database):
    from datetime import UTC, datetime

    plays = [
        Play("track-a", datetime(2026, 1, 1, 12, 0, tzinfo=UTC)),
        Play("track-b", datetime(2026, 1, 1, 12, 4, tzinfo=UTC)),
    ]
    async with database.write() as session:
        assert await ingest_plays(session, "tnt_1", "usr_1", plays) == 2
    async with database.write() as session:
        assert (
            await ingest_plays(
                session, "tnt_1", "usr_1", [*plays, Play("track-c", datetime(2026, 1, 1, 12, 8, tzinfo=UTC))]
            )
            == 1
        )
    assert await _count(database, StreamEvent) == 3
