"""`make dev`'s SMTP sink: mail sent through the mailer is kept as files and served by the
web page and the JSON API, escaped, sandboxed, behind ids that cannot reach other files."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gateway.mailbox import HTML_PART_CSP, Mailbox, MailStore, mailbox_wanted, start_dev_mailbox
from shared.config import Settings
from subgraphs.notifications.config import NotificationsSettings
from subgraphs.notifications.mailer import Mailer, build_message

SENDER = "Spotify Agent <notifications@spotify-agent.local>"


@pytest.fixture
async def mailbox(tmp_path: Path) -> AsyncIterator[Mailbox]:
    async with Mailbox(tmp_path / "mailbox", smtp_port=0, web_port=0) as mailbox:
        yield mailbox


@pytest.fixture
async def web(mailbox: Mailbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=mailbox.web_url, timeout=10) as client:
        yield client


async def send_two(mailbox: Mailbox) -> None:
    async with Mailer(host="127.0.0.1", port=mailbox.smtp_port, timeout_seconds=10) as mailer:
        await mailer.send(
            build_message(
                sender=SENDER,
                to="Ada <ada@example.com>",
                subject="Première lettre",
                text="Bonjour Ada.",
                html="<p>Bonjour <b>Ada</b>.</p><script>alert(1)</script>",
                message_id="<ntf_1.a@spotify-agent.local>",
                headers={"List-Unsubscribe": "<https://app.example/u/1>"},
            )
        )
        await mailer.send(
            build_message(
                sender=SENDER,
                to="grace@example.com",
                subject="<b>x</b>",
                text="Second <i>text</i>.",
                html=None,
                message_id="<ntf_2.b@spotify-agent.local>",
            )
        )


async def test_sent_mail_is_listed_newest_first_with_its_headers(mailbox, web):
    await send_two(mailbox)
    listed = (await web.get("/api/messages")).json()
    assert [item["subject"] for item in listed] == ["<b>x</b>", "Première lettre"]
    newest, oldest = listed
    assert newest["to"] == "grace@example.com" and newest["message_id"] == "<ntf_2.b@spotify-agent.local>"
    assert oldest["from"] == SENDER and oldest["to"] == "Ada <ada@example.com>"
    assert oldest["headers"]["List-Unsubscribe"] == "<https://app.example/u/1>"
    assert oldest["headers"]["Return-Path"] == "<notifications@spotify-agent.local>"
    assert oldest["headers"]["Delivered-To"] == "ada@example.com"
    assert oldest["received_at"] < newest["received_at"]

    detail = (await web.get(f"/api/messages/{oldest['id']}")).json()
    assert detail["text"].strip() == "Bonjour Ada." and "<b>Ada</b>" in detail["html"]
    assert (await web.get(f"/api/messages/{newest['id']}")).json()["html"] is None

    captured = mailbox.messages()
    assert [message.header("Message-ID") for message in captured] == [
        "<ntf_2.b@spotify-agent.local>",
        "<ntf_1.a@spotify-agent.local>",
    ]
    assert captured[1].html is not None and captured[1].text is not None
    assert sorted(path.name for path in (mailbox.store.directory).iterdir()) == sorted(
        f"{message.id}.eml" for message in captured
    )

    index = await web.get("/")
    assert index.status_code == 200 and "text/html" in index.headers["content-type"]
    assert "&lt;b&gt;x&lt;/b&gt;" in index.text and "<b>x</b>" not in index.text
    assert index.text.index("&lt;b&gt;x") < index.text.index("Première lettre")  # newest first


async def test_the_message_page_escapes_and_sandboxes(mailbox, web):
    await send_two(mailbox)
    newest, oldest = (await web.get("/api/messages")).json()

    page = await web.get(f"/messages/{newest['id']}")
    assert page.status_code == 200
    assert "&lt;b&gt;x&lt;/b&gt;" in page.text and "<b>x</b>" not in page.text
    assert "Second &lt;i&gt;text&lt;/i&gt;." in page.text  # the text part, in a <pre>
    assert "<iframe" not in page.text  # no HTML part
    assert "script-src" not in page.headers["content-security-policy"]

    page = await web.get(f"/messages/{oldest['id']}")
    assert f'<iframe sandbox src="/messages/{oldest["id"]}/html"' in page.text
    assert "<script>" not in page.text  # the HTML part is only in the frame
    assert "List-Unsubscribe" in page.text  # every header, in a table

    frame = await web.get(f"/messages/{oldest['id']}/html")
    assert frame.status_code == 200 and "<script>alert(1)</script>" in frame.text
    assert frame.headers["content-security-policy"] == HTML_PART_CSP
    assert frame.headers["content-security-policy"].startswith("sandbox;")
    assert (await web.get(f"/messages/{newest['id']}/html")).status_code == 404

    raw = await web.get(f"/messages/{oldest['id']}/raw")
    assert raw.headers["content-type"].startswith("text/plain")
    assert raw.content.startswith(b"Return-Path: <notifications@spotify-agent.local>\r\n")
    assert b"Message-ID: <ntf_1.a@spotify-agent.local>" in raw.content


@pytest.mark.parametrize(
    "path",
    [
        "/messages/..%2F..%2F..%2Fetc%2Fpasswd",
        "/messages/..%2Fsecret",
        "/messages/%2e%2e",
        "/messages/..%2Fsecret/raw",
        "/messages/secret/raw",
        "/messages/00000000000000000000-0000000g/raw",
        "/messages/00000000000000000000-00000000",
        "/api/messages/..%2Fsecret",
        "/api/messages/%2e%2e%2fsecret",
        "/messages/..%5Csecret/raw",
    ],
)
async def test_ids_that_are_not_message_ids_are_not_found(mailbox, web, path):
    (mailbox.store.directory.parent / "secret.eml").write_text("Subject: not for you\r\n\r\nsecret")
    response = await web.get(path)
    assert response.status_code == 404
    assert "not for you" not in response.text


async def test_delete_clears_the_mailbox(mailbox, web):
    await send_two(mailbox)
    assert (await web.delete("/api/messages")).json() == {"deleted": 2}
    assert (await web.get("/api/messages")).json() == []
    assert mailbox.messages() == []
    assert "No mail yet" in (await web.get("/")).text


def test_the_store_keeps_the_last_messages(tmp_path: Path):
    store = MailStore(tmp_path, keep=3)
    ids = [
        store.save("a@example.com", ["b@example.com"], f"Subject: {n}\r\n\r\nbody".encode()) for n in range(5)
    ]
    assert ids == sorted(ids)  # sortable by arrival, even within one clock tick
    assert store.ids() == ids[:1:-1]
    assert [summary["subject"] for summary in store.summaries()] == ["4", "3", "2"]
    assert not list(tmp_path.glob(".*.tmp"))
    (tmp_path.parent / "outside.eml").write_text("x")
    assert store.path("../outside") is None and store.path(ids[-1]) == tmp_path / f"{ids[-1]}.eml"


def test_the_sink_runs_unless_smtp_host_is_set(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("SMTP_HOST", raising=False)
    monkeypatch.chdir(Path(__file__).parent)  # no .env here
    assert mailbox_wanted()
    monkeypatch.setenv("SMTP_HOST", "smtp.example.net")
    assert not mailbox_wanted()


async def test_make_dev_starts_the_sink_and_points_smtp_at_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("SMTP_HOST", raising=False)
    monkeypatch.delenv("SMTP_PORT", raising=False)
    monkeypatch.chdir(tmp_path)
    settings = Settings(_env_file=None, data_dir=tmp_path, mailbox_smtp_port=0, mailbox_web_port=0)  # type: ignore[call-arg]
    mailbox = await start_dev_mailbox(settings)
    assert mailbox is not None
    try:
        assert os.environ["SMTP_PORT"] == str(mailbox.smtp_port)
        assert NotificationsSettings().smtp_port == mailbox.smtp_port  # what the senders read
        assert mailbox.store.directory == tmp_path / "mailbox"
        # A second sink on the same ports is not started (and says so), `make dev` goes on.
        taken = settings.model_copy(update={"mailbox_smtp_port": mailbox.smtp_port})
        assert await start_dev_mailbox(taken) is None
        web_port = int(mailbox.web_url.rsplit(":", 1)[1])
        assert await start_dev_mailbox(settings.model_copy(update={"mailbox_web_port": web_port})) is None
    finally:
        await mailbox.stop()
    monkeypatch.setenv("SMTP_HOST", "smtp.example.net")
    assert await start_dev_mailbox(settings) is None
