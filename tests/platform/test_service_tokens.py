"""ServiceTokens mints short-lived `typ: service` tokens from the key ring, caches each until
shortly before it expires, and the verifier turns them into service principals."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from jose import jwt

from gateway.subgraphs import SUBGRAPHS
from shared.auth.authenticate import Authenticator
from shared.auth.keys import _generate_pem, jwks, load_signing_keys, signing_key_from_pem
from shared.auth.service_identity import MAX_TTL_SECONDS, check_service
from shared.auth.service_tokens import REFRESH_MARGIN_SECONDS, ServiceTokens, issue_service_token
from shared.auth.tokens import TokenVerifier
from shared.config import Settings
from shared.errors import Unauthenticated

ISSUER, AUDIENCE = "https://issuer.test", "spotify-agent"
RING = [signing_key_from_pem(_generate_pem())]


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _verifier(ring=RING) -> TokenVerifier:
    return TokenVerifier(lambda: jwks(ring), issuer=ISSUER, audience=AUDIENCE)


def test_a_service_token_verifies_into_a_service_principal():
    tokens = ServiceTokens(RING, ISSUER, AUDIENCE)
    token = tokens.for_tenant("search", ["spotify:read", "collaboration:read"], "tnt_a")
    claims = jwt.get_unverified_claims(token)
    assert claims["typ"] == "service" and claims["sub"] == "service:search" and claims["tid"] == "tnt_a"
    assert claims["exp"] - claims["iat"] == 300 and jwt.get_unverified_header(token)["kid"] == RING[0].kid
    principal = _verifier().verify(token)
    assert principal.kind == "service" and principal.service == "search"
    assert principal.user_id is None and principal.session_id is None and principal.roles == ()
    assert principal.tenant_id == "tnt_a" and principal.scopes == {"spotify:read", "collaboration:read"}
    assert principal.subjects == ("service:search",) and principal.actor_id == "service:search"
    assert principal.expires_at == claims["exp"]
    platform = _verifier().verify(tokens.for_platform("analytics", ["spotify:read"]))
    assert platform.tenant_id is None and platform.subjects == ("service:analytics",)


def test_tokens_are_cached_until_shortly_before_they_expire():
    clock = Clock(1_900_000_000.0)
    tokens = ServiceTokens(RING, ISSUER, AUDIENCE, clock=clock)
    first = tokens.for_tenant("search", ["spotify:read"], "tnt_a")
    assert tokens.for_tenant("search", ("spotify:read", "spotify:read"), "tnt_a") == first
    assert tokens.headers("search", ["spotify:read"], "tnt_a") == {"Authorization": f"Bearer {first}"}
    assert tokens.minted == 1
    other_tenant = tokens.for_tenant("search", ["spotify:read"], "tnt_b")
    other_scopes = tokens.for_tenant("search", ["spotify:read", "accounts:read"], "tnt_a")
    assert len({first, other_tenant, other_scopes}) == 3 and tokens.minted == 3
    clock.now += 300 - REFRESH_MARGIN_SECONDS - 1
    assert tokens.for_tenant("search", ["spotify:read"], "tnt_a") == first
    clock.now += 1
    renewed = tokens.for_tenant("search", ["spotify:read"], "tnt_a")
    assert renewed != first and jwt.get_unverified_claims(renewed)["iat"] == int(clock.now)


@pytest.mark.parametrize(
    ("service", "scopes", "tenant"),
    [
        ("Evil Corp", ["spotify:read"], "tnt_a"),
        ("search", ["*"], "tnt_a"),
        ("search", [], "tnt_a"),
        ("search", ["spotify:admin"], "tnt_a"),
        ("search", ["spotify:read"], ""),
    ],
)
def test_bad_requests_mint_nothing(service, scopes, tenant):
    tokens = ServiceTokens(RING, ISSUER, AUDIENCE)
    with pytest.raises(ValueError):
        tokens.for_tenant(service, scopes, tenant)
    assert tokens.minted == 0


def test_lifetimes_are_short():
    with pytest.raises(ValueError):
        issue_service_token(
            RING[0],
            issuer=ISSUER,
            audience=AUDIENCE,
            service="search",
            scopes=["spotify:read"],
            tenant_id=None,
            ttl_seconds=MAX_TTL_SECONDS + 1,
        )
    with pytest.raises(ValueError):
        ServiceTokens([], ISSUER, AUDIENCE)


def test_an_expired_service_token_is_refused():
    tokens = ServiceTokens(RING, ISSUER, AUDIENCE, clock=Clock(1_000_000_000.0))
    with pytest.raises(Unauthenticated, match="Token expired"):
        _verifier().verify(tokens.for_platform("search", ["spotify:read"]))


def test_every_subgraph_of_the_platform_can_be_a_service_and_nothing_else_can():
    for name in SUBGRAPHS:
        assert check_service(name) == name
    for bad in ("", "Search", "search engine", "service:search", "x" * 41, "../accounts"):
        with pytest.raises(ValueError):
            check_service(bad)


def test_the_cli_prints_a_token_from_the_key_ring(tmp_path: Path):
    env = {**os.environ, "DATA_DIR": str(tmp_path), "ENV": "test", "LOG_JSON": "false"}
    env.pop("JWT_PRIVATE_KEY", None)
    env.pop("JWT_PRIVATE_KEY_FILE", None)
    args = [sys.executable, "-m", "gateway", "service-token", "--service", "search"]
    done = subprocess.run(
        [*args, "--scope", "spotify:read", "--scope", "collaboration:read", "--tenant", "tnt_a"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    settings = Settings(env="test", data_dir=tmp_path)
    verifier = TokenVerifier(
        lambda: jwks(load_signing_keys(settings)), issuer=settings.jwt_issuer, audience=settings.jwt_audience
    )
    principal = verifier.verify(done.stdout.strip())
    assert principal.kind == "service" and principal.tenant_id == "tnt_a"
    assert principal.scopes == {"spotify:read", "collaboration:read"}
    refused = subprocess.run(
        [sys.executable, "-m", "gateway", "service-token", "--service", "No Body", "--scope", "spotify:read"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2 and "unknown service" in refused.stderr


async def test_a_subscription_of_a_service_ends_when_its_token_expires():
    principal = _verifier().verify(
        ServiceTokens(RING, ISSUER, AUDIENCE).for_platform("search", ["spotify:read"])
    )
    authenticator = Authenticator(_verifier(), redis=None)  # type: ignore[arg-type]  # no session: never asked
    await authenticator.ensure_current(principal)
    assert principal.expires_at is not None
    with pytest.raises(Unauthenticated, match="expired"):
        await authenticator.ensure_current(replace(principal, expires_at=principal.expires_at - 3600))
