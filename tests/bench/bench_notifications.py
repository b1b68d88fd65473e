"""The notifications subgraph at fan-out: ONE `collaboration.project.changed` on a project that
1,000 people follow (`BENCH_NOTIFICATIONS_RECIPIENTS` to change), consumed by a real
`ConsumerRunner.run_once` from a Redis stream, on SQLite and on PostgreSQL: the time until the
1,000 in-app notifications and 1,000 e-mail rows have committed (and the after-commit hooks, the
live pushes and the queued send jobs, have run); then the time until all 1,000 e-mails are
accepted by an SMTP sink (`gateway.mailbox.Mailbox`, real aiosmtpd in a thread) through
`send_email` run by 8 concurrent tasks sharing one pooled `Mailer` (2 connections).

The send job looks each recipient's address up in the accounts subgraph (`user(id)` through
`GraphClient`): here a stub answering that query's shape runs in a child process (a real
uvicorn + starlette server, like the accounts subgraph would be, but without its database or
authorization), because 1,000 real sign-ups would take longer than the whole bench.

Baseline: the same 1,000 messages, built beforehand, sent by a bare `aiosmtplib.SMTP` loop on
ONE already-open connection: no database, no rendering, no address lookup."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
from arq.connections import ArqRedis
from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.mailbox import Mailbox
from shared.db import Database, new_id, utcnow
from shared.db.repository import insert_new
from shared.domain_events import Consumer, ConsumerRunner, DomainEvent
from shared.redis import create_redis
from subgraphs.notifications.config import NotificationsSettings
from subgraphs.notifications.models import (
    Notification,
    NotificationEmail,
    NotificationsFollower,
    NotificationsPerson,
    NotificationsProject,
    NotificationsWorkspace,
)
from subgraphs.notifications.service import email
from subgraphs.notifications.tasks import CONSUMERS, outbound, send_email
from tests.bench.collab_platform import embedded_redis, migrated_sqlite, platform_settings, postgres_database

RECIPIENTS = int(os.environ.get("BENCH_NOTIFICATIONS_RECIPIENTS", "1000"))
SENDERS = 8
CONNECTIONS = 2
TENANT = "tnt_bench"
ACTOR = "usr_actor"
WORKSPACE = "wsp_bench"
PROJECT = "prj_bench"
STUB_READY = "stub-ready"
REPOSITORY = Path(__file__).resolve().parents[2]
LOOKUP_STUB = "address lookup: a stub of accounts' `user(id)` (uvicorn + starlette, child process)"


def _user(number: int) -> str:
    return f"usr_{number:05d}"


# The accounts stub, run in a child process (`python -c ...serve_address_stub()`).


def serve_address_stub() -> None:
    """Answers `user(id)` as the accounts subgraph would for a known user; prints its port
    once it serves. Refuses a request without a bearer token (the job must send one)."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def graphql(request: Request) -> JSONResponse:
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return JSONResponse({"errors": [{"message": "unauthenticated"}]}, status_code=401)
        body = await request.json()
        user_id = str(body["variables"]["id"])
        name = f"Person {user_id.removeprefix('usr_')}"
        return JSONResponse({"data": {"user": {"email": f"{user_id}@bench.example", "displayName": name}}})

    class Stub(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                print(STUB_READY, self.config.port, flush=True)

    listener = socket.create_server(("127.0.0.1", 0), backlog=256)
    config = uvicorn.Config(
        Starlette(routes=[Route("/graphql", graphql, methods=["POST"])]),
        host="127.0.0.1",
        port=listener.getsockname()[1],
        log_config=None,
        access_log=False,
        lifespan="off",
    )
    Stub(config).run(sockets=[listener])


@asynccontextmanager
async def address_stub() -> AsyncIterator[str]:
    """The stub's GraphQL URL, once it serves; stopped (SIGTERM, graceful) at the end."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from tests.bench.bench_notifications import serve_address_stub; serve_address_stub()",
        stdout=asyncio.subprocess.PIPE,
        cwd=REPOSITORY,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode().split()
        if len(line) != 2 or line[0] != STUB_READY:
            raise RuntimeError(f"the address stub did not start ({' '.join(line) or 'no output'})")
        yield f"http://127.0.0.1:{line[1]}/graphql"
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


# Setup (not measured): the tenant's people, a workspace, a project all of them follow.


async def _tenant(db: Database) -> None:
    people = [
        {"tenant_id": TENANT, "user_id": _user(n), "display_name": f"Person {n:05d}", "role": "member"}
        for n in range(RECIPIENTS)
    ]
    people.append({"tenant_id": TENANT, "user_id": ACTOR, "display_name": "Ann", "role": "owner"})
    followers = [
        {"tenant_id": TENANT, "project_id": PROJECT, "user_id": _user(n), "following": True}
        for n in range(RECIPIENTS)
    ]
    async with db.write() as session:
        await insert_new(session, NotificationsPerson, people, ("user_id",))
        await insert_new(
            session,
            NotificationsWorkspace,
            [{"tenant_id": TENANT, "id": WORKSPACE, "name": "Summer", "owner_id": ACTOR}],
            ("id",),
        )
        await insert_new(
            session,
            NotificationsProject,
            [{"tenant_id": TENANT, "id": PROJECT, "workspace_id": WORKSPACE, "title": "Road trip"}],
            ("id",),
        )
        await insert_new(session, NotificationsFollower, followers, ("project_id", "user_id"))


def _change() -> DomainEvent:
    return DomainEvent(
        id=new_id("dom"),
        type="collaboration.project.changed",
        version=1,
        tenant_id=TENANT,
        occurred_at=utcnow(),
        payload={
            "workspace_id": WORKSPACE,
            "project_id": PROJECT,
            "version": 7,
            "type": "PLAYLIST_DRAFT",
            "title": "Road trip",
            "content": {},
        },
        actor_id=ACTOR,
    )


class Statements:
    """SQL statements sent by a database's engines (both, on SQLite)."""

    def __init__(self, db: Database) -> None:
        self.count = 0
        engines = {id(db.engine): db.engine, id(db.write_engine): db.write_engine}
        for engine in engines.values():
            sa_event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


@dataclass
class FanOut:
    label: str
    handler_s: float = 0.0
    consume_s: float = 0.0
    consume_statements: int = 0
    notifications: int = 0
    emails: int = 0
    jobs: int = 0
    send_s: float = 0.0
    send_cpu_s: float = 0.0
    send_statements: int = 0
    accepted: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    per_send: list[float] = field(default_factory=list)


async def _consume(db: Database, redis_url: str, settings: Any, config: NotificationsSettings) -> FanOut:
    """The event through a real runner: read from the stream, handled, committed, hooks run."""
    result = FanOut("")
    platform_redis = create_redis(redis_url)
    queue = ArqRedis.from_url(redis_url)
    try:
        await platform_redis.flushdb()
        declared = CONSUMERS[0]

        async def timed(session: AsyncSession, domain_event: DomainEvent) -> None:
            started = time.perf_counter()
            await declared.handler(session, domain_event)
            result.handler_s = time.perf_counter() - started

        consumer = Consumer(declared.name, declared.events, timed, declared.max_attempts, declared.start)
        context = {
            "settings": settings,
            "subgraph_settings": {"notifications": config},
            "redis": queue,
            "platform_redis": platform_redis,
        }
        runner = ConsumerRunner(platform_redis, db, [consumer], context=context, block_ms=0)
        await runner.setup(consumer)
        change = _change()
        await platform_redis.xadd(change.stream, change.fields())  # type: ignore[arg-type]
        statements = Statements(db)
        started = time.perf_counter()
        handled = await runner.run_once(consumer, block_ms=0)
        result.consume_s = time.perf_counter() - started
        result.consume_statements = statements.count
        if handled != 1:
            raise RuntimeError(f"the runner handled {handled} entries, not 1")
        async with db.read() as session:
            result.notifications = (
                await session.execute(select(func.count()).where(col(Notification.source_key) == change.id))
            ).scalar_one()
            result.emails = (
                await session.execute(select(func.count()).select_from(NotificationEmail))
            ).scalar_one()
        result.jobs = int(await queue.zcard("arq:queue"))
        return result
    finally:
        await queue.aclose()
        await platform_redis.aclose()


async def _send_all(ctx: dict[str, Any], ids: list[str], result: FanOut) -> None:
    """`send_email` for every id, SENDERS at a time, as the worker's jobs would run them."""
    pending: asyncio.Queue[str] = asyncio.Queue()
    for email_id in ids:
        pending.put_nowait(email_id)

    async def sender() -> None:
        while not pending.empty():
            email_id = pending.get_nowait()
            started = time.perf_counter()
            done = await send_email(ctx, email_id)
            result.per_send.append(time.perf_counter() - started)
            result.statuses[done["status"]] += 1

    await asyncio.gather(*(sender() for _ in range(SENDERS)))


async def _queued_ids(db: Database) -> list[str]:
    async with db.read() as session:
        rows = await session.execute(
            select(col(NotificationEmail.id))
            .where(col(NotificationEmail.status) == email.QUEUED)
            .order_by(col(NotificationEmail.id))
        )
        return list(rows.scalars())


async def _fan_out(
    label: str, root: Path, url: str, redis_url: str, mailbox: Mailbox, graph_url: str
) -> tuple[FanOut, list[EmailMessage]]:
    """The measured run on one database; also returns the messages it sent, built again."""
    settings = platform_settings(root, url)
    config = NotificationsSettings(
        smtp_host="127.0.0.1",
        smtp_port=mailbox.smtp_port,
        smtp_connections=CONNECTIONS,
        notifications_graph_url=graph_url,
    )
    db = Database(url)
    try:
        await _tenant(db)
        result = await _consume(db, redis_url, settings, config)
        result.label = label
        ids = await _queued_ids(db)
        ctx: dict[str, Any] = {"db": db, "settings": settings, "subgraph_settings": {"notifications": config}}
        out = outbound(ctx)  # made once per worker, before any job
        mailbox.store.clear()
        try:
            statements = Statements(db)
            started, cpu = time.perf_counter(), time.process_time()
            await _send_all(ctx, ids, result)
            result.send_s = time.perf_counter() - started
            result.send_cpu_s = time.process_time() - cpu
            result.send_statements = statements.count
            result.accepted = len(mailbox.store.ids())
            messages = await _messages(db, out, ids)
        finally:
            await _close(out)
        return result, messages
    finally:
        await db.dispose()


async def _messages(db: Database, out: email.Outbound, ids: list[str]) -> list[EmailMessage]:
    """The messages the send job composed (`build_message` under `compose`), made again."""
    async with db.read() as session:
        rows = (
            await session.execute(select(NotificationEmail).where(col(NotificationEmail.id).in_(ids)))
        ).scalars()
        return [
            email.compose(
                out,
                row,
                f"{row.recipient_id}@bench.example",
                email.Reader(f"Person {(row.recipient_id or '').removeprefix('usr_')}", "en", True),
            )
            for row in rows
        ]


async def _close(out: email.Outbound) -> None:
    closing: Callable[[], Awaitable[None]] | None = getattr(out.mailer, "aclose", None)
    if closing is not None:
        await closing()
    await out.graph.aclose()


async def _bare_smtp(mailbox: Mailbox, messages: list[EmailMessage]) -> float:
    """Seconds for a bare aiosmtplib loop on one already-open connection."""
    mailbox.store.clear()
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=mailbox.smtp_port, timeout=10)
    await client.connect()
    try:
        started = time.perf_counter()
        for message in messages:
            await client.send_message(message)
        elapsed = time.perf_counter() - started
    finally:
        await client.quit()
    accepted = len(mailbox.store.ids())
    if accepted != len(messages):
        raise RuntimeError(f"the sink holds {accepted} of {len(messages)} bare-loop messages")
    return elapsed


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"p50 {1000 * statistics.median(ordered):6.1f} ms  p95 {1000 * p95:6.1f} ms"


