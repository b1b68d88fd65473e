"""uvicorn servers for our processes: the heap is settled once start-up is over."""

from __future__ import annotations

import socket
from typing import Any

import uvicorn

from shared.heap import settle_after_startup


class Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, *, settle_heap: bool = True) -> None:
        super().__init__(config)
        self.settle_heap = settle_heap

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.settle_heap:
            settle_after_startup()


# Longer than any client's idle-connection timeout (Node's agents: 4-5 s; load balancers: 60 s):
# the client, not the server, must be the one to close an idle keep-alive connection, or a
# request sent on it as the server closes it fails with "socket hang up" in the router.
KEEP_ALIVE_SECONDS = 75


def server(app: Any, *, host: str, port: int, settle_heap: bool = True, **options: Any) -> Server:
    """Logging stays ours (`log_config=None`, no access log); WebSocket compression is off: clients are the
    router and browsers on fast links, where deflate only costs CPU per message.
    `settle_heap=False` for a server sharing a process it does not own (tests)."""
    options.setdefault("ws_per_message_deflate", False)
    # One log line per GraphQL operation is ours (shared.schema.OperationLog); an access line
    # per request on top would double the logging cost of every request.
    options.setdefault("access_log", False)
    options.setdefault("timeout_keep_alive", KEEP_ALIVE_SECONDS)
    config = uvicorn.Config(app, host=host, port=port, log_config=None, **options)
    return Server(config, settle_heap=settle_heap)


def run(app: Any, *, host: str, port: int, **options: Any) -> None:
    """Like `uvicorn.run` for one server, blocking until it stops."""
    server(app, host=host, port=port, **options).run()
