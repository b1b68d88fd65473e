"""Mail out over SMTP: `build_message` writes one message to one recipient, `Mailer` sends it
over a few pooled connections (`SMTP_*`), and a refusal is a `TemporaryFailure` (retry later)
or a `PermanentFailure` (this address will not take it). Neither an address nor a body ever
reaches an exception or a log line: reasons carry the SMTP code and the server's enhanced
status code, never the server's text (servers often echo the address)."""

from __future__ import annotations

import asyncio
import email.policy
import re
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import AddressHeader, BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.utils import format_datetime
from types import MappingProxyType
from typing import TypeVar

import aiosmtplib
from aiosmtplib import (
    SMTPAuthenticationError,
    SMTPConnectError,
    SMTPConnectResponseError,
    SMTPConnectTimeoutError,
    SMTPDataError,
    SMTPException,
    SMTPHeloError,
    SMTPNotSupported,
    SMTPRecipientRefused,
    SMTPRecipientsRefused,
    SMTPResponseException,
    SMTPSenderRefused,
    SMTPServerDisconnected,
    SMTPTimeoutError,
)

from subgraphs.notifications.config import NotificationsSettings, SmtpSecurity

_ENHANCED_STATUS = re.compile(r"^\s*([245]\.\d{1,3}\.\d{1,3})\b")
_MESSAGE_ID = re.compile(r"^<[^<>\s@]+@[^<>\s@]+>$")
_NO_HEADERS: Mapping[str, str] = MappingProxyType({})
# Written by `build_message` itself: extra headers may not replace or repeat them.
_RESERVED_HEADERS = frozenset(
    {"from", "to", "cc", "bcc", "sender", "reply-to", "subject", "date", "message-id", "mime-version"}
)


class _FoldedAtSpaces(UnstructuredHeader, BaseHeader):
    """An extra header of ASCII text (List-Unsubscribe's URLs, ids) folds at its spaces only.
    The stdlib would make a word longer than a line (a long unsubscribe URL) an RFC 2047
    encoded word, which no client decodes in List-Unsubscribe. The header object does its own
    folding whichever policy flattens the message (aiosmtplib uses its own)."""

    def fold(self, *, policy: email.policy.Policy) -> str:
        value, limit = str(self), policy.max_line_length
        if not value.isascii() or not limit or "\n" in value or "\r" in value:
            return super().fold(policy=policy)
        lines = [f"{self.name}:"]
        for word in value.split():
            if len(lines[-1]) + 1 + len(word) > limit and lines[-1] != f"{self.name}:":
                lines.append("")
            lines[-1] += f" {word}"
        if any(len(line) > 998 for line in lines):  # the hard limit: encoded words it is
            return super().fold(policy=policy)
        return policy.linesep.join(lines) + policy.linesep


_HEADERS = HeaderRegistry(base_class=BaseHeader, default_class=_FoldedAtSpaces)
_POLICY = email.policy.SMTP.clone(header_factory=_HEADERS)
"""`email.policy.SMTP`, with the header classes above for headers it does not know."""


