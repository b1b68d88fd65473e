"""The app factory: health, readiness, JWKS, dev-only introspection and GraphiQL, and the
explicit, audited door to another tenant's rows."""

from __future__ import annotations

from jose import jwt
from sqlalchemy import select

from shared.audit.cross_tenant import get_across_tenants
from shared.audit.models import AuditRecord
from shared.auth.principal import Principal
from subgraphs.accounts.models import User
from tests.support.graphql import codes, gql, sign_up
from tests.support.hosting import hosted


async def test_health_readiness_and_jwks(accounts):
    runtime, client = accounts
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "redis": "ok"}
    keys = (await client.get("/.well-known/jwks.json")).json()["keys"]
    assert [key["kid"] for key in keys] == [runtime.signing_key.kid]
    assert all("d" not in key for key in keys)  # public parts only
    account = await sign_up(client)
    assert jwt.get_unverified_header(account["token"])["kid"] == runtime.signing_key.kid


async def test_production_hides_introspection_and_graphiql(settings, redis_server, database):

    from shared.auth.keys import _generate_pem

    settings.env = "production"
    settings.jwt_private_key = _generate_pem().decode()
    async with hosted("accounts", settings, redis_server.url, database) as accounts:
        client = accounts.client
        introspection = await gql(client, "{ __schema { types { name } } }")
        assert introspection.get("data") is None and set(codes(introspection)) == {"BAD_USER_INPUT"}
        assert "introspection has been disabled" in introspection["errors"][0]["message"]
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        assert "graphiql" not in page.text.lower()
        # The router still composes from `_service { sdl }`.
        sdl = await gql(client, "{ _service { sdl } }")
        assert "type User" in sdl["data"]["_service"]["sdl"]


async def test_readiness_fails_when_redis_is_gone(settings, database):
    async with hosted("accounts", settings, "redis://127.0.0.1:1/0", database, lifespan=False) as accounts:
        ready = await accounts.client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["redis"].startswith("unavailable")


async def test_reading_another_tenants_row_is_explicit_and_audited(accounts, database):
    _, client = accounts
    alice, support = await sign_up(client), await sign_up(client)
    actor = Principal(kind="user", user_id=support["user"]["id"], tenant_id="tnt_support", roles=("admin",))
    async with database.write() as session:
        row = await get_across_tenants(
            session, User, alice["user"]["id"], actor=actor, reason="ticket 42", subgraph="accounts"
        )
        assert row is not None and row.id == alice["user"]["id"]
    async with database.read() as session:
        audit = (
            await session.execute(select(AuditRecord).where(AuditRecord.operation == "crossTenantRead:User"))
        ).scalar_one()
    assert audit.principal_id == support["user"]["id"] and audit.target_id == alice["user"]["id"]
    assert "ticket 42" in audit.input_json