def _report(result: FanOut, bare_s: float) -> None:
    label = result.label
    print(
        f"  {label:<10} in-app + mail rows stored: {result.notifications:,} notifications, {result.emails:,} "
        f"e-mails in {1000 * result.consume_s:,.0f} ms (runner pass: handler {1000 * result.handler_s:,.0f} ms, "
        f"then commit and after-commit hooks; {result.consume_statements:,} SQL statements, "
        f"{result.jobs:,} send jobs queued)"
    )
    sent = result.statuses.get(email.SENT, 0)
    others = ", ".join(
        f"{n} {status}" for status, n in sorted(result.statuses.items()) if status != email.SENT
    )
    print(
        f"  {'':<10} all mails accepted by the sink: {result.accepted:,} in {result.send_s:.2f} s "
        f"({sent:,} SENT{', ' + others if others else ''}; {SENDERS} tasks, one Mailer of {CONNECTIONS} "
        f"connections; {result.send_statements / max(1, len(result.per_send)):.1f} SQL statements per mail; "
        f"this process's CPU {result.send_cpu_s:.1f} s, the sink's thread included)"
    )
    print(
        f"  {'':<10} {len(result.per_send) / result.send_s:,.0f} e-mails/s over the pooled connections; "
        f"bare aiosmtplib loop on one open connection {RECIPIENTS / bare_s:,.0f} e-mails/s "
        f"({bare_s:.2f} s): send_email is {result.send_s / bare_s:.1f}x the bare loop"
    )


