"""One read session per operation, shared by every resolver and loader of it. Sibling root
fields and loaders resolve concurrently, so the session takes its statements one at a time."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import text

from shared.context import RequestContext
from shared.db import Database


async def test_concurrent_resolvers_share_one_session_without_colliding(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}")
    try:
        async with database.write() as session:
            await session.execute(text("CREATE TABLE entry (n INTEGER NOT NULL)"))
            await session.execute(text("INSERT INTO entry (n) VALUES (1), (2), (3)"))
        context: RequestContext[Any, Any] = RequestContext(runtime=SimpleNamespace(db=database))  # type: ignore[arg-type]

        async def resolver(n: int) -> tuple[int, int]:
            session = await context.session()
            total = (await session.execute(text("SELECT sum(n) FROM entry"))).scalar_one()
            count = await session.scalar(text("SELECT count(*) FROM entry WHERE n <= :n"), {"n": n})
            return total, count

        results = await asyncio.gather(*(resolver(n) for n in (1, 2, 3, 1, 2, 3)))

        assert results == [(6, 1), (6, 2), (6, 3), (6, 1), (6, 2), (6, 3)]
        assert context._session is await context.session()
    finally:
        await context.close()
        await database.dispose()
