"""`spotify-agent`: run, compose, migrate, seed and inspect the platform."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from gateway.ai_cli import ai_app
from gateway.events_cli import events_app
from gateway.registry.cli import schema_app
from gateway.search_cli import search_app
from gateway.service_token import service_token
from shared import tracing
from shared.config import Settings, get_settings
from shared.logging import configure_logging

app = typer.Typer(
    help="Spotify Agent platform: a federated GraphQL API for music artists.", no_args_is_help=True
)
audit_app = typer.Typer(help="The hash-chained audit log.")
app.add_typer(audit_app, name="audit")
app.add_typer(schema_app, name="schema")
app.command("service-token")(service_token)
app.add_typer(events_app, name="events")
app.add_typer(search_app, name="search")
app.add_typer(ai_app, name="ai")


@contextmanager
def redis_for(settings: Settings) -> Iterator[str]:
    """REDIS_URL if set; else the embedded redis-server a running command (`make dev`) started
    for this data dir; else one of our own for as long as the command runs. Its address is
    kept in DATA_DIR/redis/url, so `events status` or `seed` beside `make dev` see its Redis."""
    if settings.redis_url:
        yield settings.redis_url
        return
    from shared.redis import EmbeddedRedis, responds

    marker = settings.data_dir / "redis" / "url"
    if marker.exists() and responds(marker.read_text().strip()):
        yield marker.read_text().strip()
        return
    server = EmbeddedRedis(settings.data_dir / "redis").start()
    marker.write_text(server.url)
    try:
        yield server.url
    finally:
        marker.unlink(missing_ok=True)
        server.stop()


def _require_migrated(settings: Settings) -> None:
    """Processes that do not migrate (serve, worker) refuse an outdated database up front."""
    from gateway.migrate import missing_revisions

    missing = asyncio.run(missing_revisions(settings.resolved_database_url))
    if missing:
        typer.echo(
            f"the database lacks migrations {', '.join(missing)}: run `spotify-agent migrate` first", err=True
        )
        raise typer.Exit(2)


def _settings() -> Settings:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    tracing.configure("spotify-agent")  # only when OTEL_TRACES_EXPORTER asks for it
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings


@app.command()
def migrate() -> None:
    """Upgrade the database to the newest schema of every subgraph (alembic upgrade heads)."""
    from gateway.migrate import upgrade

    settings = _settings()
    upgrade(settings.resolved_database_url)
    typer.echo("database is at heads")


@app.command()
def seed(
    plays: Annotated[
        int, typer.Option(help="About how many synthetic plays to generate over the year to today (0: none)")
    ] = 325_000,
    days: Annotated[int, typer.Option(help="Days of listening, ending today")] = 365,
) -> None:
    """Load the offline sample data: the Spotify catalogue, a demo tenant (with verified claims
    on the sample's most popular artists) and a synthetic audience's listening: what the
    recommender learns from and analytics rolls up offline."""
    from gateway.seed import demo_tenant_id, seed_audience, seed_catalogue, seed_claims, seed_demo

    settings = _settings()
    with redis_for(settings) as redis_url:
        created = asyncio.run(seed_demo(settings, redis_url))
        rows = asyncio.run(seed_catalogue(settings, redis_url))
        plays = asyncio.run(seed_audience(settings, redis_url, plays, days))
        tenant_id = asyncio.run(demo_tenant_id(settings))
        claimed = asyncio.run(seed_claims(settings, tenant_id)) if tenant_id else []
    typer.echo(created)
    typer.echo(f"demo tenant's claimed artists: {', '.join(claimed)}")
    typer.echo(f"offline catalogue: {rows} rows added" if rows else "offline catalogue already present")
    typer.echo(f"sample audience: {plays} plays added" if plays else "sample audience already present")


@app.command()
def compose(
    out: Annotated[
        Path | None, typer.Option(help="Supergraph file (default: DATA_DIR/supergraph.graphql)")
    ] = None,
) -> None:
    """Publish every subgraph of the platform through the registry (with its checks) and
    write the resulting supergraph to a file; a refused publish exits 1."""
    from gateway.composition import CompositionError
    from gateway.host import definitions
    from gateway.migrate import upgrade
    from gateway.registry.bootstrap import PublishRefused, publish_platform
    from gateway.registry.service import Registry
    from gateway.subgraphs import SUBGRAPHS
    from shared.db import Database

    settings = _settings()
    target = out or settings.data_dir / "supergraph.graphql"
    upgrade(settings.resolved_database_url)

    async def run() -> str:
        database = Database(settings.resolved_database_url)
        try:
            registry = Registry(database, settings)
            for line in await publish_platform(registry, definitions(settings, SUBGRAPHS)):
                typer.echo(line)
            current = await registry.current_supergraph()
            if current is None:
                raise CompositionError(["the registry holds no supergraph after publishing"])
            return current.sdl
        finally:
            await database.dispose()

    try:
        sdl = asyncio.run(run())
    except (PublishRefused, CompositionError) as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from error
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".tmp")
    partial.write_text(sdl)
    partial.replace(target)
    typer.echo(f"supergraph written to {target}")


@app.command("new-subgraph")
def new_subgraph(
    name: Annotated[str, typer.Argument(help="One lower-case word, e.g. search")],
) -> None:
    """Write a working subgraph skeleton (folder, migration, tests) and add it to the list."""
    from gateway.scaffold import ScaffoldError
    from gateway.scaffold import new_subgraph as scaffold

    root = Path(__file__).resolve().parents[1]  # the repository this CLI runs from
    try:
        written = scaffold(root, name)
    except ScaffoldError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from error
    for path in written:
        typer.echo(f"  wrote {path.relative_to(root)}")
    typer.echo(
        f"next: `spotify-agent migrate`, then `make dev` serves /{name}/graphql; "
        f"`pytest tests/{name}` runs its tests"
    )


@app.command()
def stack(
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 if the file is stale; write nothing")
    ] = False,
) -> None:
    """Rewrite the per-subgraph parts of docker/compose.yaml from the list of subgraphs."""
    from gateway.stack import COMPOSE_FILE, render

    current = COMPOSE_FILE.read_text()
    wanted = render(current)
    if check:
        if wanted != current:
            typer.echo(f"{COMPOSE_FILE} is stale: run `spotify-agent stack`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{COMPOSE_FILE} is current")
        return
    COMPOSE_FILE.write_text(wanted)
    typer.echo(f"{COMPOSE_FILE} written")


@app.command()
def registry(port: Annotated[int | None, typer.Option()] = None) -> None:
    """Serve the schema registry alone (GraphQL API, /supergraph.graphql, /usage, web page)."""
    from gateway import serving
    from gateway.migrate import upgrade
    from gateway.registry.app import create_registry_app

    settings = _settings()
    upgrade(settings.resolved_database_url)
    serving.run(create_registry_app(settings), host=settings.host, port=port or settings.registry_port)


@app.command()
def serve(
    subgraph: Annotated[str, typer.Option(help="Name of the subgraph to serve alone")],
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Serve one subgraph alone at http://HOST:PORT/graphql."""
    from gateway import serving
    from gateway.subgraphs import SUBGRAPHS, declaration

    settings = _settings()
    if subgraph not in SUBGRAPHS:
        typer.echo(f"unknown subgraph {subgraph!r}; known: {', '.join(SUBGRAPHS)}", err=True)
        raise typer.Exit(2)
    declared = declaration(subgraph)
    _require_migrated(settings)
    with redis_for(settings) as redis_url:
        serving.run(
            declared.app(declared.runtime(settings, redis_url)),
            host=settings.host,
            port=port or settings.subgraph_port,
            loop="uvloop",
            http="httptools",
            ws="websockets-sansio",
        )


@app.command()
def worker() -> None:
    """Run the arq worker with the jobs of every subgraph."""
    from prometheus_client import start_http_server

    from gateway.worker import create_worker
    from shared.heap import settle_after_startup

    settings = _settings()

    async def run(redis_url: str) -> None:
        # Created inside the running loop: arq's Worker binds to the loop current at creation.
        # SIGTERM/SIGINT: no new jobs, running ones get 8 s (then they are retried elsewhere).
        worker = create_worker(settings, redis_url, handle_signals=True, job_completion_wait=8)
        if settings.worker_metrics_port:
            start_http_server(settings.worker_metrics_port, addr=settings.host)
        settle_after_startup()  # every job module is imported: a long-lived heap from here on
        try:
            await worker.async_run()
        except asyncio.CancelledError:
            pass  # how arq's signal handler ends it
        finally:
            await worker.close()

    _require_migrated(settings)
    with redis_for(settings) as redis_url:
        asyncio.run(run(redis_url))


@app.command()
def dev(
    port: Annotated[int | None, typer.Option(help="Router port (default 4000)")] = None,
) -> None:
    """Run the whole platform on embedded defaults: subgraphs, worker, router."""
    from gateway.devserver import run_dev

    settings = _settings()
    if port:
        settings.router_port = port
    with redis_for(settings) as redis_url:
        code = asyncio.run(run_dev(settings, redis_url))
    raise typer.Exit(code)


@app.command()
def mailbox(
    smtp_port: Annotated[int | None, typer.Option(help="SMTP port (default MAILBOX_SMTP_PORT, 1025)")] = None,
    web_port: Annotated[int | None, typer.Option(help="Web port (default MAILBOX_WEB_PORT, 8025)")] = None,
) -> None:
    """Capture the mail sent to 127.0.0.1 (an SMTP sink, like Mailpit) and show it on a web
    page, until Ctrl-C. `dev` runs one itself unless SMTP_HOST is set."""
    from gateway.mailbox import run_mailbox

    settings = _settings()
    smtp = settings.mailbox_smtp_port if smtp_port is None else smtp_port
    web = settings.mailbox_web_port if web_port is None else web_port
    try:
        asyncio.run(run_mailbox(settings.data_dir / "mailbox", smtp, web))
    except KeyboardInterrupt:
        pass


@audit_app.command("verify")
def audit_verify(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Recompute every audit chain; exit 1 if a record was altered, removed or reordered."""
    from shared.audit import verify_chains
    from shared.db import Database

    settings = _settings()

    async def run() -> tuple[int, list[object]]:
        database = Database(settings.resolved_database_url)
        try:
            async with database.read() as session:
                checked, problems = await verify_chains(session)
        finally:
            await database.dispose()
        return checked, list(problems)

    checked, problems = asyncio.run(run())
    if as_json:
        typer.echo(json.dumps({"checked": checked, "problems": [vars(p) for p in problems]}))
    else:
        typer.echo(f"{checked} audit records checked, {len(problems)} problems")
        for problem in problems:
            typer.echo(f"  chain {problem.chain} seq {problem.seq}: {problem.problem}")  # type: ignore[attr-defined]
    if problems:
        raise typer.Exit(1)


def main() -> None:  # pragma: no cover
    sys.exit(app())
