"""The registry composes through one long-lived Node worker per process."""

from __future__ import annotations

import os
import signal
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest

from gateway import composition
from gateway.composition import ComposeWorker, CompositionError, SubgraphDefinition, compose_supergraph
from tests.router.conftest import sdl_of
from tests.router.test_composition import CONFLICTING

MEMBERS = [
    SubgraphDefinition("echo", "http://127.0.0.1:1/echo/graphql", sdl_of("echo")),
    SubgraphDefinition("catalog", "http://127.0.0.1:1/catalog/graphql", sdl_of("catalog")),
]


@pytest.fixture
def worker():
    worker = ComposeWorker(timeout=60)
    yield worker
    worker.stop()


def test_one_worker_answers_many_compositions_like_a_one_shot_process(worker):
    first = worker.compose(MEMBERS)
    pid = worker.pid
    with ThreadPoolExecutor(4) as threads:  # callers on several threads take turns
        answers = list(threads.map(lambda _: worker.compose(MEMBERS), range(4)))
    assert worker.pid == pid
    assert all(answer == first for answer in answers)
    assert first["supergraphSdl"] == compose_supergraph(MEMBERS)
    assert "type Query" in first["publicSdl"] and "join__" not in first["publicSdl"]


def test_errors_come_back_per_request_and_the_worker_stays(worker):
    failed = worker.compose(CONFLICTING)
    assert any("FIELD_TYPE_MISMATCH" in error and '"Album.year"' in error for error in failed["errors"])
    broken = worker.compose([SubgraphDefinition("broken", "http://127.0.0.1:1/graphql", "type Query {")])
    assert broken["errors"][0].startswith("[broken] invalid SDL")
    pid = worker.pid
    assert "supergraphSdl" in worker.compose(MEMBERS)
    assert worker.pid == pid


def test_a_dead_worker_is_replaced_without_failing_the_request(worker):
    worker.compose(MEMBERS)
    dead = worker.pid
    assert dead is not None
    os.kill(dead, signal.SIGKILL)
    assert "supergraphSdl" in worker.compose(MEMBERS)
    assert worker.pid not in (None, dead)


def test_a_hung_worker_is_killed_at_the_timeout_and_replaced(worker):
    worker.compose(MEMBERS)
    hung = worker.pid
    assert hung is not None
    worker.timeout = 5
    os.kill(hung, signal.SIGSTOP)  # alive, never answers
    assert "supergraphSdl" in worker.compose(MEMBERS)
    assert worker.pid not in (None, hung)
    assert not psutil.pid_exists(hung) or psutil.Process(hung).status() == psutil.STATUS_ZOMBIE


def test_a_worker_that_cannot_answer_fails_the_check_with_a_composition_error(worker, tmp_path, monkeypatch):
    broken = tmp_path / "compose.mjs"
    broken.write_text("process.exit(3);\n")
    monkeypatch.setattr(composition, "COMPOSE_SCRIPT", broken)
    with pytest.raises(CompositionError, match="composition worker failed"):
        worker.compose(MEMBERS)
    assert worker.pid is None
