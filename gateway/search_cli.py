"""`spotify-agent search ...`: rebuild the search projection from its sources (`reindex`) and
check the engine against them (`verify`). The rules are in `subgraphs/search/maintenance.py`;
this parses options, mints the service token, draws progress and tables."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from shared.config import Settings
    from subgraphs.search.maintenance import ReindexReport, Sources, VerifyReport

search_app = typer.Typer(
    help="The search index: rebuild it from its sources, verify it against them.", no_args_is_help=True
)
SHOWN = 10
"""Keys listed per kind of drift."""


class TypeChoice(StrEnum):
    track = "track"
    artist = "artist"
    album = "album"
    playlist = "playlist"
    project = "project"


UrlOption = Annotated[
    str | None,
    typer.Option(
        help="GraphQL endpoint serving the sources (spotify's catalogueItems and platformPlaylistItems, "
        "collaboration's collaborationItems): the router (default http://127.0.0.1:ROUTER_PORT/graphql)"
    ),
]


def _source(settings: Settings, url: str | None, page_size: int) -> Sources:
    from shared.auth.service_tokens import ServiceTokens
    from subgraphs.search.maintenance import SCOPES, SERVICE, Sources

    tokens = ServiceTokens.from_settings(settings)

    def headers() -> Mapping[str, str]:
        return tokens.headers(SERVICE, SCOPES)  # cached, renewed before it expires

    return Sources(url or f"http://127.0.0.1:{settings.router_port}/graphql", headers, page_size=page_size)


@search_app.command("reindex")
def reindex(
    type: Annotated[
        list[TypeChoice] | None,
        typer.Option("--type", "-t", help="A document type to rebuild (repeatable); default: all"),
    ] = None,
    url: UrlOption = None,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Wait until the worker's indexer pushed everything")
    ] = True,
    timeout: Annotated[float, typer.Option(help="Seconds --wait waits at most")] = 600.0,
    page_size: Annotated[int, typer.Option(help="Source objects asked per page (1 to 1000)")] = 500,
) -> None:
    """Page the sources (spotify's catalogue and platform playlists, collaboration's projects
    and memberships) into the search projection (unchanged documents stay as they are), then
    queue every document of the types for the worker's indexer to push again."""
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from gateway.cli import _settings
    from shared.db import Database
    from subgraphs.search.backends.base import DocumentType
    from subgraphs.search.maintenance import SourceError, wait_until_indexed
    from subgraphs.search.maintenance import reindex as rebuild

    settings = _settings()
    types = [DocumentType(choice.value) for choice in type] if type else list(DocumentType)
    console = Console()

    async def run() -> tuple[ReindexReport, int]:
        database = Database(settings.resolved_database_url)
        source = _source(settings, url, page_size)
        try:
            with Progress(console=console, transient=True) as progress:
                bars: dict[str, TaskID] = {}

                def advance(what: str, done: int, total: int) -> None:
                    if what not in bars:
                        bars[what] = progress.add_task(f"listing {what}s", total=total)
                    progress.update(bars[what], completed=done, total=total)

                report = await rebuild(database, source, types, advance)
            left = 0
            if wait and report.queued:
                with Progress(console=console, transient=True) as progress:
                    bar = progress.add_task("indexing", total=report.queued)

                    def indexed(done: int, total: int) -> None:
                        progress.update(bar, completed=done, total=total)

                    left = await wait_until_indexed(database, types, timeout=timeout, progress=indexed)
            return report, left
        finally:
            await source.aclose()
            await database.dispose()

    try:
        report, left = asyncio.run(run())
    except SourceError as error:
        typer.echo(f"reindex failed: {error}", err=True)
        raise typer.Exit(2) from error
    _print_reindex(console, report)
    if wait and left:
        typer.echo(
            f"timed out after {timeout:g} s: {left} documents still pending. Is the worker running "
            "(`spotify-agent worker`, or `make dev`)? They stay queued; its indexer will push them.",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(
        f"{report.queued} documents indexed" if wait else f"{report.queued} documents queued for the indexer"
    )


def _print_reindex(console: Console, report: ReindexReport) -> None:
    from rich.table import Table

    table = Table("type", "listed", "changed", "removed", "queued", title="search reindex")
    for entry in report.types:
        table.add_row(
            entry.type.value, str(entry.listed), str(entry.changed), str(entry.removed), str(entry.queued)
        )
    console.print(table)
    members = report.memberships
    if members is not None:
        console.print(
            f"workspace memberships: {members.listed} listed, {members.added} written, "
            f"{members.removed} removed"
        )


@search_app.command("verify")
def verify(
    repair: Annotated[
        bool, typer.Option("--repair", help="Queue what differs for the worker's indexer to fix")
    ] = False,
    sample: Annotated[int, typer.Option(help="Documents per type compared field by field")] = 100,
    url: UrlOption = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the random sample (repeatable runs)")] = None,
    type: Annotated[
        list[TypeChoice] | None,
        typer.Option("--type", "-t", help="A document type to compare (repeatable); default: all"),
    ] = None,
) -> None:
    """Compare the sources' counts (and memberships) with the projection, and the projection
    with the engine (missing, stale, and a sample of changed documents); exit 1 on drift."""
    from rich.console import Console

    from gateway.cli import _settings
    from shared.db import Database
    from subgraphs.search.backends import create_backend
    from subgraphs.search.backends.base import DocumentType
    from subgraphs.search.config import SearchSettings
    from subgraphs.search.maintenance import RepairReport, SourceError
    from subgraphs.search.maintenance import repair as queue_repairs
    from subgraphs.search.maintenance import verify as compare

    settings = _settings()
    types = [DocumentType(choice.value) for choice in type] if type else list(DocumentType)
    console = Console()

    async def run() -> tuple[VerifyReport, RepairReport | None]:
        database = Database(settings.resolved_database_url)
        backend = create_backend(settings, SearchSettings(), writable=False)
        source = _source(settings, url, 1)
        try:
            with console.status("comparing the sources, the projection and the engine"):
                report = await compare(
                    database, backend, source, sample=sample, types=types, rng=random.Random(seed)
                )
            repaired = await queue_repairs(database, backend, report) if repair and report.drift else None
            return report, repaired
        finally:
            await source.aclose()
            await backend.aclose()
            await database.dispose()

    try:
        report, repaired = asyncio.run(run())
    except SourceError as error:
        typer.echo(f"verify failed: {error}", err=True)
        raise typer.Exit(2) from error
    _print_verify(console, report)
    pending = sum(entry.pending for entry in report.types)
    if pending:
        typer.echo(f"{pending} documents pending: the worker's indexer has yet to push them (not compared)")
    if not report.drift:
        typer.echo(
            "no drift: the engine matches the projection and the projection its sources"
            + (" (for the documents indexed so far)" if pending else "")
        )
        return
    if repaired is not None:
        typer.echo(
            f"queued for the indexer: {repaired.requeued} documents to push again (missing or changed), "
            f"{repaired.deleting} stale documents to delete"
        )
    elif any(entry.missing or entry.stale or entry.changed for entry in report.types):
        typer.echo("drift found: `spotify-agent search verify --repair` queues the fixes")
    stale_counts = [entry.type.value for entry in report.types if entry.source_drift]
    if stale_counts:
        flags = " ".join(f"--type {name}" for name in stale_counts)
        typer.echo(
            f"the projection's counts differ from the sources': run `spotify-agent search reindex {flags}`"
        )
    raise typer.Exit(1)


def _print_verify(console: Console, report: VerifyReport) -> None:
    from rich.table import Table

    table = Table(
        "type",
        "source",
        "projected",
        "engine",
        "pending",
        "missing",
        "stale",
        "changed",
        title="search verify",
        caption="changed: differing / sampled",
    )
    for entry in report.types:
        source = "-" if entry.source is None else str(entry.source)
        if entry.source_drift:
            source += " ≠"
        projection = str(entry.projected)
        table.add_row(
            entry.type.value,
            source,
            projection,
            str(entry.engine),
            str(entry.pending),
            str(len(entry.missing)),
            str(len(entry.stale)),
            f"{len(entry.changed)}/{entry.sampled}",
        )
    console.print(table)
    for entry in report.types:
        for label, keys in (("missing", entry.missing), ("stale", entry.stale)):
            if keys:
                more = f" (+{len(keys) - SHOWN} more)" if len(keys) > SHOWN else ""
                console.print(f"{label} {entry.type.value}: {', '.join(keys[:SHOWN])}{more}", soft_wrap=True)
        for key, fields in list(entry.changed.items())[:SHOWN]:
            console.print(f"changed {key}: {', '.join(fields)}", soft_wrap=True)
    members = report.memberships
    if members is not None:
        console.print(
            f"workspace memberships: {len(members.missing)} missing or with another role, "
            f"{len(members.stale)} stale"
        )
