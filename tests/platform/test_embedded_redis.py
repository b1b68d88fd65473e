"""The embedded redis-server never outlives the process that started it."""

from __future__ import annotations

import subprocess
import sys
import threading

import psutil
import redis

from shared.processes import dying_with_us
from shared.redis import EmbeddedRedis

STARTER = """
import sys, time
from shared.processes import dying_with_us
from shared.redis import EmbeddedRedis
server = EmbeddedRedis().start()
print(server.process.pid, server.port, flush=True)
time.sleep(120)
"""


def test_a_killed_parent_takes_its_redis_server_along() -> None:
    parent = subprocess.Popen([sys.executable, "-c", STARTER], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        pid, port = map(int, parent.stdout.readline().split())
        assert redis.Redis(port=port).ping()
        server = psutil.Process(pid)
        parent.kill()  # no cleanup code runs: SIGKILL
        parent.wait(timeout=10)
        server.wait(timeout=10)  # raises TimeoutExpired if it outlived its parent
        assert not psutil.pid_exists(pid) or server.status() == psutil.STATUS_ZOMBIE
    finally:
        if parent.poll() is None:
            parent.kill()


def test_stop_and_restart_on_the_same_port_keeps_append_only_data(tmp_path) -> None:
    server = EmbeddedRedis(tmp_path, append_only=True).start()
    try:
        client = redis.Redis(port=server.port)
        client.set("kept", "yes")
        server.kill()
        server.start()
        assert redis.Redis(port=server.port).get("kept") == b"yes"
    finally:
        server.stop()


def test_only_the_main_thread_ties_a_child_to_our_life() -> None:
    """The parent-death signal follows the starting thread: from a worker thread it would
    fire when that thread ends, killing a server still in use."""
    assert dying_with_us(["redis-server"])[-2:] == ["--", "redis-server"]
    from_worker: list[list[str]] = []
    worker = threading.Thread(target=lambda: from_worker.append(dying_with_us(["redis-server"])))
    worker.start()
    worker.join()
    assert from_worker == [["redis-server"]]
