"""The Hive Gateway router (Node) as a child process: started, awaited until ready, stopped."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

import httpx

from shared.processes import dying_with_us, stop_process

ROUTER_DIR = Path(__file__).resolve().parent / "router"
BIN = ROUTER_DIR / "node_modules" / "@graphql-hive" / "gateway" / "dist" / "bin.js"
READY_PATH = "/readyz"  # gateway.config.mjs renames the gateway's /readiness (and /healthcheck -> /healthz)


class RouterNotInstalledError(RuntimeError):
    pass


def ensure_node_modules() -> None:
    if not BIN.exists():
        raise RouterNotInstalledError(
            f"router dependencies missing ({BIN} not found): run `npm ci` in {ROUTER_DIR} (`make deps` does)"
        )


def _source(supergraph: str | Path) -> str:
    text = str(supergraph)
    # The router runs in its own directory: a relative file path would point elsewhere.
    return text if text.startswith(("http://", "https://")) else str(Path(text).resolve())


# V8's old generation is capped (ROUTER_HEAP_MB): left to its default (~2 GB here) the router
# grew from ~250 MB to 450-760 MB under a minute of load before collecting, on a machine whose
# memory it shares with everything else. At 256 MB its RSS stayed at ~265 MB after short loads and
# ~336 MB, flat, over a 5-minute soak (297 MB after 60 s once GraphiQL's page was loaded lazily);
# at 128 MB it did not start (its heap after start-up is larger), so 256 keeps a margin.
DEFAULT_HEAP_MB = 256


def router_command(supergraph: str, port: int, host: str = "127.0.0.1") -> list[str]:
    """The command line, to run with cwd=ROUTER_DIR. The source goes in env SUPERGRAPH rather than
    the CLI argument: the config watches the file itself (see gateway.config.mjs for why)."""
    heap = int(os.environ.get("ROUTER_HEAP_MB") or DEFAULT_HEAP_MB)
    return [
        "env",
        f"SUPERGRAPH={_source(supergraph)}",
        "node",
        f"--max-old-space-size={heap}",
        str(BIN),
        "supergraph",
        "--host",
        host,
        "--port",
        str(port),
    ]


class RouterProcess:
    """`with RouterProcess(...)` or `async with RouterProcess(...)`: running and ready inside."""

    def __init__(
        self,
        supergraph: str | Path,
        port: int,
        host: str = "127.0.0.1",
        log_path: Path | None = None,
        ready_timeout: float = 60,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """`env`: extra environment for the router process, over this process's own."""
        self.supergraph = str(supergraph)
        self.port = port
        self.host = host
        self.log_path = log_path or Path(f"/tmp/spotify-agent-router-{port}.log")
        self.ready_timeout = ready_timeout
        self.env = dict(env or {})
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _spawn(self) -> None:
        ensure_node_modules()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            dying_with_us(router_command(self.supergraph, self.port, self.host)),
            cwd=ROUTER_DIR,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "NO_COLOR": "1", **self.env},  # NO_COLOR: plain text in the log file
        )

    def _check_alive(self) -> None:
        if self.process is None or self.process.poll() is not None:
            code = None if self.process is None else self.process.returncode
            self.stop()
            raise RuntimeError(f"router exited ({code}) before it was ready; see {self.log_path}")

    def _not_ready(self) -> RuntimeError:
        self.stop()
        return RuntimeError(f"router not ready after {self.ready_timeout}s; see {self.log_path}")

    def start(self) -> RouterProcess:
        self._spawn()
        deadline = time.monotonic() + self.ready_timeout
        with httpx.Client(base_url=self.url, timeout=2) as client:
            while time.monotonic() < deadline:
                self._check_alive()
                try:
                    if client.get(READY_PATH).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
        raise self._not_ready()

    async def astart(self) -> RouterProcess:
        self._spawn()
        deadline = time.monotonic() + self.ready_timeout
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as client:
            while time.monotonic() < deadline:
                self._check_alive()
                try:
                    if (await client.get(READY_PATH)).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.05)
        raise self._not_ready()

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> RouterProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> RouterProcess:
        return await self.astart()

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)
