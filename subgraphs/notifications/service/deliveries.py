"""What a tenant's admins see of its mail: each delivery (never the address nor the body) and
the counts by outcome, to tell a bouncing domain or a template nobody opens."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from shared.auth.principal import tenant_of
from shared.context import RequestContext
from shared.db import utcnow
from shared.errors import BadUserInput
from shared.pagination import check_first
from subgraphs.notifications.models import NotificationEmail
from subgraphs.notifications.repository import EmailRepository

STATUSES = ("QUEUED", "SENDING", "SENT", "DEFERRED", "BOUNCED", "SUPPRESSED", "FAILED", "SKIPPED")
MAX_DAYS = 366


async def page(
    context: RequestContext, first: int, before: str | None, status: str | None
) -> Sequence[NotificationEmail]:
    tenant_id = tenant_of(context.principal)
    check_first(first)
    if status is not None and status not in STATUSES:
        raise BadUserInput(f"status is one of {', '.join(STATUSES)}", field="status")
    async with context.runtime.db.read() as session:
        return await EmailRepository(session, tenant_id).page(before=before, limit=first + 1, status=status)


@dataclass(frozen=True)
class Summary:
    days: int
    by_status: dict[str, int]
    opened: int
    clicked: int


async def summary(context: RequestContext, days: int) -> Summary:
    tenant_id = tenant_of(context.principal)
    if not 1 <= days <= MAX_DAYS:
        raise BadUserInput(f"days must be 1 to {MAX_DAYS}", field="days")
    async with context.runtime.db.read() as session:
        counts = await EmailRepository(session, tenant_id).counts(utcnow() - timedelta(days=days))
    return Summary(
        days, {status: counts.get(status, 0) for status in STATUSES}, counts["opened"], counts["clicked"]
    )
