"""The SMTP sink of `make dev` and `spotify-agent mailbox` (like Mailpit): mail sent to
127.0.0.1:1025 is kept as .eml files in DATA_DIR/mailbox (the last 1,000) and shown at
http://127.0.0.1:8025: a list, then each message's headers, text, and HTML in a sandboxed frame
that cannot run script; `/api/messages` serves the same as JSON to tests and scripts. Nothing
is relayed anywhere."""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
import logging
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Coroutine, Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from html import escape
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from gateway.serving import Server
from shared.config import Settings

HOST = "127.0.0.1"
KEEP = 1_000
"""Messages kept; older ones are deleted as new ones arrive."""
_ID = re.compile(r"[0-9]{20}-[0-9a-f]{8}")
"""A message's id: its arrival in nanoseconds since the epoch, then a random part."""
HTML_PART_CSP = "sandbox; default-src 'none'; img-src data: http: https:; style-src 'unsafe-inline'"
"""Served with a message's HTML: no script, no form, no plugin, an origin of its own."""
_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'"
_RAW_CSP = "sandbox; default-src 'none'"
_PARSE_POLICY = email.policy.default


@dataclass(frozen=True)
class CapturedMessage:
    """One captured message, parsed. Header values are decoded (RFC 2047) for display."""

    id: str
    raw: bytes
    message: EmailMessage

    @property
    def headers(self) -> list[tuple[str, str]]:
        return [(name, _decoded(name, value)) for name, value in self.message.raw_items()]

    def header(self, name: str) -> str:
        """The first `name` header, decoded; "" when absent."""
        wanted = name.lower()
        return next((_decoded(n, v) for n, v in self.message.raw_items() if n.lower() == wanted), "")

    @property
    def text(self) -> str | None:
        return _body(self.message, "plain")

    @property
    def html(self) -> str | None:
        return _body(self.message, "html")

    def summary(self) -> dict[str, Any]:
        return _summary(self.id, self.message)

    def detail(self) -> dict[str, Any]:
        return {**self.summary(), "text": self.text, "html": self.html}


def _decoded(name: str, value: Any) -> str:
    try:
        return str(_PARSE_POLICY.header_factory(name, str(value)))
    except Exception:  # a malformed header: shown as it came
        return str(value)