class MailFailure(Exception):
    """A message was not sent. `code` is the SMTP reply code when the server gave one;
    `str()` is a short reason without an address, a body or the server's text."""

    def __init__(self, reason: str, code: int | None = None, enhanced: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.enhanced = enhanced
        """The server's enhanced status code (RFC 3463, e.g. `5.1.1`), when it sent one."""


_Failure = TypeVar("_Failure", bound=MailFailure)


class TemporaryFailure(MailFailure):
    """Try again later: a 4xx reply, the server down, unreachable, slow, dropping the
    connection, or refusing the connection's setup (greeting, TLS, AUTH: a configuration
    the operator fixes, after which the same message goes through)."""


class PermanentFailure(MailFailure):
    """The server refused this message or this recipient for good (5xx to RCPT or DATA), or
    the address cannot be written on an SMTP command line. Sending it again changes nothing."""


def build_message(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    headers: Mapping[str, str] = _NO_HEADERS,
) -> EmailMessage:
    """One message to one recipient: text, plus an HTML alternative when given (both
    quoted-printable, UTF-8, so no relay has to re-encode them); `message_id` as given (the
    caller derives it from the idempotency key, `<ntf_….…@host>`); `headers` such as
    `List-Unsubscribe`, `List-Unsubscribe-Post`, `Auto-Submitted` are added as they are.
    A line break in any header value is a ValueError (header injection)."""
    if not _MESSAGE_ID.match(message_id):
        raise ValueError("message_id must look like <local@domain>")
    message = EmailMessage(policy=_POLICY)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id
    for name, value in headers.items():
        if name.lower() in _RESERVED_HEADERS or name.lower().startswith("content-"):
            raise ValueError(f"header {name} is written by build_message itself")
        message[name] = value
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    if html is not None:
        message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
        for part in message.iter_parts():
            del part["MIME-Version"]  # the stdlib writes it into each part too: once, on top
    return message


def _recipients(message: EmailMessage) -> list[str]:
    found: list[str] = []
    for name in ("To", "Cc", "Bcc"):
        for header in message.get_all(name, []):
            if isinstance(header, AddressHeader):
                found.extend(address.addr_spec for address in header.addresses)
            else:  # a message not built with a modern policy
                found.append(str(header))
    return found


def _enhanced(error: SMTPResponseException) -> str | None:
    match = _ENHANCED_STATUS.match(error.message or "")
    return match.group(1) if match else None


def _reply_failure(error: SMTPResponseException, stage: str) -> MailFailure:
    """A refusal in a mail transaction (MAIL, RCPT, DATA). 4xx: later. 5xx to RCPT or DATA:
    never, except 530 (authentication required: the relay wants AUTH, a configuration). 5xx
    to MAIL FROM: the sender is the same on every message, so it is the configuration
    (530 authentication required, 550/553 sender not allowed), except 552 (this message is
    too large)."""
    code = error.code
    if 500 <= code < 600 and code != 530 and (stage != "MAIL FROM" or code == 552):
        return _refused(PermanentFailure, error, stage)
    return _refused(TemporaryFailure, error, stage)


def _refused(kind: type[_Failure], error: SMTPResponseException, stage: str) -> _Failure:
    """`550 5.1.1 from server at RCPT TO`: the codes, never the server's text."""
    code, enhanced = error.code, _enhanced(error)
    reason = f"{code} {enhanced} from server at {stage}" if enhanced else f"{code} from server at {stage}"
    return kind(reason, code, enhanced)


def _send_failure(error: Exception) -> MailFailure:
    if isinstance(error, SMTPRecipientsRefused):  # one recipient per message: it was refused
        refused = error.recipients[0] if error.recipients else None
        if refused is None:
            return PermanentFailure("recipient refused")
        return _reply_failure(refused, "RCPT TO")
    if isinstance(error, SMTPRecipientRefused):
        return _reply_failure(error, "RCPT TO")
    if isinstance(error, SMTPSenderRefused):
        return _reply_failure(error, "MAIL FROM")
    if isinstance(error, SMTPDataError):
        return _reply_failure(error, "DATA")
    if isinstance(error, SMTPHeloError):
        return _refused(TemporaryFailure, error, "EHLO")
    if isinstance(error, SMTPResponseException):
        return _reply_failure(error, "SMTP")
    if isinstance(error, SMTPServerDisconnected):
        return TemporaryFailure("the server closed the connection")
    if isinstance(error, SMTPTimeoutError | TimeoutError):
        return TemporaryFailure("timed out waiting for the server")
    if isinstance(error, SMTPNotSupported):
        return PermanentFailure("the server cannot take a non-ASCII address (no SMTPUTF8)")
    if isinstance(error, ValueError):  # aiosmtplib refuses an address it cannot write safely
        return PermanentFailure("the address cannot be written on an SMTP command line")
    return TemporaryFailure(f"sending failed ({type(error).__name__})")


def _connect_failure(error: BaseException) -> TemporaryFailure:
    """Whatever stops a connection from being ready (greeting, STARTTLS, EHLO, AUTH) is the
    server being down or the configuration being wrong: temporary either way."""
    if isinstance(error, SMTPConnectTimeoutError):
        return TemporaryFailure("timed out connecting to the SMTP server")
    if isinstance(error, TimeoutError):
        return TemporaryFailure("timed out setting up the SMTP connection (TLS, EHLO or AUTH)")
    if isinstance(error, SMTPConnectResponseError):
        return _refused(TemporaryFailure, error, "greeting")
    if isinstance(error, SMTPAuthenticationError):
        return _refused(TemporaryFailure, error, "AUTH")
    if isinstance(error, SMTPHeloError):
        return _refused(TemporaryFailure, error, "EHLO")
    if isinstance(error, SMTPResponseException):  # STARTTLS refused
        return _refused(TemporaryFailure, error, "connection setup")
    cause = error.__cause__ if isinstance(error, SMTPConnectError) and error.__cause__ else error
    if isinstance(cause, ssl.SSLCertVerificationError):
        return TemporaryFailure("the SMTP server's TLS certificate is not trusted")
    if isinstance(cause, ssl.SSLError):
        return TemporaryFailure("TLS handshake with the SMTP server failed")
    if isinstance(error, SMTPConnectError | OSError):
        return TemporaryFailure(f"could not connect to the SMTP server ({type(cause).__name__})")
    if isinstance(error, SMTPException):  # aiosmtplib's own text: STARTTLS or AUTH not offered
        return TemporaryFailure(f"connection setup failed: {error.message}")
    return TemporaryFailure(f"connection setup failed ({type(error).__name__})")


@dataclass
class _Connection:
    client: aiosmtplib.SMTP
    last_used: float = 0.0


class Mailer:
    """Sends messages over up to `connections` SMTP connections, opened when first needed
    and reused, the most recently used first (a trickle of mail keeps one connection warm
    rather than all of them half-idle). A connection idle longer than `max_idle_seconds`
    (servers close idle clients) or dropped by the server is opened again; a send on a reused
    connection that the server dropped is tried once more on a fresh one. `tls_context`
    replaces the default (certificate-validating) one, e.g. to trust a test server's
    self-signed certificate. Use it from one event loop (the worker's)."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str | None = None,
        password: str | None = None,
        security: SmtpSecurity | str = SmtpSecurity.NONE,
        timeout_seconds: float = 10.0,
        connections: int = 2,
        tls_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
        max_idle_seconds: float = 30.0,
    ) -> None:
        if connections < 1:
            raise ValueError("connections must be at least 1")
        self.host = host
        self.port = port
        self.security = SmtpSecurity(security)
        self.timeout_seconds = timeout_seconds
        self.max_idle_seconds = max_idle_seconds
        self.connections_opened = 0
        """Connections opened so far (a pool reuses them: tests assert it)."""
        self._closed = False
        self._idle: asyncio.LifoQueue[_Connection] = asyncio.LifoQueue()
        for _ in range(connections):
            client = aiosmtplib.SMTP(
                hostname=host,
                port=port,
                username=username or None,
                password=password if username else None,
                timeout=timeout_seconds,
                use_tls=self.security is SmtpSecurity.SSL,
                start_tls=self.security is SmtpSecurity.STARTTLS,
                tls_context=tls_context,
                local_hostname=local_hostname,
            )
            self._idle.put_nowait(_Connection(client))

    @classmethod
    def from_settings(cls, settings: NotificationsSettings) -> Mailer:
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            security=settings.smtp_security,
            timeout_seconds=settings.smtp_timeout_seconds,
            connections=settings.smtp_connections,
        )

    async def send(self, message: EmailMessage) -> None:
        """Send `message` to its one recipient, or raise TemporaryFailure / PermanentFailure."""
        if len(_recipients(message)) != 1:
            raise ValueError("a message goes to exactly one recipient (To, Cc and Bcc together)")
        connection = await self._idle.get()
        try:
            if self._closed:
                raise RuntimeError("the mailer is closed")
            await self._send_on(connection, message)
        except BaseException as error:
            if not isinstance(error, MailFailure):  # cancelled mid-transaction: state unknown
                connection.client.close()
            raise
        finally:
            if self._closed:
                connection.client.close()
            self._idle.put_nowait(connection)

    async def _send_on(self, connection: _Connection, message: EmailMessage) -> None:
        for attempt in (1, 2):
            reused = await self._open(connection)
            try:
                await connection.client.send_message(message)
            except (SMTPException, OSError, TimeoutError, ValueError) as error:
                dropped = isinstance(error, SMTPServerDisconnected) or (
                    isinstance(error, SMTPSenderRefused) and error.code == 421  # "idle too long"
                )
                if dropped:
                    connection.client.close()
                    if reused and attempt == 1:
                        continue
                # `from None`: aiosmtplib's exceptions carry the addresses and the server's text.
                raise _send_failure(error) from None
            connection.last_used = time.monotonic()
            return

    async def _open(self, connection: _Connection) -> bool:
        """Make the connection ready; True if it already was (reused)."""
        client = connection.client
        if client.is_connected and time.monotonic() - connection.last_used > self.max_idle_seconds:
            client.close()
        if client.is_connected:
            return True
        try:
            await client.connect()
            if client.is_ehlo_or_helo_needed:  # STARTTLS and AUTH said EHLO already
                try:
                    await client.ehlo()
                except SMTPHeloError:
                    await client.helo()
        except (SMTPException, OSError, TimeoutError) as error:
            client.close()
            raise _connect_failure(error) from None
        self.connections_opened += 1
        connection.last_used = time.monotonic()
        return False

    async def __aenter__(self) -> Mailer:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """QUIT the idle connections; one in use is closed when its send ends."""
        self._closed = True
        idle: list[_Connection] = []
        while not self._idle.empty():
            idle.append(self._idle.get_nowait())
        for connection in idle:
            if connection.client.is_connected:
                try:
                    await connection.client.quit(timeout=min(self.timeout_seconds, 2.0))
                except (SMTPException, OSError, TimeoutError):
                    pass
                finally:
                    connection.client.close()
            self._idle.put_nowait(connection)
