"""Keyed reads of tenant-scoped rows off the ORM: the request path's most frequent query (the
loaders' "these ids of this tenant") as one prepared statement per shape, rows built with
`model_construct` and converted by the same SQLAlchemy type processors the ORM would use.

Why: through an `AsyncSession` one primary-key read costs ~800-1,300 µs of CPU (statement
construction, ORM loading, aiosqlite's thread hop); the raw drivers cost 5 µs (sqlite3) and a
few tens (asyncpg). Writes, and reads inside a unit of work, stay on the ORM.

- SQLite: a read-only sqlite3 connection per thread, called in the caller's thread. Under WAL a
  reader never waits for a writer, and a point read costs less than the hop to a worker thread.
  Each statement is its own read transaction: it sees what was committed before it ran.
- PostgreSQL: an asyncpg pool per event loop; asyncpg prepares each statement once per
  connection and reuses it.

Rows are the models' instances without an ORM session (read-only: change them through a
repository in a unit of work)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import configure_mappers
from sqlmodel import SQLModel

from shared import metrics, tracing

if TYPE_CHECKING:
    from shared.db.engine import Database

M = TypeVar("M", bound=SQLModel)
Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Shape:
    table: str
    sql: str
    columns: tuple[str, ...]
    processors: tuple[Processor, ...]


class KeyedReads:
    """`database.keyed.fetch(Model, tenant_id, values=ids)`: the rows of `Model` in the tenant
    whose `key` (default `id`) is one of `values`, with `equals` further column filters."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.dialect: Dialect = database.engine.dialect
        self._shapes: dict[tuple[Any, ...], _Shape] = {}
        self._local = threading.local()
        self._pools: WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = WeakKeyDictionary()
        self._sqlite_path = _sqlite_path(database.url) if database.is_sqlite else None
        self._open, self._in_use = metrics.pool_gauges("keyed")

    @property
    def in_process(self) -> bool:
        """False for an in-memory SQLite database (one per connection): callers use a session."""
        return not self.database.is_sqlite or self._sqlite_path is not None

    def _shape(
        self,
        model: type[SQLModel],
        equals: tuple[str, ...],
        include_deleted: bool,
        *,
        key: str | None = None,
        order: str | None = None,
        after: bool = False,
    ) -> _Shape:
        """`key`: rows whose `key` is in a list; `order`: a page ordered by `order`, from
        `after` (exclusive), with a limit. Parameters: tenant, `equals`..., then the list, or
        the `after` value (when given) and the limit."""
        cache_key = (model, equals, include_deleted, key, order, after)
        shape = self._shapes.get(cache_key)
        if shape is not None:
            return shape
        # Instances made by `model_construct` need the mappers configured (the ORM does it on
        # first use; a process may read here before it has used the ORM at all).
        configure_mappers()
        table = model.__table__  # type: ignore[attr-defined]
        columns = tuple(column.name for column in table.columns)
        processors = tuple(
            column.type.dialect_impl(self.dialect).result_processor(self.dialect, None)
            for column in table.columns
        )
        numbers = iter(range(1, 100))
        mark = (lambda: "?") if self.database.is_sqlite else (lambda: f"${next(numbers)}")
        filters = [f"tenant_id = {mark()}", *(f"{column} = {mark()}" for column in equals)]
        if key is not None:
            filters.append(
                f"{key} IN (SELECT value FROM json_each({mark()}))"
                if self.database.is_sqlite
                else f"{key} = ANY({mark()}::text[])"
            )
        if order is not None and after:
            filters.append(f"{order} > {mark()}")
        if not include_deleted and "deleted_at" in columns:
            filters.append("deleted_at IS NULL")
        quoted = ", ".join(f'"{name}"' for name in columns)
        sql = f"SELECT {quoted} FROM {table.name} WHERE {' AND '.join(filters)}"
        if order is not None:
            sql += f" ORDER BY {order} LIMIT {mark()}"
        shape = self._shapes[cache_key] = _Shape(table.name, sql, columns, processors)
        return shape

    async def fetch(
        self,
        model: type[M],
        tenant_id: str,
        *,
        values: Sequence[str],
        key: str = "id",
        equals: Mapping[str, Any] | None = None,
        include_deleted: bool = False,
    ) -> list[M]:
        """The rows whose `key` is one of `values` (in no particular order)."""
        wanted = list(dict.fromkeys(values))
        if not wanted:
            return []
        equals = equals or {}
        shape = self._shape(model, tuple(equals), include_deleted, key=key)
        list_param: Any = json.dumps(wanted) if self.database.is_sqlite else wanted
        return await self._run(model, shape, [_tenant(tenant_id), *equals.values(), list_param])

    async def page(
        self,
        model: type[M],
        tenant_id: str,
        *,
        order: str,
        limit: int,
        after: str | None = None,
        equals: Mapping[str, Any] | None = None,
        include_deleted: bool = False,
    ) -> list[M]:
        """Up to `limit` rows matching `equals`, ordered by `order`, after `after` (keyset)."""
        equals = equals or {}
        shape = self._shape(model, tuple(equals), include_deleted, order=order, after=after is not None)
        params = [_tenant(tenant_id), *equals.values(), *([after] if after is not None else []), limit]
        return await self._run(model, shape, params)

    async def _run(self, model: type[M], shape: _Shape, params: list[Any]) -> list[M]:
        for listener in self.database.statement_listeners:
            listener(shape.sql)
        system = "sqlite" if self._sqlite_path is not None else "postgresql"
        with tracing.client_span(f"SELECT {shape.table}", **{"db.system": system, "db.statement": shape.sql}):
            if self._sqlite_path is not None:
                rows: Sequence[Sequence[Any]] = self._sqlite().execute(shape.sql, params).fetchall()
            else:
                pool = await self._pool()
                async with pool.acquire() as connection:
                    self._in_use.inc()
                    self._open.set(pool.get_size())
                    try:
                        rows = await connection.fetch(shape.sql, *params)
                    finally:
                        self._in_use.dec()
        return [_construct(model, shape, row) for row in rows]

    def _sqlite(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(
                self._sqlite_path or "", isolation_level=None, check_same_thread=True
            )
            connection.execute("PRAGMA query_only=ON")
            connection.execute("PRAGMA busy_timeout=5000")
            self._local.connection = connection
            self._open.inc()
        return connection

    async def _pool(self) -> Any:
        import asyncpg

        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            url = make_url(self.database.url).set(drivername="postgresql")
            pool = await asyncpg.create_pool(
                url.render_as_string(hide_password=False),
                min_size=1,
                max_size=10,
                init=_json_codecs,
                reset=_nothing_to_reset,
            )
            self._pools[loop] = pool
        return pool

    async def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None
            self._open.dec()
        loop = asyncio.get_running_loop()
        pool = self._pools.pop(loop, None)
        if pool is not None:
            await pool.close()


def _tenant(tenant_id: str) -> str:
    if not tenant_id:
        raise ValueError("a keyed read needs a tenant id")
    return tenant_id


def _construct(model: type[M], shape: _Shape, row: Sequence[Any]) -> M:
    values = {
        name: processor(value) if processor is not None and value is not None else value
        for name, processor, value in zip(shape.columns, shape.processors, row, strict=True)
    }
    return model.model_construct(**values)  # type: ignore[return-value]


async def _json_codecs(connection: Any) -> None:
    # As SQLAlchemy's asyncpg dialect does: JSON arrives decoded, its type processors expect that.
    for name in ("json", "jsonb"):
        await connection.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _nothing_to_reset(_connection: Any) -> None:
    # The default reset (RESET ALL, UNLISTEN *, ...) is a round trip per release; these
    # connections only ever run the reads above and change no session state.
    return None


def _sqlite_path(url: str) -> str | None:
    path = make_url(url).database
    return path if path and path != ":memory:" else None
