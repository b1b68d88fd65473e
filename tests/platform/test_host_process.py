"""The subgraph host as several worker processes (what `make dev` runs): every worker answers,
what one worker signed (a session) every other accepts, since nothing they share lives in a
process, and `/metrics` counts the requests of all of them."""

from __future__ import annotations

import httpx
import psutil

from gateway.host_process import HostProcess
from shared.config import Settings
from shared.redis import free_port
from tests.platform.test_metrics import samples, value
from tests.support.graphql import gql, sign_up


async def test_two_workers_serve_the_subgraphs_and_share_sessions(tmp_path, redis_server, sqlite_factory):
    settings = Settings(
        env="test", data_dir=tmp_path, database_url=sqlite_factory.new(), subgraph_port=free_port()
    )
    async with HostProcess(
        settings, redis_server.url, ["accounts", "collaboration"], workers=2, log_path=tmp_path / "host.log"
    ) as host:
        workers = [  # multiprocessing's resource tracker is a child too
            child
            for child in psutil.Process(host.pid).children()
            if "resource_tracker" not in " ".join(child.cmdline())
        ]
        assert len(workers) == 2
        async with httpx.AsyncClient(base_url=host.url, timeout=30) as client:
            user = await sign_up(client, path="/accounts/graphql")
        answers = []
        for _ in range(12):  # a new connection each time: the kernel spreads them over the workers
            async with httpx.AsyncClient(base_url=host.url, timeout=30) as client:
                answers.append(
                    await gql(client, "{ me { id } }", token=user["token"], path="/accounts/graphql")
                )
        assert [answer.get("errors") for answer in answers] == [None] * 12
        assert {answer["data"]["me"]["id"] for answer in answers} == {user["user"]["id"]}
        async with httpx.AsyncClient(base_url=host.url, timeout=30) as client:
            metrics = samples((await client.get("/metrics")).text)  # whichever worker answers: all of them
        served = {"subgraph": "accounts", "operation": "anonymous", "outcome": "ok"}
        assert value(metrics, "graphql_operations_total", **served) == 12
    assert not any(worker.is_running() and worker.status() != psutil.STATUS_ZOMBIE for worker in workers)
