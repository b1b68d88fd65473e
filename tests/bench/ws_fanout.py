"""Many graphql-transport-ws subscribers of `workspaceEvents` in one asyncio process: a lean
client (no per-message futures, one reader task per socket) that only stamps arrivals."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import defaultdict
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

EVENTS = """subscription($ws: ID!) { workspaceEvents(workspaceId: $ws) { id kind version payload } }"""


def marker(event: dict[str, Any]) -> str:
    """What identifies one published event across subscribers."""
    if event["kind"] == "PRESENCE_CHANGED":
        return f"presence:{event['payload']['viewing']}"
    if event["kind"] == "PROJECT_CHANGED":
        return f"version:{event['version']}"
    return f"{event['kind']}:{event['id']}"


class Deliveries:
    """When each subscriber first saw each event (time.perf_counter), by event marker."""

    def __init__(self) -> None:
        self.arrivals: dict[str, dict[int, float]] = defaultdict(dict)
        self.duplicates = 0
        self.failures: list[str] = []

    def record(self, event_marker: str, subscriber: int, at: float) -> None:
        seen = self.arrivals[event_marker]
        if subscriber in seen:
            self.duplicates += 1
        else:
            seen[subscriber] = at

    def received(self, event_marker: str) -> dict[int, float]:
        return self.arrivals.get(event_marker, {})

    async def wait_for_all(self, event_marker: str, subscribers: set[int], timeout: float) -> None:
        """Until every one of `subscribers` saw the event, or time is up."""
        # Polling is fine: arrival times are stamped by the readers, not by this loop.
        deadline = time.perf_counter() + timeout
        while not subscribers <= self.received(event_marker).keys() and time.perf_counter() < deadline:
            await asyncio.sleep(0.005)


class Subscriber:
    def __init__(self, number: int, deliveries: Deliveries) -> None:
        self.number = number
        self.deliveries = deliveries
        self.ws: ClientConnection | None = None
        self.reader: asyncio.Task[None] | None = None
        self.closing = False

    async def open(self, url: str, token: str, workspace_id: str) -> Subscriber:
        self.ws = await connect(
            url,
            subprotocols=[Subprotocol("graphql-transport-ws")],
            compression=None,
            ping_interval=None,
            open_timeout=60,
            close_timeout=2,
        )
        await self._send({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        ack = json.loads(await asyncio.wait_for(self.ws.recv(), 30))
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"subscriber {self.number}: no connection_ack: {ack}")
        payload = {"query": EVENTS, "variables": {"ws": workspace_id}}
        await self._send({"id": "1", "type": "subscribe", "payload": payload})
        self.reader = asyncio.create_task(self._read())
        return self

    async def _send(self, message: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps(message))

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                at = time.perf_counter()
                await self._handle(json.loads(raw), at)
        except ConnectionClosed as closed:
            if not self.closing:
                self.deliveries.failures.append(f"subscriber {self.number}: socket closed ({closed})")

    async def _handle(self, message: dict[str, Any], at: float) -> None:
        kind = message.get("type")
        if kind == "next" and not message["payload"].get("errors"):
            self.deliveries.record(marker(message["payload"]["data"]["workspaceEvents"]), self.number, at)
        elif kind == "ping":
            await self._send({"type": "pong"})
        elif kind != "pong":
            self.deliveries.failures.append(f"subscriber {self.number}: {json.dumps(message)[:300]}")

    async def close(self) -> None:
        self.closing = True
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader


async def open_subscribers(
    numbers: range,
    url: str,
    tokens: list[str],
    workspace_id: str,
    deliveries: Deliveries,
    into: list[Subscriber],
    batch: int = 50,
) -> None:
    """Subscribers numbered `numbers`, their tokens taken round-robin, opened `batch` at a time
    and added to `into` (also those opened before a failure, so the caller can close them)."""
    for start in range(numbers.start, numbers.stop, batch):
        subscribers = [Subscriber(n, deliveries) for n in range(start, min(start + batch, numbers.stop))]
        opened = await asyncio.gather(
            *(s.open(url, tokens[s.number % len(tokens)], workspace_id) for s in subscribers),
            return_exceptions=True,
        )
        into += [s for s in opened if isinstance(s, Subscriber)]
        failed = [error for error in opened if isinstance(error, BaseException)]
        if failed:
            await asyncio.gather(*(s.close() for s in subscribers if s not in into))
            raise failed[0]


async def close_subscribers(subscribers: list[Subscriber], batch: int = 100) -> None:
    for start in range(0, len(subscribers), batch):
        await asyncio.gather(*(s.close() for s in subscribers[start : start + batch]))
