"""The notifications subgraph through GraphQL, beside accounts and collaboration (served by the
platform's host), fed by their real domain events through the consumer runner: the inbox, the
unread count, reading and archiving, preferences and their typed refusals, and the live
subscription over a WebSocket with the token in `connection_init`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import websockets
from redis.asyncio import Redis

from shared.config import Settings
from shared.db import Database
from shared.domain_events import ConsumerRunner
from subgraphs.notifications.tasks import CONSUMERS
from tests.notifications.support import Team, worker_context
from tests.support.graphql import codes, gql
from tests.support.hosting import hosted_together, served_together
from tests.support.ws import GraphQLWebSocket

INBOX = """query($unread: Boolean, $category: NotificationCategory, $archived: Boolean, $after: String) {
  notifications(first: 10, unreadOnly: $unread, category: $category, archived: $archived, after: $after) {
    edges { node { id kind category title body link critical actor { id } project { id } workspace { id } readAt } }
    pageInfo { hasNextPage endCursor } } unreadNotificationCount }"""
MARK = "mutation($i: MarkNotificationsReadInput!) { markNotificationsRead(input: $i) { notifications { id readAt } unreadCount } }"
ARCHIVE = "mutation($i: ArchiveNotificationInput!) { archiveNotification(input: $i) { notification { id archivedAt } } }"
PREFERENCES = """{ notificationPreferences { language emailTracking quietHours { start end timezone }
  categories { category inApp email digest critical } } }"""
UPDATE = """mutation($i: UpdateNotificationPreferencesInput!) { updateNotificationPreferences(input: $i) {
  preferences { language emailTracking quietHours { start end timezone } categories { category inApp email digest } } } }"""


@pytest.fixture
async def team(settings: Settings, redis_server: Any, database: Database) -> AsyncIterator[Team]:
    redis = Redis.from_url(redis_server.url, decode_responses=True)
    await redis.flushall()
    async with hosted_together(
        ["accounts", "collaboration", "notifications"], settings, redis_server.url
    ) as platform:
        runner = ConsumerRunner(redis, database, CONSUMERS, context=worker_context(settings))
        yield await Team(platform, runner).form()
    await redis.aclose()


async def test_a_mention_is_in_the_inbox_unread_then_read_then_archived(team):
    await team.mention_bob()
    inbox = await team.ok("notifications", INBOX, {}, team.bob["token"])
    nodes = [edge["node"] for edge in inbox["notifications"]["edges"]]
    mention = next(node for node in nodes if node["kind"] == "comment_mention")
    assert mention["category"] == "MENTIONS" and mention["critical"] is False
    assert mention["actor"] == {"id": team.ann["user"]["id"]}
    assert mention["project"] == {"id": team.project} and mention["workspace"] == {"id": team.workspace}
    assert "Ann" in mention["title"] and "Road trip" in mention["title"]
    assert mention["link"].endswith(
        f"/workspaces/{team.workspace}/projects/{team.project}?comment=" + mention["link"].rsplit("=", 1)[1]
    )
    assert mention["link"].startswith("http")
    unread = inbox["unreadNotificationCount"]
    assert unread == len(nodes) >= 1

    marked = await team.ok("notifications", MARK, {"i": {"ids": [mention["id"]]}}, team.bob["token"])
    assert marked["markNotificationsRead"]["notifications"][0]["readAt"] is not None
    assert marked["markNotificationsRead"]["unreadCount"] == unread - 1
    again = await team.ok("notifications", MARK, {"i": {"ids": [mention["id"]]}}, team.bob["token"])
    assert (
        again["markNotificationsRead"]["notifications"][0]["readAt"]
        == marked["markNotificationsRead"]["notifications"][0]["readAt"]
    )

    only_unread = await team.ok("notifications", INBOX, {"unread": True}, team.bob["token"])
    assert mention["id"] not in [edge["node"]["id"] for edge in only_unread["notifications"]["edges"]]
    archived = await team.ok("notifications", ARCHIVE, {"i": {"id": mention["id"]}}, team.bob["token"])
    assert archived["archiveNotification"]["notification"]["archivedAt"] is not None
    inbox_after = await team.ok("notifications", INBOX, {}, team.bob["token"])
    assert mention["id"] not in [edge["node"]["id"] for edge in inbox_after["notifications"]["edges"]]
    archive = await team.ok("notifications", INBOX, {"archived": True}, team.bob["token"])
    assert [edge["node"]["id"] for edge in archive["notifications"]["edges"]] == [mention["id"]]

    everything = await team.ok("notifications", MARK, {"i": {"all": True}}, team.bob["token"])
    assert everything["markNotificationsRead"]["unreadCount"] == 0


async def test_the_inbox_pages_newest_first_and_filters_by_category(team):
    for number in range(3):
        await team.mention_bob(f"Take {number}")
    first = await team.ok("notifications", INBOX, {"category": "MENTIONS"}, team.bob["token"])
    ids = [edge["node"]["id"] for edge in first["notifications"]["edges"]]
    assert len(ids) == 3 and ids == sorted(ids, reverse=True)
    security = await team.ok("notifications", INBOX, {"category": "SECURITY"}, team.bob["token"])
    assert all(edge["node"]["critical"] for edge in security["notifications"]["edges"])


async def test_another_persons_notification_and_bad_ids_change_nothing(team):
    await team.mention_bob()
    bob_inbox = await team.ok("notifications", INBOX, {}, team.bob["token"])
    bobs = bob_inbox["notifications"]["edges"][0]["node"]["id"]
    stolen = await team.call("notifications", MARK, {"i": {"ids": [bobs]}}, team.ann["token"])
    assert codes(stolen) == ["NOT_FOUND"]
    archived = await team.call("notifications", ARCHIVE, {"i": {"id": bobs}}, team.ann["token"])
    assert codes(archived) == ["NOT_FOUND"]
    unknown = await team.call("notifications", MARK, {"i": {"ids": [bobs, "ntf_nope"]}}, team.bob["token"])
    assert codes(unknown) == ["NOT_FOUND"]
    both = await team.call("notifications", MARK, {"i": {"ids": [bobs], "all": True}}, team.bob["token"])
    assert codes(both) == ["BAD_USER_INPUT"]
    page = await team.call("notifications", INBOX.replace("first: 10", "first: 500"), {}, team.bob["token"])
    assert codes(page) == ["BAD_USER_INPUT"]
    anonymous = await gql(team.platform.client, INBOX, {}, path="/notifications/graphql")
    assert codes(anonymous) == ["UNAUTHENTICATED"]
    after = await team.ok("notifications", INBOX, {}, team.bob["token"])
    assert after["unreadNotificationCount"] == bob_inbox["unreadNotificationCount"]


async def test_preferences_change_what_comes_and_refuse_what_cannot_be(team):
    defaults = await team.ok("notifications", PREFERENCES, None, team.bob["token"])
    categories = {item["category"]: item for item in defaults["notificationPreferences"]["categories"]}
    assert categories["SECURITY"] == {
        "category": "SECURITY",
        "inApp": True,
        "email": True,
        "digest": None,
        "critical": True,
    }
    assert categories["PROJECTS"]["digest"] == "OFF"
    assert (
        defaults["notificationPreferences"]["language"] == "en"
        and defaults["notificationPreferences"]["emailTracking"]
    )

    changed = await team.ok(
        "notifications",
        UPDATE,
        {
            "i": {
                "language": "de",
                "emailTracking": False,
                "categories": [
                    {"category": "MENTIONS", "inApp": False},
                    {"category": "PROJECTS", "digest": "HOURLY"},
                ],
                "quietHours": {"start": "22:00", "end": "07:30", "timezone": "Europe/Berlin"},
            }
        },
        team.bob["token"],
    )
    preferences = changed["updateNotificationPreferences"]["preferences"]
    assert preferences["language"] == "de" and preferences["emailTracking"] is False
    assert preferences["quietHours"] == {"start": "22:00", "end": "07:30", "timezone": "Europe/Berlin"}
    now = {item["category"]: item for item in preferences["categories"]}
    assert now["MENTIONS"]["inApp"] is False and now["MENTIONS"]["email"] is True
    assert now["PROJECTS"]["digest"] == "HOURLY"

    before = (await team.ok("notifications", INBOX, {"category": "MENTIONS"}, team.bob["token"]))[
        "notifications"
    ]["edges"]
    await team.mention_bob()
    after = (await team.ok("notifications", INBOX, {"category": "MENTIONS"}, team.bob["token"]))[
        "notifications"
    ]["edges"]
    assert after == before  # in-app mentions are off

    for bad in (
        {"categories": [{"category": "SECURITY", "email": False}]},
        {"categories": [{"category": "MENTIONS", "digest": "DAILY"}]},
        {"language": "es"},
        {"quietHours": {"start": "25:00", "end": "07:00"}},
        {"quietHours": {"start": "22:00", "end": "07:00", "timezone": "Mars/Olympus"}},
    ):
        refused = await team.call("notifications", UPDATE, {"i": bad}, team.bob["token"])
        assert codes(refused) == ["BAD_USER_INPUT"], bad
    unchanged = await team.ok("notifications", PREFERENCES, None, team.bob["token"])
    assert unchanged["notificationPreferences"]["language"] == "de"
    assert unchanged["notificationPreferences"]["quietHours"]["timezone"] == "Europe/Berlin"


async def test_tenant_defaults_are_set_by_admins_and_apply_under_each_persons_own(team):
    set_defaults = """mutation($i: UpdateNotificationPreferencesInput!) {
      updateTenantNotificationDefaults(input: $i) { preferences { language } } }"""
    refused = await team.call("notifications", set_defaults, {"i": {"language": "fr"}}, team.bob["token"])
    assert codes(refused) == ["FORBIDDEN"]
    await team.ok("notifications", set_defaults, {"i": {"language": "fr"}}, team.ann["token"])
    bob = await team.ok("notifications", PREFERENCES, None, team.bob["token"])
    assert bob["notificationPreferences"]["language"] == "fr"
    await team.ok("notifications", UPDATE, {"i": {"language": "en"}}, team.bob["token"])
    await team.mention_bob()
    inbox = await team.ok("notifications", INBOX, {"category": "MENTIONS"}, team.bob["token"])
    assert "mentioned" in inbox["notifications"]["edges"][0]["node"]["title"]


async def test_the_subscription_delivers_a_new_notification_and_resumes_after_a_drop(
    settings: Settings, redis_server: Any, database: Database
):
    redis = Redis.from_url(redis_server.url, decode_responses=True)
    await redis.flushall()
    with served_together(["accounts", "collaboration", "notifications"], settings, redis_server.url) as (
        _,
        server,
    ):
        async with hosted_together(
            ["accounts", "collaboration", "notifications"], settings, redis_server.url
        ) as platform:
            runner = ConsumerRunner(
                redis, database, CONSUMERS, context={**worker_context(settings), "platform_redis": redis}
            )
            team = await Team(platform, runner).form()
            url = server.url.replace("http", "ws") + "/notifications/graphql"
            subscription = "subscription($after: String) { notificationReceived(after: $after) { id notification { kind title } } }"
            await team.mention_bob("First")
            async with GraphQLWebSocket(url, {"Authorization": f"Bearer {team.bob['token']}"}) as ws:
                assert (await ws.ack())["type"] == "connection_ack"
                await ws.subscribe(subscription, {"after": "0-0"})
                first = await ws.next(timeout=30)
                received = first["payload"]["data"]["notificationReceived"]
                assert received["notification"]["kind"] == "comment_mention", first
            await team.mention_bob("While away")
            async with GraphQLWebSocket(url, {"Authorization": f"Bearer {team.bob['token']}"}) as ws:
                assert (await ws.ack())["type"] == "connection_ack"
                await ws.subscribe(subscription, {"after": received["id"]})
                missed = await ws.next(timeout=30)
                assert (
                    missed["payload"]["data"]["notificationReceived"]["notification"]["kind"]
                    == "comment_mention"
                )
                assert missed["payload"]["data"]["notificationReceived"]["id"] > received["id"]
            async with GraphQLWebSocket(url, {"Authorization": f"Bearer {team.bob['token']}"}) as ws:
                await ws.ack()
                await ws.subscribe(subscription, {"after": "1-0"})  # older than anything retained
                assert "RESYNC_REQUIRED" in json.dumps(await ws.next(timeout=30))
            async with GraphQLWebSocket(url, {}) as ws:
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await ws.ack()
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    await redis.aclose()