async def run() -> None:
    logging.getLogger().setLevel(logging.WARNING)
    root = Path(tempfile.mkdtemp(prefix="bench-notifications-"))
    print(
        f"one `collaboration.project.changed` to {RECIPIENTS:,} followers (real ConsumerRunner pass), then "
        f"send_email for each ({LOOKUP_STUB}; SMTP sink: gateway.mailbox.Mailbox, aiosmtpd in a thread):"
    )
    results: list[FanOut] = []
    async with AsyncExitStack() as stack:
        stack.callback(shutil.rmtree, root, ignore_errors=True)  # last, once everything has stopped
        redis = await stack.enter_async_context(embedded_redis(root))
        mailbox = await stack.enter_async_context(
            Mailbox(root / "mailbox", smtp_port=0, web_port=0, keep=2 * RECIPIENTS)
        )
        graph_url = await stack.enter_async_context(address_stub())
        sqlite_url = await migrated_sqlite(root / "sqlite")
        result, messages = await _fan_out(
            "SQLite", root / "sqlite", sqlite_url, redis.url, mailbox, graph_url
        )
        bare_s = await _bare_smtp(mailbox, messages)
        _report(result, bare_s)
        results.append(result)
        pg_url = await stack.enter_async_context(postgres_database())
        result, messages = await _fan_out("PostgreSQL", root / "pg", pg_url, redis.url, mailbox, graph_url)
        bare_s = await _bare_smtp(mailbox, messages)
        _report(result, bare_s)
        results.append(result)
    print(f"`email.send` per message under {SENDERS} concurrent sends (wall time of each send_email):")
    for result in results:
        print(f"  {result.label:<10} {_ms(result.per_send)}")
