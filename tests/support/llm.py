"""A local OpenAI-compatible chat completions server for tests. It is a real HTTP/1.1 server on
a free loopback port (asyncio streams, in the test's event loop) so that the bytes on the wire,
the TCP writes and the closing of the connection are exactly as scripted: the streaming format
of `POST /v1/chat/completions` byte for byte (chunked transfer, `data:` events, the usage chunk
with empty choices, `[DONE]`), events cut across writes at odd byte offsets, a drop mid-stream,
a stall, 429 with Retry-After, 5xx, a silent server. It records every request (headers and JSON
body) and whether the client closed the connection before the reply was over."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

DEFAULT_PIECES = ("Ada Costa ", "makes music ", "rooted in ", "amapiano.")
ODD_WRITE_SIZES = (1, 7, 3, 13, 2, 29, 5, 11, 17)
"""Sizes (bytes) the body is cut into for `Stream(split="odd")`: lines, JSON values and UTF-8
characters all end up cut somewhere."""
CREATED = 1_765_065_600


@dataclass(frozen=True)
class Stream:
    """A 200 event stream of `pieces` as content deltas. With `drop_after`, `end_after` or
    `stall_after` = n, only n pieces are sent and then the connection is aborted (no end of the
    chunked body), the body ends cleanly (no finish_reason, no [DONE]), or the server waits,
    silent, until the client goes away."""

    pieces: Sequence[str] = DEFAULT_PIECES
    finish_reason: str = "stop"
    split: Literal["events", "odd"] = "events"
    line_ending: str = "\n"
    drop_after: int | None = None
    end_after: int | None = None
    stall_after: int | None = None


@dataclass(frozen=True)
class Status:
    """A plain (non-stream) answer, e.g. 429 with `Retry-After`, 503, 400."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class Silent:
    """Reads the request and never answers (a slow first byte): waits for the client to leave."""


Reply = Stream | Status | Silent

REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass
class Exchange:
    """One request received and how its reply went."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    reply: Reply
    writes: int = 0
    completed: bool = False
    client_closed: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the client closed the connection before the reply was complete."""


class LlmReplay:
    """`async with LlmReplay() as llm:` serves on `llm.base_url`; `llm.script(...)` queues the
    replies of the next requests (then `default` answers)."""

    def __init__(self, default: Reply | None = None) -> None:
        self.default: Reply = default or Stream()
        self.exchanges: list[Exchange] = []
        self._replies: deque[Reply] = deque()
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *replies: Reply) -> None:
        self._replies.extend(replies)

    async def __aenter__(self) -> LlmReplay:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        # Closing each connection ends its handler (its reads see the end of the stream);
        # cancelling them instead makes asyncio log the cancellation as an error.
        for writer in list(self._writers):
            writer.close()
        if self._handlers:
            await asyncio.wait(set(self._handlers), timeout=5)
        await self._server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.add(writer)
        try:
            while await self._exchange(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._handlers.discard(task)
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serves one request; False when the connection is over."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, path, _ = request_line.split(" ", 2)
        headers = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        raw = await reader.readexactly(int(headers.get("content-length", 0)))
        reply = self._replies.popleft() if self._replies else self.default
        exchange = Exchange(method, path, headers, json.loads(raw) if raw else None, reply)
        self.exchanges.append(exchange)
        try:
            if isinstance(reply, Status):
                await self._status(reply, exchange, writer)
                return True
            if isinstance(reply, Silent):
                await self._until_client_leaves(reader, exchange)
                return False
            return await self._stream(reply, exchange, reader, writer)
        except ConnectionError:
            exchange.client_closed.set()
            return False

    async def _status(self, reply: Status, exchange: Exchange, writer: asyncio.StreamWriter) -> None:
        body = json.dumps(
            reply.body
            if reply.body is not None
            else {"error": {"message": "scripted failure", "type": "server_error", "code": reply.status}}
        ).encode()
        headers = {"content-type": "application/json", "content-length": str(len(body)), **reply.headers}
        await self._write(writer, exchange, _head(reply.status, headers) + body)
        exchange.completed = True

    async def _stream(
        self, reply: Stream, exchange: Exchange, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        head = _head(
            200,
            {
                "content-type": "text/event-stream; charset=utf-8",
                "transfer-encoding": "chunked",
                "cache-control": "no-cache",
            },
        )
        await self._write(writer, exchange, head)
        cut = next((n for n in (reply.drop_after, reply.end_after, reply.stall_after) if n is not None), None)
        events = _events(reply, exchange.body or {}, cut)
        writes = events if reply.split == "events" else _odd_pieces(b"".join(events))
        for data in writes:
            await self._write(writer, exchange, b"%x\r\n%s\r\n" % (len(data), data))
            await asyncio.sleep(0)  # give the client a chance to read each write on its own
        if reply.drop_after is not None:
            writer.transport.abort()
            return False
        if reply.stall_after is not None:
            await self._until_client_leaves(reader, exchange)
            return False
        await self._write(writer, exchange, b"0\r\n\r\n")
        exchange.completed = True
        return True

    async def _write(self, writer: asyncio.StreamWriter, exchange: Exchange, data: bytes) -> None:
        writer.write(data)
        await writer.drain()
        exchange.writes += 1

    async def _until_client_leaves(self, reader: asyncio.StreamReader, exchange: Exchange) -> None:
        while await reader.read(1024):
            pass
        exchange.client_closed.set()


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _events(reply: Stream, request: dict[str, Any], cut: int | None) -> list[bytes]:
    """The SSE events of the reply, as OpenAI writes them (`cut`: only that many pieces)."""
    model = request.get("model", "replay-model")
    with_usage = bool((request.get("stream_options") or {}).get("include_usage"))
    end = reply.line_ending

    def chunk(choices: list[dict[str, Any]], **extra: Any) -> bytes:
        payload: dict[str, Any] = {
            "id": "chatcmpl-replay0001",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": model,
            "system_fingerprint": "fp_replay",
            "choices": choices,
        }
        if with_usage:
            payload["usage"] = None
        payload.update(extra)
        return f"data: {json.dumps(payload, ensure_ascii=False, separators=(',', ':'))}{end}{end}".encode()

    def choice(delta: dict[str, Any], finish_reason: str | None = None) -> list[dict[str, Any]]:
        return [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]

    pieces = list(reply.pieces if cut is None else reply.pieces[:cut])
    events = [
        f": keep-alive{end}{end}".encode(),
        chunk(choice({"role": "assistant", "content": "", "refusal": None})),
        *(chunk(choice({"content": piece})) for piece in pieces),
    ]
    if cut is not None:
        return events
    events.append(chunk(choice({}, reply.finish_reason)))
    if with_usage:
        events.append(chunk([], usage=usage_of(reply, request)))
    events.append(f"data: [DONE]{end}{end}".encode())
    return events


def _odd_pieces(body: bytes) -> list[bytes]:
    pieces, start, turn = [], 0, 0
    while start < len(body):
        size = ODD_WRITE_SIZES[turn % len(ODD_WRITE_SIZES)]
        pieces.append(body[start : start + size])
        start, turn = start + size, turn + 1
    return pieces


def usage_of(reply: Stream, request: dict[str, Any]) -> dict[str, int]:
    """The usage the server reports for a complete `reply` to `request`."""
    prompt_tokens = sum(len(m.get("content", "").split()) for m in request.get("messages", []))
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": len(reply.pieces),
        "total_tokens": prompt_tokens + len(reply.pieces),
    }
