"""Bad credentials and abusive documents are refused with the right code, changing nothing."""

from __future__ import annotations

import base64
import json
import time

from jose import jwt

from shared.auth.tokens import issue_access_token
from tests.support.graphql import codes, gql, sign_up

ME = "{ me { id } }"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(runtime, **overrides):
    now = int(time.time())
    claims = {
        "iss": runtime.settings.jwt_issuer,
        "aud": runtime.settings.jwt_audience,
        "sub": "usr_x",
        "tid": "tnt_x",
        "roles": ["owner"],
        "scp": ["*"],
        "iat": now,
        "exp": now + 600,
        "typ": "access",
    }
    claims.update(overrides)
    return claims


async def _refused(client, token: str) -> None:
    body = await gql(client, ME, token=token)
    assert body["data"] is None
    assert codes(body) == ["UNAUTHENTICATED"]


async def test_malformed_token(accounts):
    _, client = accounts
    await _refused(client, "not.a.jwt")
    await _refused(client, "garbage")


async def test_alg_none_is_refused(accounts):
    runtime, client = accounts
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(runtime))}."
    await _refused(client, unsigned)


async def test_hs256_signed_with_the_public_key_is_refused(accounts):
    runtime, client = accounts
    key = runtime.signing_key
    from cryptography.hazmat.primitives import serialization

    private = serialization.load_pem_private_key(key.private_pem, password=None)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # Build the HS256 token by hand: jose itself refuses to use a PEM as an HMAC secret.
    import hashlib
    import hmac

    header = _b64({"alg": "HS256", "typ": "JWT", "kid": key.kid})
    payload = _b64(_claims(runtime))
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    forged = f"{header}.{payload}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    await _refused(client, forged)


async def test_expired_token_is_refused(accounts):
    runtime, client = accounts
    account = await sign_up(client)
    settings = runtime.settings
    expired = issue_access_token(
        runtime.signing_key,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_seconds=60,
        user_id=account["user"]["id"],
        tenant_id="tnt_x",
        roles=["owner"],
        consents=[],
        session_id="ses_x",
        now=time.time() - 3600,
    )
    body = await gql(client, ME, token=expired)
    assert codes(body) == ["UNAUTHENTICATED"]
    assert body["errors"][0]["message"] == "Token expired"


async def test_wrong_audience_and_issuer_are_refused(accounts):
    runtime, client = accounts
    for field, value in (("aud", "someone-else"), ("iss", "https://evil.example")):
        token = jwt.encode(
            _claims(runtime, **{field: value}),
            runtime.signing_key.private_pem.decode(),
            algorithm="RS256",
            headers={"kid": runtime.signing_key.kid},
        )
        await _refused(client, token)


async def test_token_signed_by_another_key_is_refused(accounts):
    runtime, client = accounts
    from shared.auth.keys import _generate_pem, signing_key_from_pem

    other = signing_key_from_pem(_generate_pem())
    token = jwt.encode(
        _claims(runtime),
        other.private_pem.decode(),
        algorithm="RS256",
        headers={"kid": runtime.signing_key.kid},
    )
    await _refused(client, token)


async def test_unsupported_scheme_is_refused(accounts):
    _, client = accounts
    body = await gql(client, ME, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert codes(body) == ["UNAUTHENTICATED"]


async def test_bad_token_on_a_mutation_changes_nothing(accounts, database):
    _, client = accounts
    body = await gql(client, "mutation { logOut { sessionId } }", token="forged.token.value")
    assert codes(body) == ["UNAUTHENTICATED"]


async def test_query_over_the_depth_limit_is_refused(accounts):
    _runtime, client = accounts
    account = await sign_up(client)
    nested = "tenant { members(first: 1) { edges { node { " * 4 + "id" + " } } } }" * 4
    body = await gql(client, "{ me { " + nested + " } }", token=account["token"])
    assert body.get("data") is None
    assert "BAD_USER_INPUT" in codes(body)
    assert any("exceeds maximum operation depth" in e["message"] for e in body["errors"])


async def test_too_many_aliases_are_refused(accounts):
    runtime, client = accounts
    account = await sign_up(client)
    aliases = " ".join(f"a{i}: me {{ id }}" for i in range(runtime.settings.max_aliases + 1))
    body = await gql(client, "{ " + aliases + " }", token=account["token"])
    assert body.get("data") is None
    assert any("aliases" in e["message"].lower() for e in body["errors"])


async def test_too_many_tokens_are_refused(accounts):
    runtime, client = accounts
    fields = " ".join("__typename" for _ in range(runtime.settings.max_tokens))
    body = await gql(client, "{ " + fields + " }")
    assert body.get("data") is None
    assert "BAD_USER_INPUT" in codes(body)
