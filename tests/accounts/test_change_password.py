"""changePassword: the current password is checked (and counts as a log-in attempt), the new
one works at once, every other session is signed out while this one stays, the change is a
domain event without the secret, and bad input changes nothing."""

from __future__ import annotations

import json

from sqlmodel import select

from shared.domain_events.models import OutboxEvent
from tests.support.graphql import PASSWORD, codes, gql, sign_up

CHANGE = """mutation($i: ChangePasswordInput!) {
  changePassword(input: $i) { revokedSessions user { id email } }
}"""
LOG_IN = """mutation($e: String!, $p: String!) {
  logIn(input: {email: $e, password: $p}) { accessToken refreshToken }
}"""
REFRESH = "mutation($t: String!) { refreshSession(input: {refreshToken: $t}) { accessToken } }"
ME = "{ me { id } }"
NEW_PASSWORD = "a-new-long-password-2"


async def _log_in(client, email: str, password: str) -> dict:
    return await gql(client, LOG_IN, {"e": email, "p": password})


async def test_changing_the_password_signs_out_every_other_session(accounts, database):
    _, client = accounts
    user = await sign_up(client)
    other = (await _log_in(client, user["email"], PASSWORD))["data"]["logIn"]
    assert (await gql(client, ME, token=other["accessToken"]))["data"]["me"]["id"] == user["user"]["id"]

    changed = await gql(
        client, CHANGE, {"i": {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}}, token=user["token"]
    )
    assert changed["data"]["changePassword"] == {
        "revokedSessions": 1,
        "user": {"id": user["user"]["id"], "email": user["email"]},
    }
    assert codes(await gql(client, ME, token=other["accessToken"])) == ["UNAUTHENTICATED"]
    assert codes(await gql(client, REFRESH, {"t": other["refreshToken"]})) == ["UNAUTHENTICATED"]
    assert (await gql(client, ME, token=user["token"]))["data"]["me"]["id"] == user["user"]["id"]
    assert (await gql(client, REFRESH, {"t": user["refresh"]}))["data"]["refreshSession"]["accessToken"]

    assert codes(await _log_in(client, user["email"], PASSWORD)) == ["UNAUTHENTICATED"]
    assert (await _log_in(client, user["email"], NEW_PASSWORD))["data"]["logIn"]["accessToken"]

    async with database.read() as session:
        rows = (
            await session.execute(
                select(OutboxEvent).where(OutboxEvent.type == "accounts.user.password_changed")
            )
        ).scalars()
        events = [row.payload for row in rows]
    assert [event["user_id"] for event in events] == [user["user"]["id"]]
    assert events[0]["revoked_sessions"] == 1
    assert PASSWORD not in json.dumps(events) and NEW_PASSWORD not in json.dumps(events)


async def test_bad_input_changes_nothing(accounts):
    _, client = accounts
    user = await sign_up(client)
    wrong = await gql(
        client,
        CHANGE,
        {"i": {"currentPassword": "not-my-password", "newPassword": NEW_PASSWORD}},
        token=user["token"],
    )
    assert codes(wrong) == ["BAD_USER_INPUT"]
    assert wrong["errors"][0]["extensions"]["field"] == "currentPassword"
    short = await gql(
        client, CHANGE, {"i": {"currentPassword": PASSWORD, "newPassword": "short"}}, token=user["token"]
    )
    assert short["errors"][0]["extensions"]["field"] == "newPassword"
    same = await gql(
        client, CHANGE, {"i": {"currentPassword": PASSWORD, "newPassword": PASSWORD}}, token=user["token"]
    )
    assert same["errors"][0]["extensions"]["field"] == "newPassword"
    assert (await _log_in(client, user["email"], PASSWORD))["data"]["logIn"]["accessToken"]
    anonymous = await gql(client, CHANGE, {"i": {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}})
    assert codes(anonymous) in (["UNAUTHENTICATED"], ["FORBIDDEN"])


async def test_guessing_the_current_password_is_rate_limited(accounts):
    runtime, client = accounts
    user = await sign_up(client)
    guesses = {"currentPassword": "guess-password-0", "newPassword": NEW_PASSWORD}
    for _ in range(runtime.config.login_attempts_per_account):
        assert codes(await gql(client, CHANGE, {"i": guesses}, token=user["token"])) == ["BAD_USER_INPUT"]
    refused = await gql(client, CHANGE, {"i": {**guesses, "currentPassword": PASSWORD}}, token=user["token"])
    assert codes(refused) == ["RATE_LIMITED"]
