"""`spotify-agent ai ...`: train the recommender now (evaluated, registered, promoted by the
rule), check it for drift, list the model registry. The rules are in `subgraphs/ai/service/`;
this runs them against the platform's database and prints tables."""

from __future__ import annotations

import asyncio
from typing import Any

import typer

ai_app = typer.Typer(help="The ai subgraph's models: train, check for drift, list.", no_args_is_help=True)


@ai_app.command("train")
def train() -> None:
    """Train the recommender on what the events brought, evaluate it on a time split against
    popularity and random, register it; promote it if nothing is in production or (with
    AI_AUTO_PROMOTE) it beats production on NDCG@10."""
    from gateway.cli import _settings, redis_for
    from shared.db import Database
    from shared.redis import create_redis
    from subgraphs.ai.config import AiSettings
    from subgraphs.ai.recommender.evaluation import table_lines
    from subgraphs.ai.service.training import train_recommender

    settings = _settings()

    async def run() -> Any:
        database = Database(settings.resolved_database_url)
        with redis_for(settings) as redis_url:
            redis = create_redis(redis_url)
            try:
                return await train_recommender(database, AiSettings(), created_by="service:ai", redis=redis)
            finally:
                await redis.aclose()
                await database.dispose()

    outcome = asyncio.run(run())
    stage = "promoted to production" if outcome.promoted else "candidate"
    typer.echo(f"recommender {outcome.version} registered ({stage})")
    for line in table_lines(outcome.metrics):
        typer.echo(line)


@ai_app.command("drift")
def drift() -> None:
    """Check the production recommender for drift now (as the hourly job does)."""
    from gateway.cli import _settings, redis_for
    from shared.db import Database
    from shared.redis import create_redis
    from subgraphs.ai.service.drift import detect_drift

    settings = _settings()

    async def run() -> Any:
        database = Database(settings.resolved_database_url)
        with redis_for(settings) as redis_url:
            redis = create_redis(redis_url)
            try:
                return await detect_drift(database, redis=redis)
            finally:
                await redis.aclose()
                await database.dispose()

    reports = asyncio.run(run())
    if not reports:
        typer.echo("no recommender in production yet")
        raise typer.Exit(1)
    for report in reports:
        psi = "-" if report.psi is None else f"{report.psi:.4f}"
        typer.echo(f"  {report.signal:<22} PSI {psi:>8}  {report.level:<12} recent {report.recent_count}")


@ai_app.command("models")
def models() -> None:
    """The model registry: every version, its stage and its NDCG@10."""
    from gateway.cli import _settings
    from shared.db import Database
    from subgraphs.ai.repository import ModelRepository

    settings = _settings()

    async def run() -> Any:
        database = Database(settings.resolved_database_url)
        try:
            async with database.read() as session:
                return await ModelRepository(session).versions()
        finally:
            await database.dispose()

    for row in asyncio.run(run()):
        ndcg = row.metrics.get("ours", {}).get("ndcg@10")
        score = f"ndcg@10 {ndcg:.4f}" if ndcg is not None else ""
        typer.echo(
            f"  {row.name:<20} {row.version:<36} {row.stage:<11} {row.created_at:%Y-%m-%d %H:%M}  {score}"
        )
