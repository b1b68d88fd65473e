"""Rotating the token signing key: the new key signs at once, tokens of the retiring key keep
working while it is still configured behind the new one, and stop once it is dropped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from jose import jwt

from shared.auth.keys import _generate_pem, signing_keys_from_pem
from tests.support.graphql import PASSWORD, codes, gql, sign_up
from tests.support.hosting import hosted

ME = "{ me { id } }"
LOG_IN = "mutation($i: LogInInput!) { logIn(input: $i) { accessToken } }"


@asynccontextmanager
async def accounts_with(settings, redis_url: str, database, pem: bytes) -> AsyncIterator[httpx.AsyncClient]:
    """The accounts app as deployed with JWT_PRIVATE_KEY = `pem` (a redeploy per key change)."""
    redeployed = settings.model_copy(update={"jwt_private_key": pem.decode()})
    async with hosted(
        "accounts", redeployed, redis_url, database, client_address=("203.0.113.9", 5555)
    ) as accounts:
        yield accounts.client


async def test_a_key_rotation_logs_nobody_out(settings, redis_server, database):
    old, new = _generate_pem(), _generate_pem()
    old_kid, new_kid = (signing_keys_from_pem(pem)[0].kid for pem in (old, new))

    async with accounts_with(settings, redis_server.url, database, old) as client:
        person = await sign_up(client)
    issued_before = person["token"]
    assert jwt.get_unverified_header(issued_before)["kid"] == old_kid

    async with accounts_with(settings, redis_server.url, database, new + b"\n" + old) as client:
        published = [key["kid"] for key in (await client.get("/.well-known/jwks.json")).json()["keys"]]
        assert published == [new_kid, old_kid]
        still = await gql(client, ME, token=issued_before)
        assert still["data"]["me"]["id"] == person["user"]["id"]
        logged_in = await gql(client, LOG_IN, {"i": {"email": person["email"], "password": PASSWORD}})
        issued_after = logged_in["data"]["logIn"]["accessToken"]
        assert jwt.get_unverified_header(issued_after)["kid"] == new_kid

    async with accounts_with(settings, redis_server.url, database, new) as client:
        assert codes(await gql(client, ME, token=issued_before)) == ["UNAUTHENTICATED"]
        assert (await gql(client, ME, token=issued_after))["data"]["me"]["id"] == person["user"]["id"]


def test_a_key_ring_needs_keys_and_no_repeats():
    key = _generate_pem()
    with pytest.raises(ValueError, match="twice"):
        signing_keys_from_pem(key + b"\n" + key)
    with pytest.raises(ValueError, match="no PEM private key"):
        signing_keys_from_pem(b"not a key")
