"""ai through GraphQL, served by the host beside accounts: recommendations for every seed kind
with their reasons, the personalization consent taking effect on the next request (its events
applied by ai's real consumers), seeds the caller may not read, typed errors for bad input,
lineage, and the model registry's promotion and rollback."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from shared.config import Settings
from shared.db import Database, new_id
from shared.domain_events import ConsumerRunner
from subgraphs.ai.config import AiSettings
from subgraphs.ai.models import AiModel
from subgraphs.ai.recommender.model import RecommenderModel
from subgraphs.ai.repository import ModelRepository
from subgraphs.ai.tasks import (
    CONSUMERS,
    project_membership,
    project_playlist,
    project_plays,
    project_project,
    purge_lineage,
    train_recommender_job,
)
from subgraphs.spotify.catalogue.offline import load_sample
from tests.ai.conftest import TrainedData
from tests.support.domain_events import apply, event
from tests.support.graphql import codes, gql, sign_up
from tests.support.hosting import HostedPlatform, hosted_together

RECOMMEND = """
query($seed: RecommendationSeed!, $first: Int, $diversity: Float, $exclude: [ID!], $known: Boolean) {
  recommendations(seed: $seed, first: $first, diversity: $diversity, exclude: $exclude, excludeKnown: $known) {
    id modelVersion personalized
    items {
      track { id } score rank modelVersion
      reasons { kind summary source weight value attribute { kind value } relatedTracks { id } }
      contributions { source rank share }
    }
  }
}"""
EXPLAIN = """
query($track: ID!, $seed: RecommendationSeed!) {
  explainRecommendation(trackId: $track, seed: $seed) {
    recommended personalized
    recommendation { rank score reasons { kind relatedTracks { id } } contributions { source rank } }
  }
}"""
SERVED = (
    "query($id: ID!) { servedRecommendations(id: $id) { modelVersion seedKind personalized tracks { id } } }"
)
MODELS = (
    "{ models { name version kind stage evaluation { recommender cases ndcgAt10 } snapshot { plays hash } } }"
)
PROMOTE = "mutation($i: PromoteModelInput!) { promoteModel(input: $i) { model { version stage } } }"
ROLLBACK = "mutation($i: RollbackModelInput!) { rollbackModel(input: $i) { model { version stage } } }"
TRAIN = "mutation { trainRecommender { jobId } }"
GRANT = "mutation($i: ConsentInput!) { grantConsent(input: $i) { user { id } } }"
REVOKE = "mutation($i: ConsentInput!) { revokeConsent(input: $i) { user { id } } }"


@pytest.fixture
async def platform(ai_settings: Settings, redis_server: Any) -> AsyncIterator[HostedPlatform]:
    redis = Redis.from_url(redis_server.url)
    await redis.flushall()
    await redis.aclose()
    async with hosted_together(["accounts", "ai"], ai_settings, redis_server.url) as hosted:
        yield hosted


async def _ai(
    platform: HostedPlatform, query: str, variables: dict[str, Any] | None, token: str | None
) -> dict[str, Any]:
    return await gql(platform.client, query, variables, token=token, path="/ai/graphql")


async def _member(platform: HostedPlatform) -> dict[str, Any]:
    return await sign_up(platform.client, path="/accounts/graphql")


async def _consume(platform: HostedPlatform) -> None:
    """ai's consumers take what accounts (and the tests) published, as the worker would."""
    runtime = platform.runtimes["ai"]
    runner = ConsumerRunner(runtime.redis, runtime.db, CONSUMERS)
    for consumer in CONSUMERS:
        await runner.run_once(consumer, block_ms=0)


async def _tenant_of(platform: HostedPlatform, token: str) -> tuple[str, str]:
    body = await gql(platform.client, "{ me { id tenant { id } } }", token=token, path="/accounts/graphql")
    return body["data"]["me"]["tenant"]["id"], body["data"]["me"]["id"]


async def _give_plays(database: Database, tenant_id: str, user_id: str, track_ids: list[str]) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    plays = [
        {"track_id": track, "played_at": (start + timedelta(minutes=4 * n)).isoformat()}
        for n, track in enumerate(track_ids)
    ]
    payload = {"user_id": user_id, "country": "GB", "new": len(plays), "plays": plays}
    await apply(database, project_plays, event("spotify.plays.ingested", payload, tenant_id))


def _same_genre_tracks(trained_data: TrainedData, count: int) -> list[str]:
    listener = trained_data.listening.listeners[0]
    return [play.track_id for play in trained_data.listening.plays if play.user_id == listener.id][:count]


