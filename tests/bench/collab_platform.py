"""The platform of the collaboration benchmarks, one process per piece so that client load
and server load are measured apart: embedded Redis, the accounts and collaboration
subgraphs under uvicorn in a child process, the Node router, a throwaway PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from gateway.composition import write_supergraph
from gateway.host import definitions
from gateway.host_process import HostProcess
from gateway.migrate import upgrade
from gateway.router_process import RouterProcess
from shared.config import Settings
from shared.redis import EmbeddedRedis, free_port
from tests.support.databases import PostgresFactory
from tests.support.postgres import PostgresCluster

SUBGRAPH_NAMES = ("accounts", "collaboration")


def platform_settings(directory: Path, database_url: str) -> Settings:
    # env "test": JWT keys are generated into the data dir, introspection is off as in production.
    return Settings(
        env="test",
        data_dir=directory,
        database_url=database_url,
        subgraph_port=free_port(),
        router_port=free_port(),
        log_level="WARNING",
    )


async def migrated_sqlite(directory: Path) -> str:
    """A fresh migrated database file in `directory` (created)."""
    url = f"sqlite+aiosqlite:///{directory / 'bench.db'}"

    def create() -> None:
        directory.mkdir(parents=True, exist_ok=True)
        upgrade(url)  # alembic's env calls asyncio.run: keep it off the running loop

    await asyncio.to_thread(create)
    return url


@asynccontextmanager
async def embedded_redis(directory: Path) -> AsyncIterator[EmbeddedRedis]:
    redis = await asyncio.to_thread(EmbeddedRedis(directory / "redis").start)
    try:
        yield redis
    finally:
        redis.stop()


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A migrated database in a throwaway PostgreSQL 15 cluster."""
    cluster = PostgresCluster()
    try:
        await asyncio.to_thread(cluster.start)
        factory = await asyncio.to_thread(PostgresFactory, cluster)
        yield await asyncio.to_thread(factory.new)
    finally:
        await asyncio.to_thread(cluster.stop)


@asynccontextmanager
async def subgraph_host(
    settings: Settings, redis_url: str, names: tuple[str, ...] = SUBGRAPH_NAMES
) -> AsyncIterator[HostProcess]:
    """The subgraph host as `make dev` runs it, in one process here: its CPU is one figure."""
    log = settings.data_dir / "subgraphs.log"
    async with HostProcess(settings, redis_url, names, workers=1, log_path=log) as host:
        yield host


@asynccontextmanager
async def router(
    settings: Settings, names: tuple[str, ...] = SUBGRAPH_NAMES, env: dict[str, str] | None = None
) -> AsyncIterator[RouterProcess]:
    supergraph = settings.data_dir / "supergraph.graphql"
    await asyncio.to_thread(write_supergraph, definitions(settings, names), supergraph)
    process = RouterProcess(
        supergraph, port=settings.router_port, log_path=settings.data_dir / "router.log", env=env
    )
    async with process:
        yield process


@dataclass(frozen=True)
class ProcessGauge:
    """Resident memory and CPU time of one process (the router is `node` itself: `env` execs it)."""

    pid: int

    def rss_bytes(self) -> int:
        status = Path(f"/proc/{self.pid}/status").read_text()
        kilobytes = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(kilobytes) * 1024

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.pid).cpu_times()
        return float(times.user + times.system)

    def connections_on(self, port: int) -> int:
        """Established TCP connections this process accepted on `port`."""
        return sum(
            1
            for connection in psutil.Process(self.pid).net_connections(kind="tcp")
            if connection.status == psutil.CONN_ESTABLISHED and connection.laddr.port == port
        )
