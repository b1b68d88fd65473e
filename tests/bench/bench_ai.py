"""The ai subgraph: the recommender trained on a synthetic audience (the offline catalogue's
sample history is too thin: 300 listeners x 90 days from `subgraphs/spotify/data/listening.py`),
its offline evaluation table against popularity and random, and the latency of
`recommendations` for each seed kind, warm, one request at a time, through the subgraph host
(a separate process, one uvicorn worker), beside the engine answering in-process (the honest
baseline: the same numpy work with no HTTP, GraphQL, authentication or SQL)."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx

from gateway.host_process import HostProcess
from shared.db import Database
from shared.embeddings import sentence_encoder
from subgraphs.ai.config import AiSettings
from subgraphs.ai.recommender import engine, seeds
from subgraphs.ai.recommender.evaluation import table_lines
from subgraphs.ai.recommender.model import RecommenderModel
from subgraphs.ai.repository import ModelRepository
from subgraphs.ai.service.training import train_recommender
from subgraphs.ai.tasks import project_consent, project_membership, project_plays, project_project
from subgraphs.spotify.catalogue.offline import load_sample
from subgraphs.spotify.data.listening import generate_listening
from tests.ai.conftest import project_listening, project_sample_catalogue
from tests.bench.collab_platform import embedded_redis, platform_settings
from tests.support.databases import SqliteFactory
from tests.support.domain_events import apply, event
from tests.support.graphql import gql, sign_up

LISTENERS = 300
DAYS = 90
REQUESTS = 150
RECOMMEND = """query($seed: RecommendationSeed!) { recommendations(seed: $seed, first: 20) {
  items { track { id } score reasons { kind summary relatedTracks { id } } contributions { source share } } } }"""


def _ms(samples: list[float]) -> str:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return f"p50 {cuts[49] * 1000:6.2f} ms  p95 {cuts[94] * 1000:6.2f} ms"


async def _trained(directory: Path) -> tuple[str, dict[str, Any]]:
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    factory = await asyncio.to_thread(SqliteFactory, directory)
    url = factory.new()
    database = Database(url)
    try:
        started = time.perf_counter()
        listening = generate_listening(listeners=LISTENERS, days=DAYS, seed=7)
        await project_sample_catalogue(database)
        streams = await project_listening(database, listening)
        print(f"  synthetic audience: {LISTENERS} listeners x {DAYS} days, {streams:,} streams, "
              f"{len(listening.playlists)} playlists, projected in {time.perf_counter() - started:.1f} s")  # fmt: skip
        encoder = sentence_encoder()
        await asyncio.to_thread(encoder.load)
        started = time.perf_counter()
        outcome = await train_recommender(database, AiSettings(), created_by="bench", encoder=encoder)
        print(
            f"  training (embedding 2,871 tracks, evaluation on the time split, fit): {time.perf_counter() - started:.1f} s"
        )
        started = time.perf_counter()
        await train_recommender(database, AiSettings(), created_by="bench", encoder=encoder)
        print(f"  retraining with the embeddings cached: {time.perf_counter() - started:.1f} s")
        return url, outcome.metrics
    finally:
        await database.dispose()


async def _model(url: str) -> RecommenderModel:
    database = Database(url)
    try:
        async with database.read() as session:
            registry = ModelRepository(session)
            production = await registry.production("recommender")
            artifact = await registry.artifact(production.id) if production else None
        if artifact is None:
            raise RuntimeError("no recommender in production")
        return RecommenderModel.from_bytes(artifact.data)
    finally:
        await database.dispose()


async def _seeds(
    url: str, tenant_id: str, user_id: str, model: RecommenderModel
) -> dict[str, dict[str, Any]]:
    """One seed of each kind; the user has 300 plays and the personalization consent."""
    sample = load_sample()
    database = Database(url)
    try:
        history = [track.id for track in model.tracks[:300]]
        plays = [
            {"track_id": t, "played_at": f"2026-11-01T{n // 60 % 24:02d}:{n % 60:02d}:00+00:00"}
            for n, t in enumerate(history)
        ]
        await apply(
            database,
            project_plays,
            event("spotify.plays.ingested", {"user_id": user_id, "plays": plays}, tenant_id),
        )
        consent = {"user_id": user_id, "consent": "personalization"}
        await apply(database, project_consent, event("accounts.consent.granted", consent, tenant_id))
        draft = {"project_id": "prj_bench", "workspace_id": "wsp_bench", "version": 1, "title": "Bench draft"}
        draft["content"] = {"trackIds": sample["playlists"][1]["track_ids"][:25]}
        await apply(database, project_project, event("collaboration.project.created", draft, tenant_id))
        member = {"workspace_id": "wsp_bench", "user_id": user_id}
        await apply(database, project_membership, event("collaboration.member.added", member, tenant_id))
    finally:
        await database.dispose()
    return {
        "USER": {"kind": "USER"},
        "PLAYLIST": {"kind": "PLAYLIST", "id": sample["playlists"][0]["id"]},
        "TRACK": {"kind": "TRACK", "id": sample["tracks"][42]["id"]},
        "ARTIST": {"kind": "ARTIST", "id": sample["artists"][17]["id"]},
        "PROJECT": {"kind": "PROJECT", "id": "prj_bench"},
    }


def _in_process(model: RecommenderModel, kind: str, seed: dict[str, Any], history: list[str]) -> list[float]:
    sample = load_sample()
    if kind == "USER":
        built = seeds.history_seed(model, [(t, 1_700_000_000 + n) for n, t in enumerate(history)])
    elif kind == "PLAYLIST":
        built = seeds.tracks_seed(model, sample["playlists"][0]["track_ids"])
    elif kind == "ARTIST":
        built = seeds.artist_seed(model, seed["id"])
    elif kind == "PROJECT":
        built = seeds.tracks_seed(model, sample["playlists"][1]["track_ids"][:25])
    else:
        built = seeds.tracks_seed(model, [seed["id"]])
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        engine.recommend(model, built, first=20, diversity=0.3, max_per_artist=3)
        samples.append(time.perf_counter() - started)
    return samples


async def run() -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-ai-"))
    url, metrics = await _trained(root / "db")
    print("offline evaluation (last 20 % of each listener's plays, 20 % of each playlist's tracks held out):")
    for line in table_lines(metrics):
        print(line)
    model = await _model(url)
    settings = platform_settings(root, url)
    async with AsyncExitStack() as stack:
        redis = await stack.enter_async_context(embedded_redis(root))
        host = await stack.enter_async_context(
            HostProcess(settings, redis.url, ["accounts", "ai"], workers=1, log_path=root / "host.log")
        )
        client = await stack.enter_async_context(httpx.AsyncClient(timeout=60))
        account = await sign_up(client, path=f"{host.url}/accounts/graphql")
        me = await gql(
            client, "{ me { id tenant { id } } }", token=account["token"], path=f"{host.url}/accounts/graphql"
        )
        tenant_id, user_id = me["data"]["me"]["tenant"]["id"], me["data"]["me"]["id"]
        asked = await _seeds(url, tenant_id, user_id, model)
        history = [track.id for track in model.tracks[:300]]
        print(
            f"`recommendations(first: 20)` with reasons, one client, {REQUESTS} requests per seed kind, warm (target p95 <= 100 ms):"
        )
        for kind, seed in asked.items():
            for _ in range(5):
                body = await gql(
                    client, RECOMMEND, {"seed": seed}, token=account["token"], path=f"{host.url}/ai/graphql"
                )
                if "errors" in body:
                    raise RuntimeError(body["errors"])
            samples = []
            for _ in range(REQUESTS):
                started = time.perf_counter()
                await gql(
                    client, RECOMMEND, {"seed": seed}, token=account["token"], path=f"{host.url}/ai/graphql"
                )
                samples.append(time.perf_counter() - started)
            bare = _in_process(model, kind, seed, history)
            print(f"  {kind:<9} subgraph {_ms(samples)}   engine in-process {_ms(bare)}")