async def test_a_user_without_consent_gets_non_personal_then_personal_after_granting(
    platform: HostedPlatform, trained_data: TrainedData
) -> None:
    account = await _member(platform)
    tenant_id, user_id = await _tenant_of(platform, account["token"])
    await _give_plays(platform.runtimes["ai"].db, tenant_id, user_id, _same_genre_tracks(trained_data, 40))
    await _consume(platform)  # signUp said: no personalization

    plain = await _ai(platform, RECOMMEND, {"seed": {"kind": "USER"}, "first": 10}, account["token"])
    assert "errors" not in plain, plain
    listed = plain["data"]["recommendations"]
    assert listed["personalized"] is False and len(listed["items"]) == 10
    for item in listed["items"]:
        kinds = {reason["kind"] for reason in item["reasons"]}
        assert "NON_PERSONAL" in kinds and "SIMILAR_TO" not in kinds
        assert {c["source"] for c in item["contributions"]} == {"POPULARITY"}

    granted = await gql(
        platform.client,
        GRANT,
        {"i": {"consent": "PERSONALIZATION"}},
        token=account["token"],
        path="/accounts/graphql",
    )
    assert "errors" not in granted, granted
    await _consume(platform)
    personal = await _ai(platform, RECOMMEND, {"seed": {"kind": "USER"}, "first": 10}, account["token"])
    listed = personal["data"]["recommendations"]
    assert listed["personalized"] is True
    played = set(_same_genre_tracks(trained_data, 40))
    assert not played & {item["track"]["id"] for item in listed["items"]}
    cited = {
        track["id"]
        for item in listed["items"]
        for reason in item["reasons"]
        for track in reason["relatedTracks"]
    }
    assert cited and cited <= played

    revoked = await gql(
        platform.client,
        REVOKE,
        {"i": {"consent": "PERSONALIZATION"}},
        token=account["token"],
        path="/accounts/graphql",
    )
    assert "errors" not in revoked, revoked
    await _consume(platform)
    again = await _ai(platform, RECOMMEND, {"seed": {"kind": "USER"}, "first": 10}, account["token"])
    assert again["data"]["recommendations"]["personalized"] is False

    served = await _ai(platform, SERVED, {"id": listed["id"]}, account["token"])
    assert served["data"]["servedRecommendations"] == {
        "modelVersion": trained_data.outcome.version,
        "seedKind": "USER",
        "personalized": True,
        "tracks": [item["track"] for item in listed["items"]],
    }
    stranger = await _member(platform)
    assert codes(await _ai(platform, SERVED, {"id": listed["id"]}, stranger["token"])) == ["NOT_FOUND"]


async def test_playlist_track_artist_and_project_seeds(platform: HostedPlatform) -> None:
    account = await _member(platform)
    tenant_id, user_id = await _tenant_of(platform, account["token"])
    sample = load_sample()
    playlist = sample["playlists"][0]
    continued = await _ai(
        platform,
        RECOMMEND,
        {"seed": {"kind": "PLAYLIST", "id": playlist["id"]}, "first": 15},
        account["token"],
    )
    items = continued["data"]["recommendations"]["items"]
    assert len(items) == 15 and not {item["track"]["id"] for item in items} & set(playlist["track_ids"])

    track = sample["tracks"][5]
    like = await _ai(
        platform, RECOMMEND, {"seed": {"kind": "TRACK", "id": track["id"]}, "first": 5}, account["token"]
    )
    assert track["id"] not in {item["track"]["id"] for item in like["data"]["recommendations"]["items"]}
    artist = sample["artists"][3]
    by_artist = await _ai(
        platform, RECOMMEND, {"seed": {"kind": "ARTIST", "id": artist["id"]}}, account["token"]
    )
    assert len(by_artist["data"]["recommendations"]["items"]) == 20

    database = platform.runtimes["ai"].db
    draft = {
        "project_id": "prj_draft",
        "workspace_id": "wsp_1",
        "version": 1,
        "type": "playlist_draft",
        "title": "Draft",
    }
    draft["content"] = {"description": "", "trackIds": playlist["track_ids"][:8]}
    await apply(database, project_project, event("collaboration.project.created", draft, tenant_id))
    seed = {"seed": {"kind": "PROJECT", "id": "prj_draft"}, "first": 5}
    assert codes(await _ai(platform, RECOMMEND, seed, account["token"])) == ["NOT_FOUND"]  # not a member yet
    member = {"workspace_id": "wsp_1", "user_id": user_id, "role": "editor"}
    await apply(database, project_membership, event("collaboration.member.added", member, tenant_id))
    drafted = await _ai(platform, RECOMMEND, seed, account["token"])
    assert len(drafted["data"]["recommendations"]["items"]) == 5
    stranger = await _member(platform)
    assert codes(await _ai(platform, RECOMMEND, seed, stranger["token"])) == ["NOT_FOUND"]  # another tenant

    explained = await _ai(
        platform,
        EXPLAIN,
        {"track": playlist["track_ids"][0], "seed": {"kind": "PLAYLIST", "id": playlist["id"]}},
        account["token"],
    )
    answer = explained["data"]["explainRecommendation"]
    assert answer["recommended"] is False
    assert answer["recommendation"]["reasons"][0]["kind"] == "EXCLUDED"


