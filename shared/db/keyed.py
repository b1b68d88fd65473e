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

if TYPE_CHECKING:
    from shared.db.engine import Database

M = TypeVar("M", bound=SQLModel)
Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Shape:
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

    @property
    def in_process(self) -> bool:
        """False for an in-memory SQLite database (one per connection): callers use a session."""
        return not self.database.is_sqlite or self._sqlite_path is not None

    def _shape(
        self, model: type[SQLModel], key: str, equals: tuple[str, ...], include_deleted: bool
    ) -> _Shape:
        cache_key = (model, key, equals, include_deleted)
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
        sqlite = self.database.is_sqlite
        filters = ["tenant_id = ?" if sqlite else "tenant_id = $1"]
        for number, column in enumerate(equals, start=2):
            filters.append(f"{column} = ?" if sqlite else f"{column} = ${number}")
        last = len(equals) + 2
        filters.append(
            f"{key} IN (SELECT value FROM json_each(?))" if sqlite else f"{key} = ANY(${last}::text[])"
        )
        if not include_deleted and "deleted_at" in columns:
            filters.append("deleted_at IS NULL")
        quoted = ", ".join(f'"{name}"' for name in columns)
        sql = f"SELECT {quoted} FROM {table.name} WHERE {' AND '.join(filters)}"
        shape = self._shapes[cache_key] = _Shape(sql, columns, processors)
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
        if not tenant_id:
            raise ValueError("a keyed read needs a tenant id")
        wanted = list(dict.fromkeys(values))
        if not wanted:
            return []
        equals = equals or {}
        shape = self._shape(model, key, tuple(equals), include_deleted)
        for listener in self.database.statement_listeners:
            listener(shape.sql)
        params = [tenant_id, *equals.values()]
        if self._sqlite_path is not None:
            rows: Sequence[Sequence[Any]] = (
                self._sqlite().execute(shape.sql, (*params, json.dumps(wanted))).fetchall()
            )
        else:
            pool = await self._pool()
            rows = await pool.fetch(shape.sql, *params, wanted)
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
        loop = asyncio.get_running_loop()
        pool = self._pools.pop(loop, None)
        if pool is not None:
            await pool.close()


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
