"""API keys authenticate like tokens within their scopes; the audit chain detects tampering."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import delete, select, update

from shared.audit.models import AuditRecord
from subgraphs.accounts.models import ApiKey
from tests.support.graphql import codes, gql, sign_up
from tests.support.secrets import remember_secret

CREATE = "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id prefix scopes } } }"


async def _key(client, token: str, scopes: list[str]) -> dict:
    body = await gql(client, CREATE, {"input": {"name": "CI", "scopes": scopes}}, token=token)
    assert "errors" not in body, body
    created = body["data"]["createApiKey"]
    remember_secret(created["secret"])
    return created


async def test_api_key_is_shown_once_stored_hashed_and_authenticates(accounts, database):
    _, client = accounts
    account = await sign_up(client)
    created = await _key(client, account["token"], ["accounts:read"])
    assert created["secret"].startswith(f"sak_{created['apiKey']['prefix']}_")
    async with database.read() as session:
        row = (await session.execute(select(ApiKey).where(ApiKey.id == created["apiKey"]["id"]))).scalar_one()
    assert created["secret"] not in row.secret_hash and row.last_used_at is None
    me = await gql(client, "{ me { id } }", token=created["secret"])
    assert me["data"]["me"]["id"] == account["user"]["id"]
    listed = await gql(client, "{ apiKeys { edges { node { prefix lastUsedAt } } } }", token=account["token"])
    node = listed["data"]["apiKeys"]["edges"][0]["node"]
    assert node["prefix"] == created["apiKey"]["prefix"] and node["lastUsedAt"] is not None
    assert "secret" not in str(listed)


async def test_api_key_is_limited_to_its_scopes(accounts):
    _, client = accounts
    account = await sign_up(client)
    read_only = await _key(client, account["token"], ["accounts:read"])
    body = await gql(
        client,
        CREATE,
        {"input": {"name": "escalate", "scopes": ["accounts:write"]}},
        token=read_only["secret"],
    )
    assert codes(body) == ["FORBIDDEN"]
    other_scope = await _key(client, account["token"], ["registry:check"])
    assert codes(await gql(client, "{ me { id } }", token=other_scope["secret"])) == ["FORBIDDEN"]


async def test_revoked_and_unknown_keys_are_refused(accounts):
    _, client = accounts
    account = await sign_up(client)
    created = await _key(client, account["token"], ["accounts:read"])
    revoke = await gql(
        client,
        "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { revokedAt } } }",
        {"id": created["apiKey"]["id"]},
        token=account["token"],
    )
    assert revoke["data"]["revokeApiKey"]["apiKey"]["revokedAt"]
    assert codes(await gql(client, "{ me { id } }", token=created["secret"])) == ["UNAUTHENTICATED"]
    unknown = f"sak_{created['apiKey']['prefix']}_x{created['secret'][-20:]}"
    assert codes(await gql(client, "{ me { id } }", token=unknown)) == ["UNAUTHENTICATED"]
    assert codes(await gql(client, "{ me { id } }", token="sak_deadbeef_nope")) == ["UNAUTHENTICATED"]


async def test_bad_scopes_are_refused(accounts):
    _, client = accounts
    account = await sign_up(client)
    body = await gql(
        client, CREATE, {"input": {"name": "x", "scopes": ["everything"]}}, token=account["token"]
    )
    assert codes(body) == ["BAD_USER_INPUT"]


def _verify(database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_JSON": "false"}
    return subprocess.run(
        [sys.executable, "-m", "gateway", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_audit_verify_detects_edited_and_deleted_records(accounts, database, settings):
    _, client = accounts
    await sign_up(client)
    account = await sign_up(client)
    await gql(client, "mutation { logOut { sessionId } }", token=account["token"])
    clean = _verify(settings.resolved_database_url)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "0 problems" in clean.stdout

    async with database.write() as session:
        await session.execute(
            update(AuditRecord).where(AuditRecord.operation == "logOut").values(outcome="FORBIDDEN")
        )
    edited = _verify(settings.resolved_database_url)
    assert edited.returncode == 1 and "altered" in edited.stdout

    async with database.write() as session:
        await session.execute(
            update(AuditRecord).where(AuditRecord.operation == "logOut").values(outcome="success")
        )
        first = (await session.execute(select(AuditRecord).where(AuditRecord.seq == 1).limit(1))).scalar_one()
    assert _verify(settings.resolved_database_url).returncode == 0
    async with database.write() as session:
        await session.execute(delete(AuditRecord).where(AuditRecord.id == first.id))
    deleted = _verify(settings.resolved_database_url)
    assert deleted.returncode == 1 and "missing" in deleted.stdout
