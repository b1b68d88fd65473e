"""Sign-up, log-in, refresh rotation and log-out through the accounts subgraph's ASGI app."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shared.audit.models import AuditRecord
from subgraphs.accounts.models import Tenant, User
from tests.support.graphql import PASSWORD, SIGN_UP, codes, gql, sign_up, unique_email
from tests.support.secrets import remember_secret

LOG_IN = "mutation($input: LogInInput!) { logIn(input: $input) { accessToken refreshToken user { id } } }"
REFRESH = "mutation($t: String!) { refreshSession(input: {refreshToken: $t}) { accessToken refreshToken } }"
ME = "{ me { id displayName email role tenant { id name } } }"


async def _count(database, model) -> int:
    async with database.read() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


def _sign_up_vars(address: str, **overrides):
    data = {
        "email": address,
        "password": PASSWORD,
        "displayName": "Grace",
        "tenantName": "Label",
        "consents": {"terms": True, "dataProcessing": True, "marketing": False},
    }
    data.update(overrides)
    return {"input": data}


async def test_sign_up_creates_user_and_tenant_and_me_reads_them(accounts):
    _, client = accounts
    account = await sign_up(client, tenant_name="Night Owl Records")
    body = await gql(client, ME, token=account["token"])
    assert "errors" not in body
    me = body["data"]["me"]
    assert me["email"] == account["email"]
    assert me["role"] == "OWNER"
    assert me["tenant"]["name"] == "Night Owl Records"


async def test_sign_up_without_required_consents_creates_nothing(accounts, database):
    _, client = accounts
    before = (await _count(database, User), await _count(database, Tenant))
    variables = _sign_up_vars(unique_email(), consents={"terms": True, "dataProcessing": False})
    body = await gql(client, SIGN_UP, variables)
    assert codes(body) == ["CONSENT_REQUIRED"]
    assert body["errors"][0]["extensions"]["missing"] == ["data_processing"]
    assert (await _count(database, User), await _count(database, Tenant)) == before


async def test_duplicate_email_is_refused_and_creates_nothing(accounts, database):
    _, client = accounts
    account = await sign_up(client)
    before = (await _count(database, User), await _count(database, Tenant))
    body = await gql(client, SIGN_UP, _sign_up_vars(account["email"].upper()))
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "email"
    assert (await _count(database, User), await _count(database, Tenant)) == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password": "short"}, "password"),
        ({"email": "not-an-email"}, "email"),
        ({"tenantName": None}, "tenantName"),
        ({"displayName": "  "}, "displayName"),
    ],
)
async def test_bad_sign_up_input_is_refused(accounts, database, overrides, field):
    _, client = accounts
    before = await _count(database, User)
    body = await gql(client, SIGN_UP, _sign_up_vars(unique_email(), **overrides))
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == field
    assert await _count(database, User) == before


async def test_log_in_and_wrong_password(accounts):
    _, client = accounts
    account = await sign_up(client)
    ok = await gql(client, LOG_IN, {"input": {"email": account["email"], "password": PASSWORD}})
    assert ok["data"]["logIn"]["user"]["id"] == account["user"]["id"]
    remember_secret(ok["data"]["logIn"]["accessToken"], ok["data"]["logIn"]["refreshToken"])
    bad = await gql(client, LOG_IN, {"input": {"email": account["email"], "password": "wrong-password-x"}})
    assert codes(bad) == ["UNAUTHENTICATED"]
    assert bad["data"] is None


async def test_failed_log_ins_are_rate_limited_per_account(accounts):
    runtime, client = accounts
    account = await sign_up(client)
    limit = runtime.config.login_attempts_per_account
    for _ in range(limit):
        body = await gql(
            client, LOG_IN, {"input": {"email": account["email"], "password": "wrong-password-x"}}
        )
        assert codes(body) == ["UNAUTHENTICATED"]
    # Even the right password is refused while the account is locked.
    locked = await gql(client, LOG_IN, {"input": {"email": account["email"], "password": PASSWORD}})
    assert codes(locked) == ["RATE_LIMITED"]
    assert locked["errors"][0]["extensions"]["retryAfter"] > 0


async def test_failed_log_ins_are_rate_limited_per_client_address(accounts):
    runtime, client = accounts
    limit = runtime.config.login_attempts_per_address
    for _ in range(limit):
        await gql(
            client,
            LOG_IN,
            {"input": {"email": unique_email("nobody"), "password": "wrong-password-x"}},
        )
    body = await gql(
        client, LOG_IN, {"input": {"email": unique_email("other"), "password": "wrong-password-x"}}
    )
    assert codes(body) == ["RATE_LIMITED"]


async def test_refresh_rotates_and_reuse_revokes_the_family(accounts):
    _, client = accounts
    account = await sign_up(client)
    first = await gql(client, REFRESH, {"t": account["refresh"]})
    rotated = first["data"]["refreshSession"]
    remember_secret(rotated["accessToken"], rotated["refreshToken"])
    assert rotated["refreshToken"] != account["refresh"]
    # The old token again: theft is assumed, the whole session dies.
    reused = await gql(client, REFRESH, {"t": account["refresh"]})
    assert codes(reused) == ["UNAUTHENTICATED"]
    assert reused["errors"][0]["extensions"]["reason"] == "REFRESH_TOKEN_REUSED"
    after = await gql(client, REFRESH, {"t": rotated["refreshToken"]})
    assert codes(after) == ["UNAUTHENTICATED"]
    # Access tokens of that session stop working too.
    me = await gql(client, ME, token=rotated["accessToken"])
    assert codes(me) == ["UNAUTHENTICATED"]


async def test_log_out_revokes_access_and_refresh(accounts):
    _, client = accounts
    account = await sign_up(client)
    out = await gql(client, "mutation { logOut { sessionId } }", token=account["token"])
    assert out["data"]["logOut"]["sessionId"]
    assert codes(await gql(client, ME, token=account["token"])) == ["UNAUTHENTICATED"]
    assert codes(await gql(client, REFRESH, {"t": account["refresh"]})) == ["UNAUTHENTICATED"]


async def test_mutations_write_audit_records_in_their_transaction(accounts, database):
    _, client = accounts
    account = await sign_up(client)
    bad = await gql(client, SIGN_UP, _sign_up_vars(account["email"]))
    assert codes(bad) == ["BAD_USER_INPUT"]
    async with database.read() as session:
        rows = (
            (await session.execute(select(AuditRecord).where(AuditRecord.operation == "signUp")))
            .scalars()
            .all()
        )
    outcomes = {row.outcome for row in rows}
    assert {"success", "BAD_USER_INPUT"} <= outcomes
    success = next(row for row in rows if row.target_id == account["user"]["id"])
    assert success.tenant_id and success.principal_id == account["user"]["id"]
    assert PASSWORD not in success.input_json
    assert account["email"] not in success.input_json  # e-mails are redacted too