def _body(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return None
    try:
        content = part.get_content()
        return content if isinstance(content, str) else None
    except (LookupError, ValueError, UnicodeError):  # an unknown charset or a broken encoding
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else None


def _summary(message_id: str, message: EmailMessage) -> dict[str, Any]:
    headers: dict[str, str] = {}
    spelled: dict[str, str] = {}
    for name, value in message.raw_items():
        key = spelled.setdefault(name.lower(), name)
        decoded = _decoded(name, value)
        headers[key] = f"{headers[key]}\n{decoded}" if key in headers else decoded

    def first(name: str) -> str:
        return headers.get(spelled.get(name.lower(), ""), "").split("\n")[0]

    received = datetime.fromtimestamp(int(message_id[:20]) / 1e9, UTC)
    return {
        "id": message_id,
        "received_at": received.isoformat(),
        "from": first("From"),
        "to": first("To"),
        "subject": first("Subject"),
        "date": first("Date"),
        "message_id": first("Message-ID"),
        "headers": headers,
    }


class MailStore:
    """The .eml files of a directory, named `<arrival ns>-<random>.eml` (sortable by
    arrival); written whole (a temporary name, then renamed) and pruned to the last `keep`.
    Used from the SMTP thread and the web app's threads at once."""

    def __init__(self, directory: Path, keep: int = KEEP) -> None:
        self.directory = directory
        self.keep = keep
        self._lock = threading.Lock()
        self._last_stamp = 0
        self._summaries: dict[str, dict[str, Any]] = {}

    def save(self, sender: str | None, recipients: list[str], content: bytes) -> str:
        """Keep a message as received, after the envelope as `Return-Path` and `Delivered-To`."""
        envelope = [f"Return-Path: <{sender or ''}>", *(f"Delivered-To: {to}" for to in recipients)]
        data = ("\r\n".join(envelope) + "\r\n").encode("utf-8") + content
        with self._lock:
            self._last_stamp = max(time.time_ns(), self._last_stamp + 1)
            message_id = f"{self._last_stamp:020d}-{secrets.token_hex(4)}"
            partial = self.directory / f".{message_id}.tmp"
            partial.write_bytes(data)
            partial.replace(self.directory / f"{message_id}.eml")
            for old in self._ids_locked()[self.keep :]:
                (self.directory / f"{old}.eml").unlink(missing_ok=True)
                self._summaries.pop(old, None)
        return message_id

    def _ids_locked(self) -> list[str]:
        names = (path.name for path in self.directory.glob("*.eml"))
        return sorted((name[:-4] for name in names if _ID.fullmatch(name[:-4])), reverse=True)

    def ids(self) -> list[str]:
        """Newest first."""
        with self._lock:
            return self._ids_locked()

    def path(self, message_id: str) -> Path | None:
        """The file of a well-formed id (nothing else reaches the file system), if it exists."""
        if not _ID.fullmatch(message_id):
            return None
        path = self.directory / f"{message_id}.eml"
        return path if path.is_file() else None

    def raw(self, message_id: str) -> bytes | None:
        path = self.path(message_id)
        try:
            return path.read_bytes() if path else None
        except FileNotFoundError:  # pruned or cleared meanwhile
            return None

    def load(self, message_id: str) -> CapturedMessage | None:
        raw = self.raw(message_id)
        if raw is None:
            return None
        message = BytesParser(_class=EmailMessage, policy=_PARSE_POLICY).parsebytes(raw)
        return CapturedMessage(message_id, raw, message)

    def summaries(self) -> list[dict[str, Any]]:
        """Newest first; a message's headers are parsed once (files never change)."""
        found = []
        for message_id in self.ids():
            summary = self._summaries.get(message_id)
            if summary is None:
                raw = self.raw(message_id)
                if raw is None:
                    continue
                headers = BytesHeaderParser(_class=EmailMessage, policy=_PARSE_POLICY).parsebytes(raw)
                summary = _summary(message_id, headers)
                with self._lock:
                    self._summaries[message_id] = summary
            found.append(summary)
        return found

    def messages(self) -> list[CapturedMessage]:
        """Newest first."""
        return [message for message_id in self.ids() if (message := self.load(message_id))]

    def clear(self) -> int:
        with self._lock:
            ids = self._ids_locked()
            for message_id in ids:
                (self.directory / f"{message_id}.eml").unlink(missing_ok=True)
            self._summaries.clear()
        return len(ids)


# The web page: plain server-rendered HTML, no script.

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #1d1d1f; }
body { padding: 0 1rem; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #eee; vertical-align: top; }
td.name { white-space: nowrap; color: #555; } td.value { word-break: break-word; }
pre { background: #f6f6f8; padding: .8rem; overflow-x: auto; white-space: pre-wrap; }
iframe { width: 100%; height: 70vh; border: 1px solid #ddd; background: #fff; }
.muted { color: #777; } a { color: #0b57d0; }
"""


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )
    return HTMLResponse(
        html,
        status_code=status_code,
        headers={"Content-Security-Policy": _PAGE_CSP, "X-Content-Type-Options": "nosniff"},
    )


def _local_time(received_at: str) -> str:
    return datetime.fromisoformat(received_at).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def create_mailbox_app(store: MailStore, smtp_address: str = f"{HOST}:1025") -> Starlette:
    """The web page and JSON API over a store's messages (endpoints run in threads: they read files)."""

    def index(request: Request) -> Response:
        summaries = store.summaries()
        rows = "".join(
            f'<tr><td class="name">{escape(_local_time(s["received_at"]))}</td><td>{escape(s["from"])}</td>'
            f'<td>{escape(s["to"])}</td><td><a href="/messages/{s["id"]}">'
            f"{escape(s['subject']) or '<span class=muted>(no subject)</span>'}</a></td></tr>"
            for s in summaries
        )
        table = (
            f"<table><tr><th>Received</th><th>From</th><th>To</th><th>Subject</th></tr>{rows}</table>"
            if summaries
            else f'<p class="muted">No mail yet. Send to SMTP {escape(smtp_address)}.</p>'
        )
        return _page(
            "Mailbox",
            f"<h1>Mailbox</h1><p class=muted>{len(summaries):,} messages sent to SMTP "
            f"{escape(smtp_address)}, newest first (the last {store.keep:,} are kept; nothing is "
            f"relayed).</p>{table}",
        )

    def message_page(request: Request) -> Response:
        message = store.load(request.path_params["id"])
        if message is None:
            return _page("Not found", '<p>No such message. <a href="/">All messages</a></p>', 404)
        headers = "".join(
            f'<tr><td class="name">{escape(name)}</td><td class="value">{escape(value)}</td></tr>'
            for name, value in message.headers
        )
        text = message.text
        text_part = f"<pre>{escape(text)}</pre>" if text is not None else "<p class=muted>(no text part)</p>"
        html_part = (
            f'<iframe sandbox src="/messages/{message.id}/html" title="HTML part"></iframe>'
            if message.html is not None
            else "<p class=muted>(no HTML part)</p>"
        )
        subject = message.header("Subject")
        return _page(
            subject or "(no subject)",
            f'<p><a href="/">All messages</a> · <a href="/messages/{message.id}/raw">raw .eml</a></p>'
            f"<h1>{escape(subject) or '(no subject)'}</h1>"
            f"<h2>Text</h2>{text_part}<h2>HTML</h2>{html_part}"
            f"<h2>Headers</h2><table>{headers}</table>",
        )

    def message_html(request: Request) -> Response:
        message = store.load(request.path_params["id"])
        if message is None or message.html is None:
            return Response("no such message", status_code=404, media_type="text/plain")
        return HTMLResponse(
            message.html,
            headers={"Content-Security-Policy": HTML_PART_CSP, "X-Content-Type-Options": "nosniff"},
        )

    def message_raw(request: Request) -> Response:
        raw = store.raw(request.path_params["id"])
        if raw is None:
            return Response("no such message", status_code=404, media_type="text/plain")
        return Response(
            raw,
            media_type="text/plain; charset=utf-8",
            headers={"Content-Security-Policy": _RAW_CSP, "X-Content-Type-Options": "nosniff"},
        )

    def api_messages(request: Request) -> Response:
        if request.method == "DELETE":
            return JSONResponse({"deleted": store.clear()})
        return JSONResponse(store.summaries())

    def api_message(request: Request) -> Response:
        message = store.load(request.path_params["id"])
        if message is None:
            return JSONResponse({"error": "no such message"}, status_code=404)
        return JSONResponse(message.detail())

    return Starlette(
        routes=[
            Route("/", index),
            Route("/messages/{id}", message_page),
            Route("/messages/{id}/html", message_html),
            Route("/messages/{id}/raw", message_raw),
            Route("/api/messages", api_messages, methods=["GET", "DELETE"]),
            Route("/api/messages/{id}", api_message),
        ]
    )


# The servers.


class _Handler:
    """aiosmtpd's handler: every message is accepted and stored."""

    def __init__(self, store: MailStore) -> None:
        self.store = store

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or b""
        self.store.save(envelope.mail_from, list(envelope.rcpt_tos), content)
        return "250 2.0.0 Captured"


class SmtpController(Controller):
    """aiosmtpd's threaded Controller, listening on a socket bound before its thread starts:
    a port in use is an OSError at once (aiosmtpd alone waits out its ready timeout first),
    and port 0 is a free port, known (`port`) as soon as `start()` returns."""

    _listener: socket.socket | None = None

    def start(self) -> None:
        family = socket.AF_INET6 if ":" in self.hostname else socket.AF_INET
        self._listener = socket.create_server((self.hostname, self.port), family=family)
        self.port = self._listener.getsockname()[1]
        try:
            super().start()
        except BaseException:
            self._listener.close()
            raise

    def _create_server(self) -> Coroutine[Any, Any, asyncio.AbstractServer]:
        if self._listener is None:
            raise RuntimeError("start() binds the listening socket first")
        return self.loop.create_server(self._factory_invoker, sock=self._listener, ssl=self.ssl_context)


class _WebServer(Server):
    """uvicorn in a loop it does not own: it leaves signals to the process's owner (in `make
    dev`, Ctrl-C reaches the registry's server, whose end stops everything) and says when
    it serves."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config, settle_heap=False)
        self.ready = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.ready.set()


class Mailbox:
    """The SMTP sink (aiosmtpd in its own thread) and the web page (uvicorn in this loop),
    on 127.0.0.1; port 0 picks a free one. `async with Mailbox(dir) as mailbox:` or
    `start()` / `stop()`."""

    def __init__(
        self, directory: Path, *, smtp_port: int = 1025, web_port: int = 8025, keep: int = KEEP
    ) -> None:
        self.store = MailStore(directory, keep)
        self._smtp_port = smtp_port
        self._web_port = web_port
        self._controller: SmtpController | None = None
        self._web: _WebServer | None = None
        self._serving: asyncio.Task[None] | None = None

    @property
    def smtp_port(self) -> int:
        return self._smtp_port

    @property
    def web_url(self) -> str:
        return f"http://{HOST}:{self._web_port}"

    def messages(self) -> list[CapturedMessage]:
        """Newest first."""
        return self.store.messages()

    async def start(self) -> None:
        """Raises OSError when a port is taken."""
        self.store.directory.mkdir(parents=True, exist_ok=True)
        quiet_mail_log()
        controller = SmtpController(_Handler(self.store), hostname=HOST, port=self._smtp_port)
        await asyncio.to_thread(controller.start)
        self._controller, self._smtp_port = controller, controller.port
        try:
            await self._start_web()
        except BaseException:
            await self.stop()
            raise

    async def _start_web(self) -> None:
        # Bound here, before uvicorn starts: the port is known (port 0) and a bind error is
        # an OSError to the caller rather than uvicorn's sys.exit.
        listener = socket.create_server((HOST, self._web_port), backlog=128)
        self._web_port = listener.getsockname()[1]
        address = f"{HOST}:{self.smtp_port}"
        config = uvicorn.Config(
            create_mailbox_app(self.store, address),
            host=HOST,
            port=self._web_port,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=3,
        )
        self._web = _WebServer(config)
        self._serving = asyncio.create_task(self._web.serve(sockets=[listener]))
        ready = asyncio.create_task(self._web.ready.wait())
        await asyncio.wait([self._serving, ready], return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            raise RuntimeError("the mailbox's web server did not start")

    async def stop(self) -> None:
        if self._web is not None and self._serving is not None:
            self._web.should_exit = True
            with contextlib.suppress(Exception, SystemExit):
                await self._serving
        self._web = self._serving = None
        if self._controller is not None:
            await asyncio.to_thread(self._controller.stop)
            self._controller = None

    async def __aenter__(self) -> Mailbox:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.stop()


def quiet_mail_log() -> None:
    """aiosmtpd logs every sender and recipient address at INFO ("mail.log"): not in our logs."""
    logger = logging.getLogger("mail.log")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)


# `make dev` and `spotify-agent mailbox`.


def mailbox_wanted() -> bool:
    """`make dev` runs the sink unless SMTP_HOST (environment or .env) points mail at a server."""
    from subgraphs.notifications.config import NotificationsSettings

    return "smtp_host" not in NotificationsSettings().model_fields_set


async def start_dev_mailbox(settings: Settings) -> Mailbox | None:
    """The sink on MAILBOX_SMTP_PORT / MAILBOX_WEB_PORT, when wanted; processes started after
    it send there (SMTP_PORT, unless set). None (with a line saying why) when not started."""
    if not mailbox_wanted():
        return None
    mailbox = Mailbox(
        settings.data_dir / "mailbox",
        smtp_port=settings.mailbox_smtp_port,
        web_port=settings.mailbox_web_port,
    )
    try:
        await mailbox.start()
    except OSError as error:
        print(f"  mailbox not started ({error.strerror or type(error).__name__})", flush=True)
        return None
    os.environ.setdefault("SMTP_PORT", str(mailbox.smtp_port))
    return mailbox


async def run_mailbox(directory: Path, smtp_port: int, web_port: int) -> None:
    """Until cancelled (Ctrl-C)."""
    async with Mailbox(directory, smtp_port=smtp_port, web_port=web_port) as mailbox:
        print(
            f"  mailbox  {mailbox.web_url}  (SMTP {HOST}:{mailbox.smtp_port}; files in {directory})",
            flush=True,
        )
        await asyncio.Event().wait()
