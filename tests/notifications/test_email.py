"""E-mail end to end on real servers: the platform's host under uvicorn (accounts answers the
address lookup, collaboration makes the events), the notifications consumer, the send job, and
aiosmtpd as the SMTP server (the dev mailbox, or one that answers 421 or 550). Exactly one
message per (event, recipient); RFC 8058 one-click unsubscribe as a mail client sends it;
tracking that only follows links we issued; an invitation whose mailed link joins the
workspace; deliveries as a tenant admin sees them."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import select

from gateway.mailbox import Mailbox
from shared.config import Settings
from shared.db import Database, utcnow
from shared.domain_events import ConsumerRunner
from shared.redis import free_port
from subgraphs.notifications.config import NotificationsSettings
from subgraphs.notifications.models import NotificationDigestEntry, NotificationEmail, NotificationPreference
from subgraphs.notifications.service import email
from subgraphs.notifications.service.links import LinkSigner
from subgraphs.notifications.tasks import CONSUMERS, resume_emails, send_digests, send_email
from tests.notifications.support import Team
from tests.notifications.test_mailer import RefusesOnce, smtp_server
from tests.support.counting import count_statements
from tests.support.graphql import PASSWORD, codes, gql, sign_up, unique_email
from tests.support.hosting import served_together
from tests.support.secrets import remember_secret


@dataclass
class World:
    team: Team
    ctx: dict[str, Any]
    mailbox: Mailbox
    url: str
    database: Database

    def use_smtp(self, port: int) -> None:
        """Points the send job at another SMTP server (a fresh pooled mailer)."""
        config: NotificationsSettings = self.ctx["subgraph_settings"]["notifications"]
        self.ctx["subgraph_settings"]["notifications"] = config.model_copy(update={"smtp_port": port})
        self.ctx.pop("notifications_outbound", None)

    async def emails(self, **equals: Any) -> list[NotificationEmail]:
        async with self.database.read() as session:
            stmt = select(NotificationEmail).where(
                *(getattr(NotificationEmail, k) == v for k, v in equals.items())
            )
            return list((await session.execute(stmt.order_by(NotificationEmail.id))).scalars())

    async def send_queued(self) -> list[str]:
        return [
            (await send_email(self.ctx, row.id))["status"]
            for row in await self.emails()
            if row.status == "QUEUED"
        ]

    async def close(self) -> None:
        found = self.ctx.pop("notifications_outbound", None)
        if found is not None:
            await found.mailer.aclose()
            await found.graph.aclose()


@pytest.fixture
async def world(
    settings: Settings, redis_server: Any, database: Database, tmp_path: Path
) -> AsyncIterator[World]:
    redis = Redis.from_url(redis_server.url, decode_responses=True)
    await redis.flushall()
    names = ["accounts", "collaboration", "notifications"]
    async with Mailbox(tmp_path / "mailbox", smtp_port=0, web_port=0) as mailbox:
        with served_together(names, settings, redis_server.url) as (_, server):
            config = NotificationsSettings(
                smtp_host="127.0.0.1",
                smtp_port=mailbox.smtp_port,
                notifications_graph_url=f"{server.url}/accounts/graphql",
                notifications_public_url=f"{server.url}/notifications",
            )
            ctx: dict[str, Any] = {
                "db": database,
                "settings": settings,
                "platform_redis": redis,
                "subgraph_settings": {"notifications": config},
            }
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
                platform = type("Served", (), {"client": client})()
                team = await Team(platform, ConsumerRunner(redis, database, CONSUMERS, context=ctx)).form()
                world = World(team, ctx, mailbox, server.url, database)
                try:
                    yield world
                finally:
                    await world.close()
    await redis.aclose()


def _addressed_to(mailbox: Mailbox, address: str) -> list[Any]:
    return [message for message in mailbox.messages() if message.header("To") == address]


def _links(html: str) -> list[str]:
    return [link.replace("&amp;", "&") for link in re.findall(r'href="([^"]+)"', html)]


async def test_a_mention_mails_bob_once_with_headers_a_mail_client_can_unsubscribe_with(world):
    team = world.team
    await team.mention_bob("Listen to the bridge <b>now</b>")
    (row,) = await world.emails(recipient_id=team.bob["user"]["id"], kind="comment_mention")
    with count_statements(world.database) as sent:
        assert (await send_email(world.ctx, row.id))["status"] == "SENT"
    # Claim (one UPDATE ... RETURNING), suppression, preferences, the person, the outcome.
    assert sent.count == 5, sent.statements
    assert (await send_email(world.ctx, row.id))["status"] == "ALREADY_HANDLED"  # the job ran twice
    mail = _addressed_to(world.mailbox, team.bob["email"])
    assert len(mail) == 1
    message = mail[0]
    assert message.header("Message-ID") == row.message_id
    assert "Ann" in message.header("Subject")
    assert message.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    unsubscribe = re.search(r"<(http[^>]+)>", message.header("List-Unsubscribe"))
    assert unsubscribe and "mailto:" in message.header("List-Unsubscribe")
    assert f"/projects/{team.project}?comment=" in (message.text or "")
    assert "&lt;b&gt;now&lt;/b&gt;" in (message.html or "") and "<b>now</b>" in (message.text or "")

    # The mail client's one-click POST: no login, the form body RFC 8058 prescribes.
    async with httpx.AsyncClient() as client:
        confirm = await client.get(unsubscribe.group(1))
        assert confirm.status_code == 200 and "Unsubscribe" in confirm.text
        async with world.database.read() as session:
            assert (
                await session.get(NotificationPreference, (row.tenant_id, row.recipient_id)) is None
            )  # a GET changes nothing
        done = await client.post(
            unsubscribe.group(1),
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert done.status_code == 200
    async with world.database.read() as session:
        preference = await session.get(NotificationPreference, (row.tenant_id, row.recipient_id))
    assert preference is not None and preference.channels["mentions"]["email"] is False

    await team.mention_bob("And the outro")
    assert (
        len(await world.emails(recipient_id=team.bob["user"]["id"], kind="comment_mention")) == 1
    )  # in-app only
    inbox = await team.ok("notifications", "{ unreadNotificationCount }", None, team.bob["token"])
    assert inbox["unreadNotificationCount"] >= 2


async def test_links_in_mail_are_signed_tracking_follows_only_ours_and_records_once(world):
    team = world.team
    await team.mention_bob()
    (row,) = await world.emails(kind="comment_mention")
    await send_email(world.ctx, row.id)
    (message,) = _addressed_to(world.mailbox, team.bob["email"])
    html = message.html or ""
    pixel = re.search(r'<img src="([^"]+/open\?[^"]+)"', html)
    assert pixel is not None
    click = next(link for link in _links(html) if "/click?" in link)
    async with httpx.AsyncClient() as client:
        opened = await client.get(pixel.group(1).replace("&amp;", "&"))
        assert opened.status_code == 200 and opened.headers["content-type"] == "image/gif"
        followed = await client.get(click)
        assert followed.status_code == 302
        assert (
            followed.headers["location"].startswith("http")
            and f"/projects/{team.project}" in followed.headers["location"]
        )

        token = parse_qs(urlsplit(click).query)["t"][0]
        payload, signature = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims["u"] = "https://evil.example/phish"
        forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        for bad in (f"{forged_payload}.{signature}", "nonsense", ""):
            refused = await client.get(f"{world.url}/notifications/click", params={"t": bad})
            assert refused.status_code == 400 and "location" not in refused.headers
        for bad in ("nonsense", f"{forged_payload}.{signature}"):
            page = await client.post(f"{world.url}/notifications/unsubscribe", params={"t": bad})
            assert page.status_code == 400
        links = LinkSigner.from_settings(world.ctx["settings"], f"{world.url}/notifications")
        expired = links.sign("unsubscribe", {"t": row.tenant_id, "u": row.recipient_id, "c": "mentions"}, -1)
        stale = await client.post(f"{world.url}/notifications/unsubscribe", params={"t": expired})
        assert stale.status_code == 400 and "expired" in stale.text
    (after,) = await world.emails(kind="comment_mention")
    assert after.opened_at is not None and after.clicked_at is not None


async def test_security_mail_has_no_unsubscribe_and_no_tracking(world):
    team = world.team
    logged_in = await gql(
        team.platform.client,
        "mutation($i: LogInInput!) { logIn(input: $i) { accessToken } }",
        {"i": {"email": team.bob["email"], "password": PASSWORD}},
        path="/accounts/graphql",
    )
    assert "errors" not in logged_in, logged_in
    remember_secret(logged_in["data"]["logIn"]["accessToken"])
    await team.deliver()
    (row,) = await world.emails(kind="new_sign_in")
    assert (await send_email(world.ctx, row.id))["status"] == "SENT"
    (message,) = [
        m for m in _addressed_to(world.mailbox, team.bob["email"]) if m.header("Message-ID") == row.message_id
    ]
    assert message.header("List-Unsubscribe") == "" and message.header("List-Unsubscribe-Post") == ""
    assert "/open?" not in (message.html or "") and "/click?" not in (message.html or "")


async def test_a_421_defers_the_mail_and_the_next_try_sends_it_once(world):
    team = world.team
    handler = RefusesOnce("RCPT", "421 4.7.0 {address} try again later")
    async with smtp_server(handler) as server:
        world.use_smtp(server.port)
        await team.mention_bob()
        (row,) = await world.emails(kind="comment_mention")
        assert (await send_email(world.ctx, row.id))["status"] == "DEFERRED"
        (deferred,) = await world.emails(kind="comment_mention")
        assert deferred.last_error == "421 temporary" and deferred.not_before is not None
        assert team.bob["email"] not in (deferred.last_error or "")
        assert row.id not in [email_id for email_id, _, _ in await email.due(world.database, utcnow())]
        assert row.id in [email_id for email_id, _, _ in await email.due(world.database, deferred.not_before)]
        queue = _Queue()
        world.ctx["redis"] = queue
        async with world.database.write() as session:
            stored = await session.get(NotificationEmail, row.id)
            assert stored is not None
            stored.not_before = utcnow()
        await resume_emails(world.ctx)
        assert ("send_email", (row.id,), f"send_email:{row.id}:1") in queue.jobs
        assert (await send_email(world.ctx, row.id))["status"] == "SENT"
        assert len(handler.received) == 1
        (sent,) = await world.emails(kind="comment_mention")
        assert sent.attempts == 2 and sent.status == "SENT"


async def test_a_550_bounces_suppresses_the_address_and_later_mail_is_not_attempted(world):
    team = world.team
    handler = RefusesOnce("RCPT", "550 5.1.1 <{address}> no such mailbox")
    async with smtp_server(handler) as server:
        world.use_smtp(server.port)
        await team.mention_bob("one")
        (first,) = await world.emails(kind="comment_mention")
        assert (await send_email(world.ctx, first.id))["status"] == "BOUNCED"
        await team.mention_bob("two")
        second = (await world.emails(kind="comment_mention"))[-1]
        assert (await send_email(world.ctx, second.id))["status"] == "SUPPRESSED"
        assert handler.refused == 1 and handler.received == []
    summary = await team.ok(
        "notifications", "{ emailDeliverySummary { bounced suppressed sent } }", None, team.ann["token"]
    )
    assert (
        summary["emailDeliverySummary"]["bounced"] == 1 and summary["emailDeliverySummary"]["suppressed"] == 1
    )


async def test_a_server_that_is_down_loses_nothing_and_sends_once_when_it_is_back(world):
    team = world.team
    world.use_smtp(_closed_port())
    await team.mention_bob()
    (row,) = await world.emails(kind="comment_mention")
    assert (await send_email(world.ctx, row.id))["status"] == "DEFERRED"
    world.use_smtp(world.mailbox.smtp_port)
    assert (await send_email(world.ctx, row.id))["status"] == "SENT"
    assert len(_addressed_to(world.mailbox, team.bob["email"])) == 1


async def test_an_invitation_mail_reaches_the_invitee_and_its_link_joins_the_workspace(world):
    team = world.team
    invitee_address = unique_email("invitee")
    created = await team.ok(
        "collaboration",
        "mutation($i: CreateWorkspaceInvitationInput!) { createWorkspaceInvitation(input: $i) { code } }",
        {"i": {"workspaceId": team.workspace, "role": "VIEWER", "email": invitee_address}},
        team.ann["token"],
    )
    remember_secret(created["createWorkspaceInvitation"]["code"])
    malformed = await team.call(
        "collaboration",
        "mutation($i: CreateWorkspaceInvitationInput!) { createWorkspaceInvitation(input: $i) { code } }",
        {"i": {"workspaceId": team.workspace, "role": "VIEWER", "email": "not an address"}},
        team.ann["token"],
    )
    assert codes(malformed) == ["BAD_USER_INPUT"]
    await team.deliver()
    (row,) = await world.emails(kind="workspace_invitation")
    assert row.recipient_id is None
    assert (await send_email(world.ctx, row.id))["status"] == "SENT"
    (sent,) = await world.emails(kind="workspace_invitation")
    assert sent.invitee_address is None  # the address is dropped once sent
    (message,) = _addressed_to(world.mailbox, invitee_address)
    assert "Summer" in message.header("Subject") + (message.text or "")
    assert "/open?" not in (message.html or "")  # someone without an account is not tracked
    accept = next(link for link in _links(message.html or "") if "acceptWorkspaceInvitation" in link)
    mutation = parse_qs(urlsplit(accept).query)["query"][0]

    code = (
        await team.ok(
            "accounts",
            "mutation { createInvitation(input: {role: MEMBER}) { code } }",
            None,
            team.ann["token"],
        )
    )["createInvitation"]["code"]
    remember_secret(code)
    invitee = await sign_up(
        team.platform.client,
        path="/accounts/graphql",
        email=invitee_address,
        invitation_code=code,
        display_name="Dee",
    )
    joined = await team.ok("collaboration", mutation, None, invitee["token"])
    assert joined["acceptWorkspaceInvitation"]["workspace"] == {"id": team.workspace, "name": "Summer"}


async def test_held_project_changes_go_out_as_one_digest_notification_and_one_mail(world):
    team = world.team
    await team.ok(
        "notifications",
        "mutation($i: UpdateNotificationPreferencesInput!) { updateNotificationPreferences(input: $i) { preferences { language } } }",
        {"i": {"categories": [{"category": "PROJECTS", "digest": "HOURLY"}]}},
        team.bob["token"],
    )
    await team.ok(
        "collaboration",
        "mutation($i: AddCommentInput!) { addComment(input: $i) { comment { id } } }",
        {"i": {"projectId": team.project, "body": "I am in"}},
        team.bob["token"],
    )
    for track in ("4uLU6hMCjMI75M1A2tKUQC", "0VjIjW4GlUZAMYd2vXMi3b"):
        await team.ok(
            "collaboration",
            "mutation($i: UpdateProjectInput!) { updateProject(input: $i) { project { version } } }",
            {
                "i": {
                    "id": team.project,
                    "version": await _version(team),
                    "operations": [{"op": "add", "path": "/trackIds/-", "value": track}],
                }
            },
            team.ann["token"],
        )
    await team.deliver()
    async with world.database.write() as session:
        held = list((await session.execute(select(NotificationDigestEntry))).scalars())
        assert len(held) == 2
        for entry in held:
            entry.due_at = utcnow()
    queue = _Queue()
    world.ctx["redis"] = queue
    assert await send_digests(world.ctx) == {"digests": 1, "emails": 1}
    assert await send_digests(world.ctx) == {"digests": 0, "emails": 0}
    inbox = await team.ok(
        "notifications",
        "{ notifications(category: PROJECTS) { edges { node { kind title body } } } }",
        None,
        team.bob["token"],
    )
    (digest,) = [edge["node"] for edge in inbox["notifications"]["edges"]]
    assert digest["kind"] == "digest"
    (row,) = await world.emails(kind="digest")
    assert (await send_email(world.ctx, row.id))["status"] == "SENT"
    (message,) = [
        m for m in _addressed_to(world.mailbox, team.bob["email"]) if m.header("Message-ID") == row.message_id
    ]
    assert (message.text or "").count("Road trip") >= 2  # both changes, in one mail


async def test_deliveries_are_for_tenant_admins_and_carry_no_address(world):
    team = world.team
    await team.mention_bob()
    await world.send_queued()
    page = await team.ok(
        "notifications",
        "{ emailDeliveries(first: 5) { edges { node { kind status attempts recipient { id } messageId sentAt } } } }",
        None,
        team.ann["token"],
    )
    nodes = [edge["node"] for edge in page["emailDeliveries"]["edges"]]
    assert {"kind": "comment_mention", "status": "SENT"}.items() <= nodes[0].items()
    assert team.bob["email"] not in json.dumps(page)
    refused = await team.call(
        "notifications", "{ emailDeliveries { edges { node { id } } } }", None, team.bob["token"]
    )
    assert codes(refused) == ["FORBIDDEN"]
    bad = await team.call(
        "notifications",
        '{ emailDeliveries(status: "LOST") { edges { node { id } } } }',
        None,
        team.ann["token"],
    )
    assert codes(bad) == ["BAD_USER_INPUT"]


class _Queue:
    """Records what would be queued for the worker (arq's `enqueue_job`)."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, tuple[Any, ...], str]] = []

    async def enqueue_job(self, function: str, *args: Any, _job_id: str, _defer_until: Any = None) -> None:
        self.jobs.append((function, args, _job_id))


async def _version(team: Team) -> int:
    found = await team.ok(
        "collaboration",
        "query($id: ID!) { project(id: $id) { version } }",
        {"id": team.project},
        team.ann["token"],
    )
    return int(found["project"]["version"])


def _closed_port() -> int:
    return free_port()  # nothing listens there
