"""`spotify-agent worker` as the compose stack runs it: its own process, stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis

from gateway.migrate import upgrade
from shared.redis import EmbeddedRedis

HEALTH_KEY = "arq:queue:health-check"


def test_the_worker_runs_its_jobs_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "redis").start()
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'worker.db'}"
    upgrade(database_url)
    environment = {
        **os.environ,
        "REDIS_URL": server.url,
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path / "data"),
        "ENV": "test",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "gateway", "worker"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    client = redis.Redis(port=server.port)
    try:
        deadline = time.monotonic() + 60
        while not client.exists(HEALTH_KEY):  # arq records its health once it is polling
            assert worker.poll() is None, worker.stdout.read() if worker.stdout else ""
            assert time.monotonic() < deadline, "the worker never reported health"
            time.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
        assert worker.returncode == 0, output
        assert "shutdown on SIGTERM" in output
        assert "Traceback" not in output
    finally:
        if worker.poll() is None:
            worker.kill()
        client.close()
        server.stop()


def test_processes_that_do_not_migrate_refuse_an_outdated_database(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'behind.db'}"
    upgrade(database_url, "platform@head")  # one branch only: the others are missing
    environment = {**os.environ, "DATABASE_URL": database_url, "DATA_DIR": str(tmp_path), "ENV": "test"}
    for command in (["serve", "--subgraph", "collaboration"], ["worker"]):
        done = subprocess.run(
            [sys.executable, "-m", "gateway", *command],
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2, done.stderr
        assert "collaboration_0001" in done.stderr and "spotify-agent migrate" in done.stderr
