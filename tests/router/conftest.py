"""One subgraph server (uvicorn, background thread) and one real router per test session."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gateway.composition import SubgraphDefinition, write_supergraph
from gateway.router_process import RouterProcess
from tests.router.subgraphs import SCHEMAS, create_app
from tests.support.servers import ServerThread


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def sdl_of(name: str) -> str:
    result = SCHEMAS[name].execute_sync("{ _service { sdl } }")
    assert result.data is not None, result.errors
    return str(result.data["_service"]["sdl"])


@dataclass
class Stack:
    router_url: str
    subgraphs_url: str
    supergraph: Path
    router_log: Path

    def definitions(self, *names: str) -> list[SubgraphDefinition]:
        return [
            SubgraphDefinition(name, f"{self.subgraphs_url}/{name}/graphql", sdl_of(name)) for name in names
        ]


INITIAL = ("echo", "catalog")


@pytest.fixture(scope="session")
def subgraphs_server() -> Iterator[ServerThread]:
    server = ServerThread(create_app()).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def stack(
    tmp_path_factory: pytest.TempPathFactory, subgraphs_server: ServerThread
) -> AsyncIterator[Stack]:
    data = tmp_path_factory.mktemp("router")
    supergraph = data / "supergraph.graphql"
    stack = Stack("", subgraphs_server.url, supergraph, data / "router.log")
    write_supergraph(stack.definitions(*INITIAL), supergraph)
    async with RouterProcess(supergraph, port=free_port(), log_path=stack.router_log) as router:
        stack.router_url = router.url
        yield stack


async def eventually(probe: Callable[[], Any], timeout: float = 30, interval: float = 0.05) -> Any:
    """Calls async `probe` until it returns something truthy; fails at the deadline with the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout}s (last: {value!r})")
        await asyncio.sleep(interval)