async def test_another_tenants_private_playlist_is_not_a_seed(platform: HostedPlatform) -> None:
    owner = await _member(platform)
    tenant_id, owner_id = await _tenant_of(platform, owner["token"])
    private = {
        "playlist_id": "plst_private",
        "owner_id": owner_id,
        "public": False,
        "track_ids": [t["id"] for t in load_sample()["tracks"][:6]],
        "version": 1,
    }
    await apply(
        platform.runtimes["ai"].db, project_playlist, event("spotify.playlist.changed", private, tenant_id)
    )
    seed = {"seed": {"kind": "PLAYLIST", "id": "plst_private"}, "first": 5}
    assert "errors" not in await _ai(platform, RECOMMEND, seed, owner["token"])
    stranger = await _member(platform)
    assert codes(await _ai(platform, RECOMMEND, seed, stranger["token"])) == ["NOT_FOUND"]


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"seed": {"kind": "USER"}, "first": 0}, "BAD_USER_INPUT"),
        ({"seed": {"kind": "USER"}, "first": 101}, "BAD_USER_INPUT"),
        ({"seed": {"kind": "USER"}, "diversity": 1.5}, "BAD_USER_INPUT"),
        ({"seed": {"kind": "USER"}, "diversity": -0.1}, "BAD_USER_INPUT"),
        ({"seed": {"kind": "USER", "id": "x"}}, "BAD_USER_INPUT"),
        ({"seed": {"kind": "TRACK"}}, "BAD_USER_INPUT"),
        ({"seed": {"kind": "TRACK", "id": "0000000000000000000000"}}, "NOT_FOUND"),
        ({"seed": {"kind": "ARTIST", "id": "nobody"}}, "NOT_FOUND"),
        ({"seed": {"kind": "PLAYLIST", "id": "nothing"}}, "NOT_FOUND"),
        ({"seed": {"kind": "PROJECT", "id": "prj_none"}}, "NOT_FOUND"),
        ({"seed": {"kind": "USER"}, "exclude": ["t"] * 501}, "BAD_USER_INPUT"),
    ],
)
async def test_bad_input_is_typed(platform: HostedPlatform, variables: dict[str, Any], code: str) -> None:
    account = await _member(platform)
    assert codes(await _ai(platform, RECOMMEND, variables, account["token"])) == [code]


async def test_signed_out_callers_are_refused(platform: HostedPlatform) -> None:
    assert codes(await _ai(platform, RECOMMEND, {"seed": {"kind": "USER"}}, None)) == ["UNAUTHENTICATED"]


async def _second_candidate(database: Database, trained_data: TrainedData) -> str:
    """A candidate version of the production model's weights (what a retraining registers)."""
    async with database.write() as session:
        registry = ModelRepository(session)
        production = await registry.production("recommender")
        assert production is not None
        artifact = await registry.artifact(production.id)
        assert artifact is not None
        version = "rec-second"
        model = RecommenderModel.from_bytes(artifact.data)
        model.version = version
        data = model.to_bytes()
        await registry.add(
            AiModel(
                id=new_id("mdl"),
                name="recommender",
                version=version,
                kind="recommender",
                stage="candidate",
                metrics=production.metrics,
                snapshot=production.snapshot,
                params=production.params,
                created_by="service:ai",
            ),
            data,
            hashlib.sha256(data).hexdigest(),
        )
    return version


