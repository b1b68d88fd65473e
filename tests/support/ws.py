"""A minimal graphql-transport-ws client for tests."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets


class GraphQLWebSocket:
    def __init__(self, url: str, payload: dict[str, Any] | None = None) -> None:
        self.url = url
        self.payload = payload or {}
        self.ws: Any = None

    async def __aenter__(self) -> GraphQLWebSocket:
        self.ws = await websockets.connect(self.url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
        await self.ws.send(json.dumps({"type": "connection_init", "payload": self.payload}))
        return self

    async def ack(self, timeout: float = 10) -> dict[str, Any]:
        message = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        return dict(message)

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None, id: str = "1") -> None:
        await self.ws.send(
            json.dumps(
                {
                    "id": id,
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables or {}},
                }
            )
        )

    async def next(self, timeout: float = 15) -> dict[str, Any]:
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if message["type"] == "ping":
                await self.ws.send(json.dumps({"type": "pong"}))
                continue
            return dict(message)

    async def __aexit__(self, *exc: object) -> None:
        await self.ws.close()
