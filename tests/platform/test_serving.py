"""Our servers freeze the start-up heap and raise the young-generation threshold."""

from __future__ import annotations

import asyncio
import gc
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from gateway import serving
from shared.heap import YOUNG_GENERATION_THRESHOLD
from shared.redis import free_port


@pytest.fixture
def restored_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


async def _hello(_: Request) -> PlainTextResponse:
    return PlainTextResponse("hello")


def test_a_started_server_has_settled_the_heap(restored_collector: None) -> None:
    assert gc.get_freeze_count() == 0
    port = free_port()
    server = serving.server(Starlette(routes=[Route("/", _hello)]), host="127.0.0.1", port=port)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    try:
        assert _get_when_listening(f"http://127.0.0.1:{port}/").text == "hello"
        # Settling follows start-up on the server's thread: wait for it rather than race it.
        deadline = time.monotonic() + 10
        while gc.get_freeze_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert gc.get_freeze_count() > 1_000
        assert gc.get_threshold()[0] == YOUNG_GENERATION_THRESHOLD
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert not thread.is_alive()


def _get_when_listening(url: str, attempts: int = 500) -> httpx.Response:
    for _ in range(attempts):
        try:
            return httpx.get(url, timeout=5)
        except httpx.ConnectError:
            time.sleep(0.02)
    raise AssertionError(f"nothing listened at {url}")


def test_an_idle_keep_alive_connection_outlives_node_agents_idle_timeout(restored_collector: None) -> None:
    """The router (Node) closes idle upstream connections after ~5 s; a server closing them
    first races with a request sent on one ("socket hang up"). uvicorn's default is 5 s."""
    port = free_port()
    server = serving.server(Starlette(routes=[Route("/", _hello)]), host="127.0.0.1", port=port)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    try:
        _get_when_listening(f"http://127.0.0.1:{port}/")
        request = f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            connection.sendall(request)
            assert b"hello" in _response(connection)
            time.sleep(6.5)  # idle past uvicorn's default keep-alive, within ours
            connection.sendall(request)
            assert b"hello" in _response(connection)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _response(connection: socket.socket) -> bytes:
    received = b""
    while b"hello" not in received:
        chunk = connection.recv(4096)
        if not chunk:
            break
        received += chunk
    return received
