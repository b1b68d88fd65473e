"""Subscriptions re-check the principal they were opened with, event by event."""

from __future__ import annotations

import time
from typing import Any

import pytest

from shared.auth.authenticate import Authenticator
from shared.auth.principal import Principal
from shared.errors import Unauthenticated


class CountingRedis:
    def __init__(self, revoked: set[str]) -> None:
        self.revoked = revoked
        self.calls = 0

    async def exists(self, key: str) -> int:
        self.calls += 1
        return int(key in self.revoked)


def _authenticator(redis: Any) -> Authenticator:
    return Authenticator(verifier=None, redis=redis)  # type: ignore[arg-type]


async def test_an_expired_token_ends_a_live_operation() -> None:
    redis = CountingRedis(set())
    authenticator = _authenticator(redis)
    await authenticator.ensure_current(Principal(kind="user", user_id="u", expires_at=time.time() + 60))
    with pytest.raises(Unauthenticated, match="expired"):
        await authenticator.ensure_current(Principal(kind="user", user_id="u", expires_at=time.time() - 1))
    assert redis.calls == 0  # no session: nothing to ask Redis


async def test_a_revoked_session_is_refused_and_a_live_one_asked_about_once() -> None:
    redis = CountingRedis({"auth:revoked-session:gone"})
    authenticator = _authenticator(redis)
    live = Principal(kind="user", user_id="u", session_id="live", expires_at=time.time() + 60)
    for _ in range(5):
        await authenticator.ensure_current(live)
    assert redis.calls == 1
    gone = Principal(kind="user", user_id="u", session_id="gone", expires_at=time.time() + 60)
    for _ in range(2):  # a refusal is not remembered as a pass
        with pytest.raises(Unauthenticated, match="revoked"):
            await authenticator.ensure_current(gone)
    assert redis.calls == 3


async def test_api_keys_have_no_expiry_or_session_to_check() -> None:
    redis = CountingRedis(set())
    await _authenticator(redis).ensure_current(Principal(kind="api_key", tenant_id="t", api_key_id="k"))
    assert redis.calls == 0
