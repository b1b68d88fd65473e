"""`notificationReceived`: each person's stream (`notifications:user:<tenant>:<user>`), one
entry per new notification (its id), appended after the commit; a subscriber follows it and
may resume after an entry id."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from redis.asyncio import Redis

from shared.auth.principal import signed_in_user
from shared.context import RequestContext
from shared.errors import BadUserInput
from shared.events import is_event_id
from subgraphs.notifications.models import Notification
from subgraphs.notifications.repository import NotificationRepository

STREAM_LENGTH = 500


def stream_key(tenant_id: str, user_id: str) -> str:
    return f"notifications:user:{tenant_id}:{user_id}"


async def announce(redis: Redis, made: Sequence[tuple[str, str, str]]) -> None:
    """(tenant, recipient, notification id) of notifications that have committed, in one round trip."""
    async with redis.pipeline(transaction=False) as pipe:
        for tenant_id, user_id, notification_id in made:
            pipe.xadd(
                stream_key(tenant_id, user_id),
                {"id": notification_id},
                maxlen=STREAM_LENGTH,
                approximate=True,
            )
        await pipe.execute()


async def follow(context: RequestContext, after: str | None) -> AsyncIterator[tuple[str, Notification]]:
    """The caller's new notifications as they arrive: (entry id, notification); BAD_USER_INPUT
    for a malformed `after`."""
    tenant_id, user_id = signed_in_user(context.principal)
    if after is not None and not is_event_id(after):
        raise BadUserInput("after is an entry id such as 1700000000000-0", field="after")
    async for entry_id, fields in context.runtime.services.stream_hub.follow(
        stream_key(tenant_id, user_id), after
    ):
        async with context.runtime.db.read() as session:
            found = await NotificationRepository(session, tenant_id).of_recipient(user_id, [fields["id"]])
        for row in found:
            yield entry_id, row
