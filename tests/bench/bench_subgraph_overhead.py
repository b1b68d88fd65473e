"""CPU per request of `me { id displayName tenant { name } }`: accounts with every platform
extension (auth, Casbin, audit/lifecycle, limits, logging) vs a bare Strawberry schema with
ParserCache and ValidationCache reading the same rows from the same database."""

import logging
import tempfile
from pathlib import Path

import strawberry
from sqlmodel import select
from strawberry.extensions import ParserCache, ValidationCache

from gateway.migrate import upgrade
from shared.config import Settings
from shared.context import RequestContext
from shared.db import Database
from shared.heap import settle_after_startup
from shared.mutations import unit_of_work
from shared.redis import EmbeddedRedis
from subgraphs.accounts import models, service
from subgraphs.accounts.app import subgraph as accounts
from subgraphs.accounts.schema import create_schema
from tests.bench.timing import compare_cpu

QUERY = "{ me { id displayName tenant { name } } }"


async def run() -> None:
    logging.getLogger().setLevel(logging.WARNING)
    directory = Path(tempfile.mkdtemp())
    settings = Settings(
        env="production",
        data_dir=directory,
        database_url=f"sqlite+aiosqlite:///{directory / 'bench.db'}",
        jwt_private_key=None,
    )
    settings.env = "test"  # keys generated into the temp dir
    import asyncio

    await asyncio.to_thread(upgrade, settings.resolved_database_url)
    redis = EmbeddedRedis().start()
    database = Database(settings.resolved_database_url)
    runtime = accounts.runtime(settings, redis.url, database)
    try:
        context = RequestContext(runtime=runtime)
        data = service.SignUpData(
            "bench@example.com",
            "bench-password-1",
            "Bench",
            "Bench Label",
            None,
            frozenset({"terms", "data_processing"}),
        )
        async with unit_of_work(context, operation="signUp") as uow:
            session = await service.sign_up(uow.session, runtime, data)
        header = f"Bearer {session.access_token}"
        schema = create_schema(settings)

        async def full() -> None:
            ctx = RequestContext(runtime=runtime)
            ctx.principal = await runtime.authenticator.authenticate(header, "127.0.0.1")
            result = await schema.execute(QUERY, context_value=ctx)
            assert result.errors is None, result.errors

        @strawberry.type
        class Tenant:
            name: str

        @strawberry.type
        class User:
            id: str
            display_name: str
            tenant_id: strawberry.Private[str]

            @strawberry.field
            async def tenant(self) -> Tenant:
                async with database.read() as s:
                    row = (
                        await s.execute(select(models.Tenant).where(models.Tenant.id == self.tenant_id))
                    ).scalar_one()
                return Tenant(name=row.name)

        user_id = session.user.id

        @strawberry.type
        class Query:
            @strawberry.field
            async def me(self) -> User:
                async with database.read() as s:
                    row = (await s.execute(select(models.User).where(models.User.id == user_id))).scalar_one()
                return User(id=row.id, display_name=row.display_name, tenant_id=row.tenant_id)

        bare_schema = strawberry.Schema(
            query=Query, extensions=[lambda: ParserCache(), lambda: ValidationCache()]
        )

        async def bare() -> None:
            result = await bare_schema.execute(QUERY)
            assert result.errors is None, result.errors

        settle_after_startup()  # as our servers do once started
        cpu = await compare_cpu(full, bare, warmup=50, rounds=9, per_round=100)
        print(
            f"full stack {cpu.subject * 1e6:.0f} us CPU/request, bare {cpu.baseline * 1e6:.0f} us, "
            f"ratio {cpu.ratio:.2f}x (target <= 1.2x; median of 9 alternating rounds)"
        )
        print(
            "full stack = token verify (memoised) + revoked-session check in Redis + Casbin + limits + error typing + operation log + DataLoaders"
        )
    finally:
        await runtime.close()
        redis.stop()
