"""The subgraph host as its own processes: one uvicorn supervisor and `workers` processes
sharing its listening socket, so the host uses every core. Nothing a worker holds must be
shared with another: sessions, revocations, policies, streams and presence live in the
database and Redis. (Each worker keeps its own SQLite writer queue; across workers, SQLite
writers meet at its busy timeout.)

`HostProcess` starts it (from `make dev` and the benchmarks) and waits until it answers;
`python -m gateway.host_process` is the child's entry, its spec in the environment."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO, Any

import httpx
import uvicorn
from starlette.applications import Starlette
from uvicorn.supervisors.multiprocess import Multiprocess

from gateway.serving import KEEP_ALIVE_SECONDS
from shared import tracing
from shared.config import Settings
from shared.heap import settle_after_startup
from shared.processes import dying_with_us, stop_process

SPEC_ENV = "SPOTIFY_AGENT_HOST_SPEC"
REPOSITORY = Path(__file__).resolve().parents[1]


def worker_count(settings: Settings) -> int:
    return settings.host_workers or os.cpu_count() or 1


def app_from_environment() -> Starlette:
    """uvicorn's factory in each worker: the host app of the subgraphs named in the spec."""
    from gateway.host import build_runtimes, create_host_app
    from shared.logging import configure_logging

    spec = json.loads(os.environ[SPEC_ENV])
    settings = Settings.model_validate(spec["settings"])
    configure_logging(settings.log_level, settings.log_json)
    tracing.configure("spotify-agent-subgraphs")
    app = create_host_app(build_runtimes(settings, spec["redis_url"], spec["names"]))
    started = app.router.lifespan_context

    @asynccontextmanager
    async def settled(app: Starlette) -> AsyncIterator[None]:
        async with started(app):
            settle_after_startup()  # what gateway.serving.Server does for a single process
            yield

    app.router.lifespan_context = settled
    return app


def main() -> None:
    spec = json.loads(os.environ[SPEC_ENV])
    settings = Settings.model_validate(spec["settings"])
    workers = int(spec["workers"])
    config = uvicorn.Config(
        "gateway.host_process:app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.subgraph_port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        lifespan="on",
        log_config=None,
        access_log=False,
        ws_per_message_deflate=False,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    if workers == 1:
        uvicorn.Server(config).run()
    else:
        Multiprocess(config, sockets=[config.bind_socket()]).run()


class HostProcess:
    """`async with HostProcess(settings, redis_url, names)`: serving and healthy inside."""

    def __init__(
        self,
        settings: Settings,
        redis_url: str,
        names: Sequence[str],
        *,
        workers: int | None = None,
        log_path: Path | None = None,
        ready_timeout: float = 90,
        env: dict[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.redis_url = redis_url
        self.names = list(names)
        self.workers = workers or worker_count(settings)
        self.log_path = log_path
        """Where its output goes; None: this process's stdout and stderr."""
        self.metrics_dir = settings.data_dir / "metrics" / f"host-{settings.subgraph_port}"
        """The workers' shared Prometheus files (emptied at each start)."""
        self.ready_timeout = ready_timeout
        self.env = dict(env or {})
        """Extra environment of the host's processes."""
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.subgraph_port}"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("the host is not running")
        return self.process.pid

    def _spawn(self) -> None:
        spec: dict[str, Any] = {
            "settings": json.loads(self.settings.model_dump_json()),
            "redis_url": self.redis_url,
            "names": self.names,
            "workers": self.workers,
        }
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("ab")
        shutil.rmtree(self.metrics_dir, ignore_errors=True)
        self.metrics_dir.mkdir(parents=True)
        self.process = subprocess.Popen(
            dying_with_us([sys.executable, "-m", "gateway.host_process"]),
            cwd=REPOSITORY,
            env={
                **os.environ,
                SPEC_ENV: json.dumps(spec),
                "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir),
                **self.env,
            },
            stdout=self._log,
            stderr=subprocess.STDOUT if self._log else None,
            stdin=subprocess.DEVNULL,
        )

    async def astart(self) -> HostProcess:
        self._spawn()
        deadline = time.monotonic() + self.ready_timeout
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as client:
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError(
                        f"subgraph host exited before it was ready; see {self.log_path or 'its output'}"
                    )
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"subgraph host not ready after {self.ready_timeout}s; see {self.log_path or 'its output'}"
        )

    @property
    def _output(self) -> str:
        return str(self.log_path) if self.log_path else "its output above"

    async def exited(self) -> None:
        """Returns when the host's supervisor has ended."""
        if self.process is not None:
            await asyncio.to_thread(self.process.wait)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, grace=30)  # the supervisor stops its workers gracefully
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    async def __aenter__(self) -> HostProcess:
        return await self.astart()

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)


if __name__ == "__main__":
    main()
