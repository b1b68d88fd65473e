"""The mailer against real SMTP servers (aiosmtpd on 127.0.0.1, free ports): what arrives,
how refusals are classified (and that no address leaks into them), pooling and dropped
connections, STARTTLS and implicit TLS with a self-signed certificate, AUTH."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gateway.mailbox import SmtpController, quiet_mail_log
from subgraphs.notifications.config import NotificationsSettings, SmtpSecurity
from subgraphs.notifications.mailer import Mailer, PermanentFailure, TemporaryFailure, build_message

SENDER = "Spotify Agent <notifications@spotify-agent.local>"
ADDRESS = "ada.lovelace@example.com"
USERNAME, PASSWORD = "mailer", "correct horse battery staple"


class Recorder:
    """Accepts every message and keeps it, with the connection (peer) it came over."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], bytes, Any]] = []
        self.peers: set[Any] = set()
        self.logins: list[bytes | None] = []

    def parsed(self, index: int = -1) -> EmailMessage:
        message = BytesParser(_class=EmailMessage, policy=default_policy).parsebytes(self.received[index][1])
        assert isinstance(message, EmailMessage)
        return message

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((list(envelope.rcpt_tos), envelope.original_content, session.peer))
        self.peers.add(session.peer)
        self.logins.append(session.auth_data.login if session.auth_data else None)
        return "250 2.0.0 OK"


class RefusesOnce(Recorder):
    """Answers `reply` (which echoes the address, as servers do) to the first RCPT or DATA."""

    def __init__(self, stage: str, reply: str) -> None:
        super().__init__()
        self.stage, self.reply, self.refused = stage, reply, 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.stage == "RCPT" and (self.refused == 0 or self.reply.startswith("5")):
            self.refused += 1
            return self.reply.format(address=address)
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.stage == "DATA" and self.refused == 0:
            self.refused += 1
            return self.reply.format(address=envelope.rcpt_tos[0])
        return await super().handle_DATA(server, session, envelope)


class DropsAtMail(Recorder):
    """Closes a connection without a reply when a MAIL comes after `allowed` messages on it:
    a server giving up on an idle client just as it is used again."""

    def __init__(self, allowed: int) -> None:
        super().__init__()
        self.allowed = allowed
        self.per_connection: dict[Any, int] = {}

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.per_connection.get(session.peer, 0) >= self.allowed:
            server.transport.close()
            return "421 4.4.2 closing"  # not delivered: the transport is closed
        envelope.mail_from = address
        return "250 2.1.0 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.per_connection[session.peer] = self.per_connection.get(session.peer, 0) + 1
        return await super().handle_DATA(server, session, envelope)


