"""A person's notifications: the inbox page, the unread count, reading and archiving. Always
the caller's own (tenant and recipient scoped); another person's id is NOT_FOUND, as an
unknown one is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shared.auth.principal import Principal, signed_in_user
from shared.context import RequestContext
from shared.db import utcnow
from shared.errors import BadUserInput, NotFound
from shared.mutations import UnitOfWork
from shared.pagination import check_first
from subgraphs.notifications.models import Notification
from subgraphs.notifications.repository import NotificationRepository
from subgraphs.notifications.workflows import Category

MAX_IDS = 100


@dataclass(frozen=True)
class InboxQuery:
    first: int
    before: str | None
    unread_only: bool
    category: Category | None
    archived: bool


async def page(context: RequestContext, query: InboxQuery) -> Sequence[Notification]:
    """Newest first, `first + 1` rows (the extra one says there is a next page)."""
    tenant_id, user_id = signed_in_user(context.principal)
    check_first(query.first)
    return await NotificationRepository(await context.session(), tenant_id).inbox(
        user_id,
        before=query.before,
        limit=query.first + 1,
        unread_only=query.unread_only,
        category=query.category.value if query.category else None,
        archived=query.archived,
    )


async def unread_count(context: RequestContext) -> int:
    tenant_id, user_id = signed_in_user(context.principal)
    return await NotificationRepository(await context.session(), tenant_id).unread_count(user_id)


async def _own(uow: UnitOfWork, principal: Principal, ids: Sequence[str]) -> tuple[list[Notification], str]:
    tenant_id, user_id = signed_in_user(principal)
    wanted = list(dict.fromkeys(ids))
    if not 1 <= len(wanted) <= MAX_IDS:
        raise BadUserInput(f"Give 1 to {MAX_IDS} notification ids", field="ids")
    found = {
        row.id: row
        for row in await NotificationRepository(uow.session, tenant_id).of_recipient(user_id, wanted)
    }
    missing = [notification_id for notification_id in wanted if notification_id not in found]
    if missing:
        raise NotFound("No such notification", ids=missing)
    return [found[notification_id] for notification_id in wanted], user_id


async def mark_read(
    uow: UnitOfWork, principal: Principal, ids: Sequence[str] | None, everything: bool
) -> list[Notification]:
    """The given notifications (or all of the caller's) read; what is already read stays as it was."""
    if everything == (ids is not None):
        raise BadUserInput("Give either ids or all: true", field="ids")
    now = utcnow()
    if everything:
        tenant_id, user_id = signed_in_user(principal)
        uow.target_id = user_id
        await NotificationRepository(uow.session, tenant_id).mark_all_read(user_id, now)
        return []
    rows, user_id = await _own(uow, principal, ids or [])
    for row in rows:
        row.read_at = row.read_at or now
        row.seen_at = row.seen_at or now
    uow.target_id = user_id
    return rows


async def archive(uow: UnitOfWork, principal: Principal, notification_id: str) -> Notification:
    rows, _ = await _own(uow, principal, [notification_id])
    row = rows[0]
    now = utcnow()
    row.archived_at = row.archived_at or now
    row.read_at = row.read_at or now
    uow.target_id = row.id
    return row
