"""The verifier fetches the JWKS off the event loop, and at most once per interval however
many tokens name unknown key ids (a made-up `kid` must not cost a fetch each)."""

from __future__ import annotations

import threading

import pytest
from jose import jwt

from shared.auth.authenticate import Authenticator
from shared.auth.keys import jwks, load_signing_keys
from shared.auth.tokens import TokenVerifier, issue_access_token
from shared.config import Settings
from shared.errors import Unauthenticated
from shared.redis import create_redis


def _token(key, **claims) -> str:
    return issue_access_token(
        key,
        issuer="iss",
        audience="aud",
        ttl_seconds=300,
        user_id="usr_1",
        tenant_id="tnt_1",
        roles=("member",),
        consents=(),
        session_id="ses_1",
        **claims,
    )


async def test_jwks_is_fetched_in_a_thread_and_rate_limited(tmp_path, redis_server):
    key = load_signing_keys(Settings(env="test", data_dir=tmp_path))[0]
    fetches: list[str] = []

    def provider() -> dict:
        fetches.append(threading.current_thread().name)
        return jwks([key])

    verifier = TokenVerifier(provider, issuer="iss", audience="aud")
    redis = create_redis(redis_server.url)
    authenticator = Authenticator(verifier, redis, None)
    try:
        principal = await authenticator.authenticate(f"Bearer {_token(key)}")
        assert principal.user_id == "usr_1"
        assert len(fetches) == 1 and fetches[0] != threading.main_thread().name

        stranger = load_signing_keys(Settings(env="test", data_dir=tmp_path / "elsewhere"))[0]
        unknown_kid = _token(stranger)  # RS256, well formed, signed by a key we never published
        assert jwt.get_unverified_header(unknown_kid)["kid"] != key.kid
        for _ in range(20):
            with pytest.raises(Unauthenticated):
                await authenticator.authenticate(f"Bearer {unknown_kid}")
        assert len(fetches) == 1
        assert (await authenticator.authenticate(f"Bearer {_token(key)}")).user_id == "usr_1"
    finally:
        await redis.aclose()
