"""The platform of the collaboration benchmarks, one process per piece so that client load
and server load are measured apart: embedded Redis, the accounts and collaboration
subgraphs under uvicorn in a child process, the Node router, a throwaway PostgreSQL."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from gateway import serving
from gateway.composition import write_supergraph
from gateway.host import build_runtimes, create_host_app, definitions
from gateway.migrate import upgrade
from gateway.router_process import RouterProcess
from shared.config import Settings
from shared.logging import configure_logging
from shared.redis import EmbeddedRedis, free_port
from tests.support.databases import PostgresFactory
from tests.support.postgres import PostgresCluster

SUBGRAPH_NAMES = ("accounts", "collaboration")


REPOSITORY = Path(__file__).resolve().parents[2]


def serve_subgraphs(settings_json: str, redis_url: str, names: str = ",".join(SUBGRAPH_NAMES)) -> None:
    """Child process entry: the subgraph host served the way the design asks (uvloop, httptools)."""
    settings = Settings.model_validate_json(settings_json)
    configure_logging(settings.log_level, settings.log_json)  # as the CLI does for `make dev`
    runtimes = build_runtimes(settings, redis_url, names.split(","))
    serving.run(
        create_host_app(runtimes),
        host="127.0.0.1",
        port=settings.subgraph_port,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        lifespan="on",
    )


class SubgraphHost:
    """The subgraph host in a child interpreter (a plain subprocess: multiprocessing would
    re-import the caller's main module, which a script calling `run()` may not guard)."""

    def __init__(self, settings: Settings, redis_url: str, names: tuple[str, ...] = SUBGRAPH_NAMES) -> None:
        self.settings = settings
        self.redis_url = redis_url
        self.names = names
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.subgraph_port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def _spawn(self) -> None:
        code = "import sys; from tests.bench.collab_platform import serve_subgraphs; serve_subgraphs(*sys.argv[1:])"
        log = (self.settings.data_dir / "subgraphs.log").open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                code,
                self.settings.model_dump_json(),
                self.redis_url,
                ",".join(self.names),
            ],
            cwd=REPOSITORY,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()  # the child holds its own descriptor

    async def start(self, timeout: float = 60) -> SubgraphHost:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self._spawn()
        assert self.process is not None
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"subgraph host exited ({self.process.returncode}), see its log")
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError("subgraph host did not start")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # uvicorn shuts down gracefully on SIGTERM
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


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
) -> AsyncIterator[SubgraphHost]:
    host = SubgraphHost(settings, redis_url, names)
    try:
        yield await host.start()
    finally:
        await asyncio.to_thread(host.stop)


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
