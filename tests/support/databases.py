"""Fresh, migrated databases per test: migrate a template once, then copy it."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import asyncpg

from gateway.migrate import upgrade
from tests.support.postgres import PostgresCluster

T = TypeVar("T")


def seed_offline_catalogue(url: str) -> None:
    """Every test database starts with the offline Spotify catalogue, like `make dev`."""
    from shared.db import Database
    from subgraphs.spotify.catalogue.offline import seed_catalogue

    async def run() -> None:
        database = Database(url)
        try:
            await seed_catalogue(database, announce=False)
        finally:
            await database.dispose()

    asyncio.run(run())


def off_loop(fn: Callable[[], T]) -> T:
    """Alembic's env and asyncpg set-up call asyncio.run: keep them off the test loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn).result()


class SqliteFactory:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.template = directory / "template.db"
        off_loop(lambda: upgrade(f"sqlite+aiosqlite:///{self.template}"))
        off_loop(lambda: seed_offline_catalogue(f"sqlite+aiosqlite:///{self.template}"))

    def new(self) -> str:
        path = self.directory / f"{uuid.uuid4().hex}.db"
        shutil.copyfile(self.template, path)
        return f"sqlite+aiosqlite:///{path}"


class PostgresFactory:
    TEMPLATE = "platform_template"

    def __init__(self, cluster: PostgresCluster) -> None:
        self.cluster = cluster
        off_loop(lambda: asyncio.run(self._execute(f"CREATE DATABASE {self.TEMPLATE}")))
        off_loop(lambda: upgrade(cluster.url(self.TEMPLATE)))
        off_loop(lambda: seed_offline_catalogue(cluster.url(self.TEMPLATE)))

    async def _execute(self, sql: str) -> None:
        connection = await asyncpg.connect(
            host="127.0.0.1", port=self.cluster.port, user="app", database="postgres"
        )
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    def new(self) -> str:
        name = f"t_{uuid.uuid4().hex[:16]}"
        off_loop(lambda: asyncio.run(self._execute(f"CREATE DATABASE {name} TEMPLATE {self.TEMPLATE}")))
        return self.cluster.url(name)
