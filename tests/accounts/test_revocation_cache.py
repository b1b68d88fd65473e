"""Requests ask Redis whether their session was revoked at most once per session every
REQUEST_REVOCATION_CACHE_SECONDS, and a log-out in this process is seen by the very next
request all the same."""

from __future__ import annotations

from typing import Any

from jose import jwt

from shared.auth import authenticate
from shared.auth.authenticate import revoked_session_key
from tests.support.graphql import codes, gql, sign_up

ME = "{ me { id } }"


async def test_requests_share_one_revocation_lookup_and_a_logout_is_seen_at_once(accounts, monkeypatch):
    runtime, client = accounts
    user = await sign_up(client)
    session = jwt.get_unverified_claims(user["token"])["sid"]
    redis = runtime.authenticator.redis
    exists = redis.exists
    asked: list[tuple[Any, ...]] = []

    async def counted(*keys: Any) -> int:
        asked.append(keys)
        return int(await exists(*keys))

    monkeypatch.setattr(redis, "exists", counted)
    monkeypatch.setattr(authenticate, "REQUEST_REVOCATION_CACHE_SECONDS", 60.0)
    authenticate.forget_live_sessions()
    for _ in range(5):
        assert (await gql(client, ME, token=user["token"]))["data"]["me"]["id"] == user["user"]["id"]
    assert asked.count((revoked_session_key(session),)) == 1

    await gql(client, "mutation { logOut { sessionId } }", token=user["token"])
    assert codes(await gql(client, ME, token=user["token"])) == ["UNAUTHENTICATED"]
