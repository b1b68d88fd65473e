"""A mention through the router, as the issue tells it: A mentions B in a comment; B's
`notificationReceived` subscription (a WebSocket to the router, the token in
`connection_init`) gets it, B's unread count is 1, and exactly one mail reaches B at the SMTP
sink with the comment's link. B unsubscribes from mention mail with the one-click POST a mail
client sends; the next mention is in-app only. The consumer and the send job run as the
worker runs them, the address lookup goes through the router."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text

from gateway.mailbox import Mailbox
from shared.db import Database
from shared.domain_events import ConsumerRunner
from subgraphs.notifications.config import NotificationsSettings
from subgraphs.notifications.tasks import CONSUMERS, send_email
from tests.notifications.support import Team
from tests.support.ws import GraphQLWebSocket

pytestmark = [pytest.mark.e2e, pytest.mark.realtime]

RECEIVED = (
    "subscription($after: String) { notificationReceived(after: $after) { id notification { kind link } } }"
)
QUEUED = "select id from notifications_email where recipient_id = :user and status = 'QUEUED' order by id"


class RouterTeam(Team):
    """The team's calls go to the router's one endpoint, whatever subgraph serves them."""

    def path(self, subgraph: str) -> str:
        return "/graphql"


async def test_a_mention_through_the_router_arrives_live_counted_and_mailed_once_until_unsubscribed(
    platform, redis_server, tmp_path: Path
):
    database = Database(platform.settings.resolved_database_url)
    redis = Redis.from_url(redis_server.url, decode_responses=True)
    async with Mailbox(tmp_path / "mailbox", smtp_port=0, web_port=0) as mailbox:
        ctx: dict[str, Any] = {
            "db": database,
            "settings": platform.settings,
            "platform_redis": redis,
            "subgraph_settings": {
                "notifications": NotificationsSettings(
                    smtp_port=mailbox.smtp_port,
                    notifications_graph_url=f"{platform.router_url}/graphql",
                    notifications_public_url=f"{platform.subgraph_url}/notifications",
                )
            },
        }
        runner = ConsumerRunner(redis, database, CONSUMERS, context=ctx)
        try:
            async with httpx.AsyncClient(base_url=platform.router_url, timeout=60) as router:
                team = await RouterTeam(type("Router", (), {"client": router})(), runner).form()
                bob_id = team.bob["user"]["id"]
                url = platform.router_url.replace("http", "ws") + "/graphql"
                async with GraphQLWebSocket(url, {"Authorization": f"Bearer {team.bob['token']}"}) as ws:
                    assert (await ws.ack())["type"] == "connection_ack"
                    await ws.subscribe(RECEIVED, {"after": "0-0"})
                    comment_id = await team.mention_bob("The chorus at 1:12")
                    message = await ws.next(timeout=60)
                    live = message["payload"]["data"]["notificationReceived"]["notification"]
                    assert live["kind"] == "comment_mention" and live["link"].endswith(
                        f"?comment={comment_id}"
                    )
                count = await team.ok("notifications", "{ unreadNotificationCount }", None, team.bob["token"])
                assert count == {"unreadNotificationCount": 1}

                queued = await _queued(database, bob_id)
                assert len(queued) == 1
                for _ in range(2):  # a job that runs twice sends once
                    await asyncio.gather(*(send_email(ctx, email_id) for email_id in queued))
                mail = [m for m in mailbox.messages() if m.header("To") == team.bob["email"]]
                assert len(mail) == 1
                assert f"/projects/{team.project}?comment={comment_id}" in (mail[0].text or "")

                one_click = re.search(r"<(http[^>]+)>", mail[0].header("List-Unsubscribe"))
                assert one_click is not None
                async with httpx.AsyncClient() as mail_client:
                    done = await mail_client.post(
                        one_click.group(1),
                        content=b"List-Unsubscribe=One-Click",
                        headers={"Content-Type": "application/x-www-form-urlencoded"},
                    )
                assert done.status_code == 200

                await team.mention_bob("And the bridge")
                count = await team.ok("notifications", "{ unreadNotificationCount }", None, team.bob["token"])
                assert count == {"unreadNotificationCount": 2}
                assert await _queued(database, bob_id) == []  # in-app only
                assert len([m for m in mailbox.messages() if m.header("To") == team.bob["email"]]) == 1
        finally:
            found = ctx.pop("notifications_outbound", None)
            if found is not None:
                await found.mailer.aclose()
                await found.graph.aclose()
            await redis.aclose()
            await database.dispose()


async def _queued(database: Database, user_id: str) -> list[str]:
    async with database.read() as session:
        return list((await session.execute(text(QUEUED), {"user": user_id})).scalars())
