"""Async engines and sessions. SQLite (aiosqlite) by default, PostgreSQL (asyncpg) by URL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from functools import lru_cache
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from shared import metrics, tracing
from shared.config import get_settings
from shared.db.keyed import KeyedReads


def _sqlite_engine(url: str, immediate: bool) -> AsyncEngine:
    engine = create_async_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock up front: two deferred writers that both read
        # first would otherwise deadlock on upgrade and one would fail with BUSY.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class SharedReadSession(AsyncSession):
    """The read session of one GraphQL operation, shared by all its resolvers and loaders.
    Sibling fields and loader batches run concurrently and one connection runs one statement
    at a time, so they take turns here, statement by statement. (`scalars` goes through
    `execute`; a `stream` would hold the connection past its turn and is not offered.)"""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._turn = asyncio.Lock()

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        async with self._turn:
            return await super().execute(*args, **kwargs)

    async def scalar(self, *args: Any, **kwargs: Any) -> Any:
        async with self._turn:
            return await super().scalar(*args, **kwargs)

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        async with self._turn:
            return await super().get(*args, **kwargs)

    async def get_one(self, *args: Any, **kwargs: Any) -> Any:
        async with self._turn:
            return await super().get_one(*args, **kwargs)

    async def refresh(self, *args: Any, **kwargs: Any) -> None:
        async with self._turn:
            await super().refresh(*args, **kwargs)

    async def stream(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("a shared read session does not stream; open db.read()")


class Database:
    """One per process. `read()` for queries, `write()` for a unit of work that commits."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.engine = _sqlite_engine(url, immediate=False)
            self.write_engine = _sqlite_engine(url, immediate=True)
        else:
            self.engine = create_async_engine(url, pool_pre_ping=True, pool_size=10)
            self.write_engine = self.engine
        tracing.instrument_engine(self.engine)
        metrics.watch_pool(self.engine.sync_engine, "read" if self.is_sqlite else "orm")
        if self.write_engine is not self.engine:
            tracing.instrument_engine(self.write_engine)
            metrics.watch_pool(self.write_engine.sync_engine, "write")
        self._reader = async_sessionmaker(self.engine, expire_on_commit=False)
        self._writer = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self._shared_reader = async_sessionmaker(
            self.engine, expire_on_commit=False, class_=SharedReadSession
        )
        self._write_turns: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = WeakKeyDictionary()
        self.statement_listeners: list[Callable[[str], None]] = []
        """Called with each statement sent outside the engines (`keyed`): statement counts."""
        self.keyed = KeyedReads(self)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._reader() as session:
            yield session

    @asynccontextmanager
    async def shared_read(self) -> AsyncIterator[SharedReadSession]:
        """A read session that concurrent coroutines may share (`SharedReadSession`)."""
        async with self._shared_reader() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """Commits when the block ends, rolls back on any exception."""
        async with self._write_turn(), self._writer() as session, session.begin():
            yield session

    def _write_turn(self) -> AbstractAsyncContextManager[Any]:
        """SQLite has one writer at a time, and writers that find the lock taken poll for it
        with growing sleeps (busy_timeout): under 8 concurrent writers some waited a second.
        Queueing this process's writers on an asyncio lock hands the turn over in order,
        the moment it is free; other processes still meet at busy_timeout. One lock per
        event loop, since asyncio locks belong to a loop."""
        if not self.is_sqlite:
            return nullcontext()
        loop = asyncio.get_running_loop()
        turn = self._write_turns.get(loop)
        if turn is None:
            turn = self._write_turns[loop] = asyncio.Lock()
        return turn

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.keyed.close()
        await self.engine.dispose()
        if self.write_engine is not self.engine:
            await self.write_engine.dispose()


@lru_cache
def get_database(url: str | None = None) -> Database:
    return Database(url or get_settings().resolved_database_url)
