"""SQLite writers of one process take turns in arrival order instead of polling for the lock."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from shared.db import Database


async def test_writers_take_turns_in_arrival_order(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}")
    try:
        async with database.write() as session:
            await session.execute(text("CREATE TABLE entry (writer INTEGER NOT NULL)"))
        started: list[int] = []

        async def writer(number: int) -> None:
            async with database.write() as session:
                started.append(number)
                await session.execute(text("INSERT INTO entry (writer) VALUES (:n)"), {"n": number})
                await asyncio.sleep(0.02)  # hold the lock while the others queue up

        tasks = []
        for number in range(8):
            tasks.append(asyncio.create_task(writer(number)))
            await asyncio.sleep(0)  # let each one arrive before the next
        await asyncio.gather(*tasks)

        assert started == list(range(8))
        async with database.read() as session:
            rows = (await session.execute(text("SELECT writer FROM entry ORDER BY rowid"))).scalars().all()
        assert list(rows) == list(range(8))
    finally:
        await database.dispose()
