"""Content generation through GraphQL on the served platform (accounts, spotify, collaboration,
ai under uvicorn): a request is stored and queued, the job grounds it in the subject's data read
through the graph with a service token, streams it (resumably, over WebSocket) and stores the
output with its facts and lineage; budgets, blocked terms, ratings, a dropped LLM stream and
bad input."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from shared.auth.service_tokens import ServiceTokens
from shared.config import Settings
from shared.db import Database
from shared.graph import GraphClient
from subgraphs.ai.config import AiSettings
from subgraphs.ai.generation import OfflineComposer, OpenAICompatibleProvider, ProviderTuning
from subgraphs.ai.service import generation
from subgraphs.ai.tasks import GENERATION_SCOPES, generate_content
from subgraphs.spotify.catalogue.offline import load_sample
from tests.support.graphql import codes, gql, sign_up
from tests.support.hosting import served_together
from tests.support.llm import LlmReplay, Stream
from tests.support.ws import GraphQLWebSocket

GENERATE = """mutation($i: GenerateContentInput!) { generateContent(input: $i) {
  generation { id status kind language subjectType subjectId } } }"""
GENERATION = """query($id: ID!) { generation(id: $id) {
  status text finishReason error facts flags { code detail } rating
  usage { promptTokens completionTokens totalTokens }
  provenance { provider model promptTemplateVersion promptHash } } }"""
GENERATIONS = "query($s: GenerationSubjectInput!) { generations(subject: $s) { id status } }"
RATE = (
    "mutation($i: RateGenerationInput!) { rateGeneration(input: $i) { generation { rating ratingComment } } }"
)
POLICY = """mutation($i: UpdateAiPolicyInput!) { updateAiPolicy(input: $i) {
  tokensToday dailyTokenBudget generationsToday blockedTerms } }"""
USAGE = "{ aiUsage { tokensToday dailyTokenBudget generationsToday } }"
STREAM = """subscription($id: ID!, $after: String) { generationStream(id: $id, after: $after) {
  id kind delta text finishReason error usage { totalTokens } } }"""
CREATE_WORKSPACE = "mutation($i: CreateWorkspaceInput!) { createWorkspace(input: $i) { workspace { id } } }"
CREATE_PROJECT = "mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id } } }"


@dataclass
class Platform:
    url: str
    http: httpx.AsyncClient
    database: Database
    redis: Any
    graph: GraphClient

    async def call(
        self, subgraph: str, query: str, variables: dict[str, Any] | None, token: str | None
    ) -> dict[str, Any]:
        return await gql(self.http, query, variables, token=token, path=f"/{subgraph}/graphql")

    async def run_job(self, generation_id: str, provider: Any = None) -> None:
        """What the worker's `generate_content` does, with this test's provider."""
        await generation.run(
            self.database, self.redis, provider or OfflineComposer(), self.graph, generation_id
        )


@pytest.fixture
def served(ai_settings: Settings, redis_server: Any) -> Iterator[str]:
    with served_together(["accounts", "spotify", "collaboration", "ai"], ai_settings, redis_server.url) as (
        _,
        server,
    ):
        yield server.url


@pytest.fixture
async def platform(served: str, ai_settings: Settings, redis_server: Any) -> AsyncIterator[Platform]:
    from redis.asyncio import Redis

    tokens = ServiceTokens.from_settings(ai_settings)
    database = Database(ai_settings.resolved_database_url)
    redis = Redis.from_url(redis_server.url)
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        graph = GraphClient(
            lambda subgraph: f"{served}/{subgraph}/graphql",
            lambda tenant_id: tokens.headers("ai", GENERATION_SCOPES, tenant_id),
        )
        yield Platform(served, http, database, redis, graph)
        await graph.aclose()
    await redis.aclose()
    await database.dispose()


async def _generate(platform: Platform, token: str, **input: Any) -> dict[str, Any]:
    body = await platform.call("ai", GENERATE, {"i": input}, token)
    assert "errors" not in body, body
    created: dict[str, Any] = body["data"]["generateContent"]["generation"]
    return created


async def _events(
    platform: Platform, token: str, generation_id: str, after: str | None = None
) -> list[dict[str, Any]]:
    url = platform.url.replace("http://", "ws://") + "/ai/graphql"
    events: list[dict[str, Any]] = []
    async with GraphQLWebSocket(url, {"Authorization": f"Bearer {token}"}) as ws:
        assert (await ws.ack())["type"] == "connection_ack"
        await ws.subscribe(STREAM, {"id": generation_id, "after": after})
        while True:
            message = await ws.next()
            if message["type"] == "complete":
                return events
            assert message["type"] == "next", message
            events.append(message["payload"]["data"]["generationStream"])


async def test_an_artist_bio_is_grounded_streamed_resumed_stored_and_rated(platform: Platform) -> None:
    account = await sign_up(platform.http, path="/accounts/graphql")
    artist = load_sample()["artists"][7]
    created = await _generate(
        platform,
        account["token"],
        kind="ARTIST_BIO",
        subject={"artistId": artist["id"]},
        language="FR",
        maxWords=120,
    )
    assert created["status"] == "QUEUED" and created["subjectType"] == "artist"
    await platform.run_job(created["id"])

    events = await _events(platform, account["token"], created["id"])
    assert [event["kind"] for event in events[:-1]] == ["DELTA"] * (len(events) - 1) and len(events) > 5
    done = events[-1]
    assert done["kind"] == "DONE" and done["finishReason"] in ("stop", "length")
    assert "".join(event["delta"] for event in events) == done["text"]
    assert artist["name"] in done["text"]

    resumed = await _events(platform, account["token"], created["id"], after=events[2]["id"])
    assert resumed == events[3:]  # a reconnecting client misses nothing and gets nothing twice

    stored = (await platform.call("ai", GENERATION, {"id": created["id"]}, account["token"]))["data"][
        "generation"
    ]
    assert stored["status"] == "SUCCEEDED" and stored["text"] == done["text"]
    assert stored["facts"]["subject"]["name"] == artist["name"]
    assert stored["facts"]["subject"]["genres"] == artist["genres"]
    provenance = stored["provenance"]
    assert provenance["provider"] == "offline-template" and provenance["model"].startswith(
        "offline-template@"
    )
    assert re.fullmatch(r"[0-9a-f]{64}", provenance["promptHash"]) and provenance["promptTemplateVersion"]
    assert stored["usage"]["totalTokens"] > 0
    models = await platform.call(
        "ai", '{ models(name: "content-generator") { version kind stage } }', None, account["token"]
    )
    assert models["data"]["models"] == [
        {"version": provenance["model"], "kind": "GENERATOR", "stage": "PRODUCTION"}
    ]

    listed = await platform.call("ai", GENERATIONS, {"s": {"artistId": artist["id"]}}, account["token"])
    assert listed["data"]["generations"] == [{"id": created["id"], "status": "SUCCEEDED"}]
    rated = await platform.call(
        "ai", RATE, {"i": {"id": created["id"], "rating": 4, "comment": "Bien"}}, account["token"]
    )
    assert rated["data"]["rateGeneration"]["generation"] == {"rating": 4, "ratingComment": "Bien"}
    assert codes(
        await platform.call("ai", RATE, {"i": {"id": created["id"], "rating": 6}}, account["token"])
    ) == ["BAD_USER_INPUT"]
    stranger = await sign_up(platform.http, path="/accounts/graphql")
    assert codes(await platform.call("ai", GENERATION, {"id": created["id"]}, stranger["token"])) == [
        "NOT_FOUND"
    ]
    assert codes(
        await platform.call("ai", RATE, {"i": {"id": created["id"], "rating": 3}}, stranger["token"])
    ) == ["NOT_FOUND"]


async def test_a_project_is_read_through_collaboration_as_the_tenant(platform: Platform) -> None:
    account = await sign_up(platform.http, path="/accounts/graphql")
    tracks = load_sample()["tracks"][:3]
    workspace = (
        await platform.call("collaboration", CREATE_WORKSPACE, {"i": {"name": "Launch"}}, account["token"])
    )["data"]["createWorkspace"]["workspace"]["id"]
    project = await platform.call(
        "collaboration",
        CREATE_PROJECT,
        {
            "i": {
                "workspaceId": workspace,
                "type": "PLAYLIST_DRAFT",
                "title": "Late night draft",
                "content": {"description": "", "trackIds": [track["id"] for track in tracks]},
            }
        },
        account["token"],
    )
    assert "errors" not in project, project
    project_id = project["data"]["createProject"]["project"]["id"]
    created = await _generate(
        platform,
        account["token"],
        kind="PLAYLIST_DESCRIPTION",
        subject={"projectId": project_id},
        maxWords=60,
    )
    await platform.run_job(created["id"])
    stored = (await platform.call("ai", GENERATION, {"id": created["id"]}, account["token"]))["data"][
        "generation"
    ]
    assert stored["status"] == "SUCCEEDED", stored
    subject = stored["facts"]["subject"]
    assert subject["title"] == "Late night draft"
    assert [track["name"] for track in subject["tracks"]] == [track["name"] for track in tracks]


async def test_budget_blocked_terms_and_usage_for_admins(platform: Platform) -> None:
    owner = await sign_up(platform.http, path="/accounts/graphql")
    artist = load_sample()["artists"][2]
    name_word = artist["name"].split()[-1]
    policy = await platform.call(
        "ai", POLICY, {"i": {"blockedTerms": [name_word], "dailyTokenBudget": 50}}, owner["token"]
    )
    assert policy["data"]["updateAiPolicy"]["blockedTerms"] == [name_word]
    created = await _generate(
        platform, owner["token"], kind="SOCIAL_POST", subject={"artistId": artist["id"]}, maxWords=80
    )
    await platform.run_job(created["id"])
    stored = (await platform.call("ai", GENERATION, {"id": created["id"]}, owner["token"]))["data"][
        "generation"
    ]
    blocked = [flag for flag in stored["flags"] if flag["code"] == "blocked_term"]
    assert blocked and name_word in blocked[0]["detail"] and name_word in stored["text"]  # flagged, kept
    usage = (await platform.call("ai", USAGE, None, owner["token"]))["data"]["aiUsage"]
    assert usage["tokensToday"] == stored["usage"]["totalTokens"] >= 50
    assert usage["generationsToday"] == 1 and usage["dailyTokenBudget"] == 50
    spent = await platform.call(
        "ai", GENERATE, {"i": {"kind": "SOCIAL_POST", "subject": {"artistId": artist["id"]}}}, owner["token"]
    )
    assert codes(spent) == ["RATE_LIMITED"]


async def test_bad_input_and_a_missing_subject(platform: Platform) -> None:
    account = await sign_up(platform.http, path="/accounts/graphql")
    artist_id = load_sample()["artists"][0]["id"]
    track_id = load_sample()["tracks"][0]["id"]
    both = {"kind": "ARTIST_BIO", "subject": {"artistId": artist_id, "trackId": track_id}}
    assert codes(await platform.call("ai", GENERATE, {"i": both}, account["token"])) == ["BAD_USER_INPUT"]
    short = {"kind": "ARTIST_BIO", "subject": {"artistId": artist_id}, "maxWords": 5}
    assert codes(await platform.call("ai", GENERATE, {"i": short}, account["token"])) == ["BAD_USER_INPUT"]
    unknown_kind = {"kind": "LIMERICK", "subject": {"artistId": artist_id}}
    assert codes(await platform.call("ai", GENERATE, {"i": unknown_kind}, account["token"])) == [
        "BAD_USER_INPUT"
    ]
    unknown_language = {"kind": "ARTIST_BIO", "subject": {"artistId": artist_id}, "language": "KLINGON"}
    assert codes(await platform.call("ai", GENERATE, {"i": unknown_language}, account["token"])) == [
        "BAD_USER_INPUT"
    ]
    assert codes(await platform.call("ai", GENERATE, {"i": short}, None)) == ["UNAUTHENTICATED"]

    missing = await _generate(platform, account["token"], kind="ARTIST_BIO", subject={"artistId": "0" * 22})
    await platform.run_job(missing["id"])
    stored = (await platform.call("ai", GENERATION, {"id": missing["id"]}, account["token"]))["data"][
        "generation"
    ]
    assert stored["status"] == "FAILED" and "No artist" in stored["error"] and stored["text"] == ""
    events = await _events(platform, account["token"], missing["id"])
    assert [event["kind"] for event in events] == ["FAILED"]


async def test_a_dropped_llm_stream_fails_the_job_and_keeps_the_partial_text(platform: Platform) -> None:
    account = await sign_up(platform.http, path="/accounts/graphql")
    track_id = load_sample()["tracks"][4]["id"]
    created = await _generate(platform, account["token"], kind="RELEASE_PITCH", subject={"trackId": track_id})
    async with LlmReplay() as llm:
        llm.script(Stream(pieces=["A ", "fine ", "track ", "that "], drop_after=3))
        provider = OpenAICompatibleProvider(llm.base_url, "replay-1", tuning=ProviderTuning(read_timeout=5))
        try:
            await asyncio.wait_for(platform.run_job(created["id"], provider), 30)
        finally:
            await provider.aclose()
    stored = (await platform.call("ai", GENERATION, {"id": created["id"]}, account["token"]))["data"][
        "generation"
    ]
    assert stored["status"] == "FAILED" and stored["text"] == "A fine track "
    assert (
        stored["provenance"]["provider"] == "openai-compatible"
        and stored["provenance"]["model"] == "replay-1"
    )
    events = await _events(platform, account["token"], created["id"])
    assert [event["kind"] for event in events] == ["DELTA", "DELTA", "DELTA", "FAILED"]
    assert events[-1]["text"] == "A fine track " and events[-1]["error"]


async def test_a_job_that_keeps_failing_ends_failed_on_its_last_try(
    platform: Platform, ai_settings: Settings
) -> None:
    account = await sign_up(platform.http, path="/accounts/graphql")
    created = await _generate(
        platform, account["token"], kind="ARTIST_BIO", subject={"artistId": load_sample()["artists"][1]["id"]}
    )

    def broken(subgraph: str) -> str:
        raise RuntimeError("the graph's address is unknown")

    ctx = {
        "db": platform.database,
        "platform_redis": platform.redis,
        "settings": ai_settings,
        "subgraph_settings": {"ai": AiSettings()},
        "ai_graph": GraphClient(broken, lambda tenant_id: {}),
    }
    for attempt in range(1, 6):
        ctx["job_try"] = attempt
        with pytest.raises(RuntimeError):
            await generate_content(ctx, created["id"])
        stored = (await platform.call("ai", GENERATION, {"id": created["id"]}, account["token"]))["data"][
            "generation"
        ]
        assert stored["status"] == ("FAILED" if attempt == 5 else "RUNNING"), attempt
    assert stored["error"] == "internal error; the job gave up"
    events = await _events(platform, account["token"], created["id"])
    assert [event["kind"] for event in events] == ["RESTART"] * 4 + ["FAILED"]
