"""The Hive Gateway router as a child process: started, awaited until ready, stopped."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import IO

import httpx

ROUTER_DIR = Path(__file__).resolve().parent / "router"
BIN = ROUTER_DIR / "node_modules" / "@graphql-hive" / "gateway" / "dist" / "bin.js"


def ensure_node_modules() -> None:
    if not BIN.exists():
        raise RuntimeError(f"router dependencies missing: run `npm ci` in {ROUTER_DIR} (make dev does)")


def router_command(supergraph: str, port: int, host: str = "127.0.0.1") -> list[str]:
    return ["node", str(BIN), "supergraph", supergraph, "--host", host, "--port", str(port)]


class RouterProcess:
    def __init__(
        self, supergraph: str, port: int, host: str = "127.0.0.1", log_path: Path | None = None
    ) -> None:
        # The router runs in its own directory: a local file must be named absolutely.
        is_url = supergraph.startswith(("http://", "https://"))
        self.supergraph = supergraph if is_url else str(Path(supergraph).resolve())
        self.port = port
        self.host = host
        self.log_path = log_path or Path(f"/tmp/spotify-agent-router-{port}.log")
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 90) -> RouterProcess:
        ensure_node_modules()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        env = {
            **os.environ,
            "ROUTER_PORT": str(self.port),
            "ROUTER_HOST": self.host,
            "NODE_ENV": "production",
        }
        env.pop("SUPERGRAPH", None)  # the argument names the source
        self.process = subprocess.Popen(
            router_command(self.supergraph, self.port, self.host),
            cwd=ROUTER_DIR,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"router exited with {self.process.returncode}; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/readiness", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"router not ready after {timeout}s; see {self.log_path}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> RouterProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
