"""Sample data for exploring the graph offline: a demo tenant with an owner and a member."""

from __future__ import annotations

from shared.config import Settings
from shared.context import RequestContext
from shared.db import Database
from shared.mutations import unit_of_work
from shared.redis import create_redis
from subgraphs.accounts import repository, service
from subgraphs.accounts.app import subgraph as accounts

DEMO_PASSWORD = "demo-password-1"
DEMO_EMAIL = "owner@demo.spotify-agent.dev"


async def seed_demo(settings: Settings, redis_url: str) -> str:
    database = Database(settings.resolved_database_url)
    runtime = accounts.runtime(settings, redis_url, database)
    try:
        async with database.read() as session:
            if await repository.user_by_email(session, DEMO_EMAIL):
                return "demo data already present"
        context = RequestContext(runtime=runtime)
        data = service.SignUpData(
            email=DEMO_EMAIL,
            password=DEMO_PASSWORD,
            display_name="Demo Owner",
            tenant_name="Demo Records",
            invitation_code=None,
            consents=frozenset({"terms", "data_processing"}),
        )
        async with unit_of_work(context, {"email": DEMO_EMAIL}, operation="seed.signUp") as uow:
            owner = (await service.sign_up(uow.session, runtime, data)).user
            uow.target_id, uow.tenant_id = owner.id, owner.tenant_id
        return f"demo tenant created: log in as {DEMO_EMAIL} / {DEMO_PASSWORD}"
    finally:
        await runtime.close()


async def demo_tenant_id(settings: Settings) -> str | None:
    database = Database(settings.resolved_database_url)
    try:
        async with database.read() as session:
            owner = await repository.user_by_email(session, DEMO_EMAIL)
        return owner.tenant_id if owner else None
    finally:
        await database.dispose()


async def seed_catalogue(settings: Settings, redis_url: str | None = None) -> int:
    """The offline Spotify catalogue, with a progress bar; a second run adds nothing. With
    `redis_url` its announcements (what search indexes) are published at once."""
    from rich.progress import Progress

    from subgraphs.spotify.catalogue.offline import sample_rows, seed_catalogue

    database = Database(settings.resolved_database_url)
    redis = create_redis(redis_url) if redis_url else None
    try:
        with Progress(transient=True) as progress:
            task = progress.add_task(
                "seeding the offline Spotify catalogue", total=sum(1 for _ in sample_rows())
            )
            return await seed_catalogue(database, lambda n: progress.advance(task, n), redis)
    finally:
        if redis is not None:
            await redis.aclose()
        await database.dispose()


async def seed_audience(
    settings: Settings, redis_url: str | None = None, plays: int = 325_000, days: int = 365
) -> int:
    """The sample audience's plays (synthetic listeners sized to about `plays` over `days`,
    ending today), with a progress bar; a second run adds nothing. With `redis_url` their events
    are published at once (what ai learns from and analytics rolls up)."""
    from rich.progress import Progress

    from subgraphs.spotify.service.audience import listeners_for
    from subgraphs.spotify.service.audience import seed_audience as ingest

    if plays <= 0:
        return 0
    listeners = listeners_for(plays, days)
    database = Database(settings.resolved_database_url)
    redis = create_redis(redis_url) if redis_url else None
    try:
        with Progress(transient=True) as progress:
            task = progress.add_task(
                f"seeding ~{plays:,} plays of {listeners} synthetic listeners over {days} days",
                total=listeners,
            )
            return await ingest(
                database,
                redis,
                listeners=listeners,
                days=days,
                progress=lambda n: progress.advance(task, n),
            )
    finally:
        if redis is not None:
            await redis.aclose()
        await database.dispose()


SAMPLE_CLAIMS = 5
"""Offline, the demo tenant has claimed the sample audience's five most streamed artists
(verified, as if their profiles were linked): the artists whose analytics `make dev` shows."""


async def seed_claims(settings: Settings, tenant_id: str) -> list[str]:
    """The demo tenant's verified claims on the sample's artists (once); returns their ids."""
    from subgraphs.analytics.repository import ClaimRepository
    from subgraphs.analytics.service.claims import record_verified
    from subgraphs.spotify.service.audience import most_played_artists

    database = Database(settings.resolved_database_url)
    try:
        async with database.read() as session:
            claimed = await ClaimRepository(session, tenant_id).verified_artists()
        if claimed:
            return claimed
        chosen = await most_played_artists(database, SAMPLE_CLAIMS)
        if chosen:
            async with database.write() as session:
                await record_verified(session, tenant_id, chosen, "platform:seed")
        return chosen
    finally:
        await database.dispose()
