"""Counts real upstream work: SQL statements sent by an engine or by the keyed reads."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from shared.db import Database


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def count_statements(database: Database) -> Iterator[StatementCounter]:
    counter = StatementCounter()
    engines = {id(e): e for e in (database.engine, database.write_engine)}.values()

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "COMMIT", "ROLLBACK")):
            counter.statements.append(statement)

    def keyed(statement: str) -> None:
        counter.statements.append(statement)

    for engine in engines:
        event.listen(engine.sync_engine, "before_cursor_execute", record)
    database.statement_listeners.append(keyed)
    try:
        yield counter
    finally:
        database.statement_listeners.remove(keyed)
        for engine in engines:
            event.remove(engine.sync_engine, "before_cursor_execute", record)