class ClosesAfterEach(Recorder):
    """Accepts a message, then closes the connection (an idle timeout of zero)."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        asyncio.get_running_loop().call_soon(server.transport.close)  # after the reply is written
        return reply


@asynccontextmanager
async def smtp_server(handler: Any, **options: Any) -> AsyncIterator[SmtpController]:
    quiet_mail_log()  # aiosmtpd logs addresses, and message lines at DEBUG
    controller = SmtpController(handler, hostname="127.0.0.1", port=0, ready_timeout=30, **options)
    await asyncio.to_thread(controller.start)
    try:
        yield controller
    finally:
        await asyncio.to_thread(controller.stop)


def mailer_for(server: SmtpController, **options: Any) -> Mailer:
    options.setdefault("timeout_seconds", 10)
    return Mailer(host="127.0.0.1", port=server.port, **options)


def message(subject: str = "Weekly report", to: str = ADDRESS, **options: Any) -> EmailMessage:
    return build_message(
        sender=SENDER,
        to=to,
        subject=subject,
        text=options.pop("text", "Your artists had a good week."),
        html=options.pop("html", "<p>Your artists had a <b>good</b> week.</p>"),
        message_id=options.pop("message_id", "<ntf_123.abc@spotify-agent.local>"),
        **options,
    )


def assert_no_leak(error: BaseException) -> None:
    text = f"{error} {error!r} {getattr(error, 'reason', '')}"
    assert "@" not in text and "lovelace" not in text
    assert error.__suppress_context__ and error.__cause__ is None  # aiosmtplib's exception is not chained


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1: (server context, client context trusting it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    (folder / "cert.pem").write_bytes(cert_pem)
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return server, client


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data == (USERNAME.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False, auth_data=auth_data)  # handled=False: aiosmtpd replies 535


# What arrives.


async def test_a_message_arrives_with_its_headers_both_parts_and_an_encoded_subject():
    recorder = Recorder()
    subject = "Ta semaine : « Élodie » a gagné 12 % d'écoutes — Grüße aus Köln"
    # A one-click URL longer than a line: the stdlib alone would make it an RFC 2047 encoded word.
    unsubscribe = f"<https://app.example/unsubscribe/{'t' * 90}>, <mailto:unsubscribe@spotify-agent.local>"
    sent = message(
        subject,
        text="Bonjour Zoë,\nvotre semaine en chiffres.",
        html="<p>Bonjour Zoë, <i>votre</i> semaine.</p>",
        headers={
            "List-Unsubscribe": unsubscribe,
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            "X-Entity-Ref-ID": "ntf_123",
        },
    )
    async with smtp_server(recorder) as server, mailer_for(server) as mailer:
        await mailer.send(sent)
    [(recipients, raw, _)] = recorder.received
    assert recipients == [ADDRESS]
    assert raw.isascii()  # encoded for any relay: RFC 2047 subject, quoted-printable parts
    received = recorder.parsed()
    assert received["Message-ID"] == "<ntf_123.abc@spotify-agent.local>"
    assert received["Subject"] == subject
    assert (
        received["List-Unsubscribe"] == unsubscribe and b"=?" not in raw.split(b"List-Unsubscribe:")[1][:200]
    )
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received["Auto-Submitted"] == "auto-generated" and received["X-Entity-Ref-ID"] == "ntf_123"
    assert received["MIME-Version"] == "1.0" and received["Date"].datetime is not None
    assert received.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in received.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    text_part = received.get_body(("plain",))
    html_part = received.get_body(("html",))
    assert text_part is not None and html_part is not None
    assert text_part.get_content().replace("\r\n", "\n") == "Bonjour Zoë,\nvotre semaine en chiffres.\n"
    assert "Bonjour Zoë, <i>votre</i>" in html_part.get_content()


def test_build_message_refuses_header_injection_and_structural_headers():
    with pytest.raises(ValueError):
        message("Hello\r\nBcc: someone@example.com")
    with pytest.raises(ValueError):
        message(headers={"X-Entity-Ref-ID": "a\nBcc: x@example.com"})
    with pytest.raises(ValueError, match="written by build_message"):
        message(headers={"Message-ID": "<other@example.com>"})
    with pytest.raises(ValueError, match="message_id"):
        message(message_id="ntf_123")
    plain = build_message(sender=SENDER, to=ADDRESS, subject="s", text="t", html=None, message_id="<a@b>")
    assert plain.get_content_type() == "text/plain"


async def test_a_message_to_two_recipients_is_refused_before_any_connection():
    async with smtp_server(Recorder()) as server, mailer_for(server) as mailer:
        with pytest.raises(ValueError) as raised:
            await mailer.send(message(to=f"{ADDRESS}, grace@example.com"))
        assert "@" not in str(raised.value)
        assert mailer.connections_opened == 0


# How refusals are classified.


@pytest.mark.parametrize("stage", ["RCPT", "DATA"])
async def test_a_421_is_temporary_and_the_next_send_goes_through(stage):
    recorder = RefusesOnce(stage, "421 4.7.0 Try again later, {address}")
    async with smtp_server(recorder) as server, mailer_for(server) as mailer:
        with pytest.raises(TemporaryFailure) as raised:
            await mailer.send(message())
        assert raised.value.code == 421 and raised.value.enhanced == "4.7.0"
        assert str(raised.value) == f"421 4.7.0 from server at {'RCPT TO' if stage == 'RCPT' else 'DATA'}"
        assert_no_leak(raised.value)
        assert recorder.received == []
        await mailer.send(message())  # the caller (a job) retries; this time it is accepted
    assert len(recorder.received) == 1


async def test_a_550_to_rcpt_is_permanent_and_names_no_address():
    recorder = RefusesOnce("RCPT", "550 5.1.1 <{address}>: Recipient address rejected: User unknown")
    async with smtp_server(recorder) as server, mailer_for(server) as mailer:
        with pytest.raises(PermanentFailure) as raised:
            await mailer.send(message())
        # The connection stays usable after a refusal (the envelope was reset).
        with pytest.raises(PermanentFailure):
            await mailer.send(message())
        assert mailer.connections_opened == 1
    assert raised.value.code == 550 and raised.value.enhanced == "5.1.1"
    assert str(raised.value) == "550 5.1.1 from server at RCPT TO"
    assert "Recipient" not in str(raised.value)
    assert_no_leak(raised.value)
    assert recorder.received == []


async def test_a_554_to_data_is_permanent():
    recorder = RefusesOnce("DATA", "554 5.7.1 Message rejected as spam for {address}")
    async with smtp_server(recorder) as server, mailer_for(server) as mailer:
        with pytest.raises(PermanentFailure) as raised:
            await mailer.send(message())
    assert raised.value.code == 554 and str(raised.value) == "554 5.7.1 from server at DATA"
    assert_no_leak(raised.value)


async def test_a_server_that_is_down_is_a_temporary_failure():
    with socket.socket() as reserved:  # bound, not listening: connections are refused
        reserved.bind(("127.0.0.1", 0))
        async with Mailer(host="127.0.0.1", port=reserved.getsockname()[1], timeout_seconds=5) as mailer:
            with pytest.raises(TemporaryFailure) as raised:
                await mailer.send(message())
    assert raised.value.code is None
    assert "ConnectionRefusedError" in str(raised.value)
    assert_no_leak(raised.value)
    assert mailer.connections_opened == 0


# Pooling and dropped connections.


async def test_twenty_sends_share_two_connections():
    recorder = Recorder()
    async with smtp_server(recorder) as server, mailer_for(server, connections=2) as mailer:
        await asyncio.gather(*(mailer.send(message(message_id=f"<ntf_{n}@x.local>")) for n in range(20)))
        assert mailer.connections_opened <= 2
    assert len(recorder.received) == 20
    assert len(recorder.peers) <= 2
    ids = sorted(recorder.parsed(n)["Message-ID"] for n in range(20))
    assert ids == sorted(f"<ntf_{n}@x.local>" for n in range(20))


async def test_a_connection_the_server_dropped_while_idle_is_replaced():
    recorder = ClosesAfterEach()
    async with smtp_server(recorder) as server, mailer_for(server, connections=1) as mailer:
        for _ in range(3):
            await mailer.send(message())
        assert mailer.connections_opened == 3
    assert len(recorder.received) == 3


async def test_a_reused_connection_dropped_as_it_is_used_is_retried_once_on_a_fresh_one():
    recorder = DropsAtMail(allowed=1)
    async with smtp_server(recorder) as server, mailer_for(server, connections=1) as mailer:
        await mailer.send(message())
        await mailer.send(message())  # the first connection is dropped at MAIL: a second one takes it
        assert mailer.connections_opened == 2
    assert len(recorder.received) == 2 and len(recorder.peers) == 2


async def test_a_fresh_connection_dropped_is_a_temporary_failure_without_retry():
    recorder = DropsAtMail(allowed=0)
    async with smtp_server(recorder) as server, mailer_for(server, connections=1) as mailer:
        with pytest.raises(TemporaryFailure) as raised:
            await mailer.send(message())
        assert mailer.connections_opened == 1
    assert raised.value.code in (None, 421)
    assert recorder.received == []


async def test_a_connection_idle_too_long_is_reopened_before_use():
    recorder = Recorder()
    async with smtp_server(recorder) as server, mailer_for(server, max_idle_seconds=0) as mailer:
        await mailer.send(message())
        await mailer.send(message())
        assert mailer.connections_opened == 2
    assert len(recorder.received) == 2


async def test_a_closed_mailer_sends_nothing():
    async with smtp_server(Recorder()) as server:
        mailer = mailer_for(server)
        await mailer.send(message())
        await mailer.aclose()
        with pytest.raises(RuntimeError):
            await mailer.send(message())


# TLS and AUTH.


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
async def test_starttls_with_auth(certificate, mechanism):
    server_tls, client_tls = certificate
    recorder = Recorder()
    other = "LOGIN" if mechanism == "PLAIN" else "PLAIN"
    async with smtp_server(
        recorder,
        tls_context=server_tls,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
        auth_exclude_mechanism=[other],
    ) as server:
        options = {"security": "starttls", "username": USERNAME, "tls_context": client_tls}
        async with mailer_for(server, password=PASSWORD, **options) as mailer:
            await mailer.send(message())
            await mailer.send(message())
            assert mailer.connections_opened == 1
        async with mailer_for(server, password="wrong", **options) as mailer:
            with pytest.raises(TemporaryFailure) as raised:
                await mailer.send(message())
    assert recorder.logins == [USERNAME.encode()] * 2  # only the right password delivered
    assert raised.value.code == 535 and str(raised.value) == "535 5.7.8 from server at AUTH"
    assert "wrong" not in repr(raised.value)
    assert_no_leak(raised.value)


async def test_starttls_validates_the_certificate_by_default(certificate):
    server_tls, _ = certificate
    recorder = Recorder()
    async with smtp_server(recorder, tls_context=server_tls, require_starttls=True) as server:
        async with mailer_for(server, security=SmtpSecurity.STARTTLS) as mailer:
            with pytest.raises(TemporaryFailure, match="not trusted"):
                await mailer.send(message())
    assert recorder.received == []


async def test_a_server_requiring_starttls_refuses_plain_mail_and_that_is_configuration(certificate):
    server_tls, _ = certificate
    recorder = Recorder()
    async with smtp_server(recorder, tls_context=server_tls, require_starttls=True) as server:
        async with mailer_for(server) as mailer:  # security "none": MAIL without TLS gets 530
            with pytest.raises(TemporaryFailure) as raised:
                await mailer.send(message())
    assert raised.value.code == 530
    assert recorder.received == []


async def test_implicit_tls_with_auth(certificate):
    server_tls, client_tls = certificate
    recorder = Recorder()
    # aiosmtpd only knows a connection is TLS after STARTTLS: on an implicit-TLS listener it
    # would not offer AUTH unless told it need not require TLS (the connection is TLS anyway).
    async with smtp_server(
        recorder, ssl_context=server_tls, authenticator=authenticator, auth_require_tls=False
    ) as server:
        async with mailer_for(
            server, security="ssl", username=USERNAME, password=PASSWORD, tls_context=client_tls
        ) as mailer:
            await mailer.send(message())
    assert recorder.logins == [USERNAME.encode()]
    assert recorder.parsed()["Message-ID"] == "<ntf_123.abc@spotify-agent.local>"


async def test_implicit_tls_to_a_plain_server_is_a_temporary_failure(certificate):
    _, client_tls = certificate
    async with smtp_server(Recorder()) as server:
        async with mailer_for(server, security="ssl", tls_context=client_tls, timeout_seconds=5) as mailer:
            with pytest.raises(TemporaryFailure):
                await mailer.send(message())


def test_from_settings():
    settings = NotificationsSettings(
        _env_file=None,  # type: ignore[call-arg]
        smtp_host="smtp.example.net",
        smtp_port=465,
        smtp_username="u",
        smtp_password="p",  # type: ignore[arg-type]
        smtp_security="ssl",  # type: ignore[arg-type]
        smtp_timeout_seconds=3.0,
        smtp_connections=4,
    )
    mailer = Mailer.from_settings(settings)
    assert (mailer.host, mailer.port, mailer.security) == ("smtp.example.net", 465, SmtpSecurity.SSL)
    assert mailer.timeout_seconds == 3.0 and mailer._idle.qsize() == 4
