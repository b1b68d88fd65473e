"""Nothing passes for a service token but a service token: user tokens, refresh tokens and API
keys stay what they are; forged, tampered, foreign-key, expired or odd service tokens are
refused with UNAUTHENTICATED."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from jose import jwt

from shared.auth.keys import _generate_pem, signing_key_from_pem
from shared.auth.service_tokens import ServiceTokens, issue_service_token
from tests.support.graphql import codes, gql, sign_up
from tests.support.secrets import remember_secret

ME = "{ me { id } }"
USER = "query($id: ID!) { user(id: $id) { id displayName } }"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(runtime, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": runtime.settings.jwt_issuer,
        "aud": runtime.settings.jwt_audience,
        "sub": "service:search",
        "tid": "tnt_x",
        "scp": ["accounts:read"],
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": "x",
        "typ": "service",
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def _sign(runtime, claims: dict[str, Any], key=None, kid: str | None = None) -> str:
    key = key or runtime.signing_key
    return jwt.encode(claims, key.private_pem.decode(), algorithm="RS256", headers={"kid": kid or key.kid})


async def _refused(client, token: str) -> dict[str, Any]:
    body = await gql(client, ME, token=token)
    assert body["data"] is None and codes(body) == ["UNAUTHENTICATED"], body
    return body


async def test_a_genuine_service_token_is_a_service_not_a_user(accounts):
    runtime, client = accounts
    account = await sign_up(client)
    tenant = jwt.get_unverified_claims(account["token"])["tid"]
    tokens = ServiceTokens(runtime.key_ring, runtime.settings.jwt_issuer, runtime.settings.jwt_audience)
    token = tokens.for_tenant("search", ["accounts:read"], tenant)
    me = await gql(client, ME, token=token)
    assert me["data"] == {"me": None} and codes(me) == ["FORBIDDEN"]  # signed in, but nobody
    user = await gql(client, USER, {"id": account["user"]["id"]}, token=token)
    assert user["data"]["user"]["id"] == account["user"]["id"]
    assert "errors" not in user


@pytest.mark.parametrize(
    "overrides",
    [
        {"sub": "service:Evil Corp"},  # not a subgraph name
        {"sub": "service:"},
        {"sub": "usr_x"},  # typ service, but a user's subject
        {"sub": "search"},
        {"roles": ["owner"]},  # user claims never ride on a service token
        {"sid": "ses_x"},
        {"scp": ["*"]},
        {"scp": "accounts:read"},
        {"scp": None},
        {"tid": ""},
        {"exp": int(time.time()) + 3600},  # correctly signed, but lives too long
        {"typ": "Service"},
        {"typ": None},
        {"typ": "refresh"},
    ],
    ids=lambda overrides: ",".join(f"{k}={v}" for k, v in overrides.items()),
)
async def test_odd_service_claims_are_refused(accounts, overrides):
    runtime, client = accounts
    await _refused(client, _sign(runtime, _claims(runtime, **overrides)))


async def test_a_user_access_token_cannot_name_a_service(accounts):
    runtime, client = accounts
    claims = _claims(runtime, typ="access", roles=["owner"], sid="ses_x", scp=["*"])
    await _refused(client, _sign(runtime, claims))


async def test_tampered_foreign_key_and_unsigned_service_tokens_are_refused(accounts):
    runtime, client = accounts
    genuine = _sign(runtime, _claims(runtime))
    header, _, signature = genuine.split(".")
    tampered = f"{header}.{_b64(_claims(runtime, tid='tnt_victim'))}.{signature}"
    await _refused(client, tampered)
    other = signing_key_from_pem(_generate_pem())
    await _refused(client, _sign(runtime, _claims(runtime), key=other, kid=runtime.signing_key.kid))
    await _refused(client, _sign(runtime, _claims(runtime), key=other))
    unsigned = (
        f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': runtime.signing_key.kid})}.{_b64(_claims(runtime))}."
    )
    await _refused(client, unsigned)


async def test_wrong_audience_issuer_and_expired_service_tokens_are_refused(accounts):
    runtime, client = accounts
    await _refused(client, _sign(runtime, _claims(runtime, aud="someone-else")))
    await _refused(client, _sign(runtime, _claims(runtime, iss="https://evil.example")))
    settings = runtime.settings
    expired = issue_service_token(
        runtime.signing_key,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        service="search",
        scopes=["accounts:read"],
        tenant_id="tnt_x",
        now=time.time() - 3600,
    )
    body = await _refused(client, expired)
    assert body["errors"][0]["message"] == "Token expired"
    not_yet = _sign(runtime, _claims(runtime, nbf=int(time.time()) + 600))
    await _refused(client, not_yet)


async def test_refresh_tokens_and_api_keys_stay_what_they_are(accounts):
    _, client = accounts
    account = await sign_up(client)
    await _refused(client, account["refresh"])
    created = await gql(
        client,
        "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }",
        {"input": {"name": "CI", "scopes": ["accounts:read"]}},
        token=account["token"],
    )
    secret = created["data"]["createApiKey"]["secret"]
    remember_secret(secret)
    as_key = await gql(client, ME, token=secret)
    assert as_key["data"]["me"]["id"] == account["user"]["id"]  # the key's user: no service
    as_user = await gql(client, ME, token=account["token"])
    assert as_user["data"]["me"]["id"] == account["user"]["id"]