async def test_platform_admins_promote_and_roll_back_and_others_may_not(
    ai_settings: Settings, redis_server: Any, trained_data: TrainedData
) -> None:
    async with hosted_together(["accounts", "ai"], ai_settings, redis_server.url) as platform:
        admin = await _member(platform)
        admin_tenant, _ = await _tenant_of(platform, admin["token"])
        outsider = await _member(platform)
    settings = ai_settings.model_copy(update={"platform_admin_tenants": admin_tenant})
    async with hosted_together(["accounts", "ai"], settings, redis_server.url) as platform:
        listed = await _ai(platform, MODELS, None, outsider["token"])
        names = {(row["name"], row["stage"]) for row in listed["data"]["models"]}
        assert ("recommender", "PRODUCTION") in names and ("sentence-embedding", "PRODUCTION") in names
        recommender = next(row for row in listed["data"]["models"] if row["name"] == "recommender")
        assert recommender["snapshot"]["plays"] == trained_data.streams
        assert {row["recommender"] for row in recommender["evaluation"]} == {"ours", "popularity", "random"}

        second = await _second_candidate(platform.runtimes["ai"].db, trained_data)
        refused = await _ai(
            platform, PROMOTE, {"i": {"name": "recommender", "version": second}}, outsider["token"]
        )
        assert codes(refused) == ["FORBIDDEN"]
        promoted = await _ai(
            platform, PROMOTE, {"i": {"name": "recommender", "version": second}}, admin["token"]
        )
        assert promoted["data"]["promoteModel"]["model"] == {"version": second, "stage": "PRODUCTION"}
        served = await _ai(
            platform,
            RECOMMEND,
            {"seed": {"kind": "TRACK", "id": load_sample()["tracks"][0]["id"]}, "first": 3},
            admin["token"],
        )
        assert served["data"]["recommendations"]["modelVersion"] == second

        again = await _ai(
            platform, PROMOTE, {"i": {"name": "recommender", "version": second}}, admin["token"]
        )
        assert codes(again) == ["CONFLICT"]
        unknown = await _ai(
            platform, PROMOTE, {"i": {"name": "recommender", "version": "nope"}}, admin["token"]
        )
        assert codes(unknown) == ["NOT_FOUND"]

        assert codes(await _ai(platform, TRAIN, None, outsider["token"])) == ["FORBIDDEN"]
        queued = await _ai(platform, TRAIN, None, admin["token"])
        job_id = queued["data"]["trainRecommender"]["jobId"]
        assert job_id.startswith("ai-train:") and await platform.runtimes["ai"].redis.exists(
            f"arq:job:{job_id}"
        )
        ctx = {
            "db": platform.runtimes["ai"].db,
            "settings": settings,
            "subgraph_settings": {"ai": AiSettings(ai_auto_promote=False)},
            "platform_redis": platform.runtimes["ai"].redis,
        }
        trained = await train_recommender_job(ctx, requested_by="usr_admin")
        assert trained["promoted"] is False  # a candidate: auto-promotion is off
        listed = await _ai(platform, MODELS, None, admin["token"])
        stages = [
            (row["version"], row["stage"]) for row in listed["data"]["models"] if row["name"] == "recommender"
        ]
        assert (trained["version"], "CANDIDATE") in stages and (second, "PRODUCTION") in stages

        rolled = await _ai(platform, ROLLBACK, {"i": {"name": "recommender"}}, admin["token"])
        assert rolled["data"]["rollbackModel"]["model"] == {
            "version": trained_data.outcome.version,
            "stage": "PRODUCTION",
        }
        after = await _ai(
            platform,
            RECOMMEND,
            {"seed": {"kind": "TRACK", "id": load_sample()["tracks"][0]["id"]}, "first": 3},
            admin["token"],
        )
        assert after["data"]["recommendations"]["modelVersion"] == trained_data.outcome.version


async def test_served_lists_are_kept_for_the_lineage_days(platform: HostedPlatform) -> None:
    account = await _member(platform)
    seed = {"seed": {"kind": "TRACK", "id": load_sample()["tracks"][9]["id"]}, "first": 3}
    served = (await _ai(platform, RECOMMEND, seed, account["token"]))["data"]["recommendations"]["id"]
    runtime = platform.runtimes["ai"]
    ctx = {"db": runtime.db, "subgraph_settings": {"ai": AiSettings(ai_lineage_days=1)}}
    assert await purge_lineage(ctx) == {"deleted": 0}
    assert "errors" not in await _ai(platform, SERVED, {"id": served}, account["token"])
    ctx["subgraph_settings"] = {"ai": AiSettings(ai_lineage_days=0)}
    assert (await purge_lineage(ctx))["deleted"] >= 1
    assert codes(await _ai(platform, SERVED, {"id": served}, account["token"])) == ["NOT_FOUND"]
