"""Sending one recorded e-mail, exactly once. The row (`NotificationEmail`) was written with its
idempotency key before any send; a run claims it (QUEUED or DEFERRED -> SENDING in one UPDATE),
so a job that runs twice, or two workers, send once; the Message-ID is derived from the key, so
even a crash between the server's 250 and our commit resends the same message, which mail
clients collapse. A temporary failure (4xx, server down) is DEFERRED and retried with backoff;
a permanent one (5xx) BOUNCED and the address suppressed. Addresses and bodies never reach a
log line: only ids, kinds and SMTP codes do."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, NamedTuple, Protocol

from sqlalchemy import or_, select, update
from sqlmodel import col

from shared.db import Database, utcnow
from shared.errors import Unavailable
from shared.graph import GraphClient
from subgraphs.notifications import rendering
from subgraphs.notifications.mailer import PermanentFailure, TemporaryFailure, build_message
from subgraphs.notifications.models import NotificationEmail
from subgraphs.notifications.repository import (
    TENANT_DEFAULTS,
    PeopleRepository,
    PreferenceRepository,
    is_suppressed,
    suppress,
)
from subgraphs.notifications.service.digests import DIGEST, as_digest_items
from subgraphs.notifications.service.links import LinkSigner
from subgraphs.notifications.service.preferences import language_of, tracking_of
from subgraphs.notifications.workflows import BY_KIND

log = logging.getLogger(__name__)

QUEUED, SENDING, SENT, DEFERRED, BOUNCED, SUPPRESSED, FAILED, SKIPPED = (
    "QUEUED",
    "SENDING",
    "SENT",
    "DEFERRED",
    "BOUNCED",
    "SUPPRESSED",
    "FAILED",
    "SKIPPED",
)
STALLED_AFTER = timedelta(minutes=10)
"""A SENDING row older than this was left by a crashed run: it is sent again (same Message-ID)."""
ADDRESS_QUERY = "query($id: ID!) { user(id: $id) { email displayName } }"


class Sender(Protocol):
    async def send(self, message: Any) -> None: ...


@dataclass(frozen=True)
class Outbound:
    """What one send needs besides the database."""

    mailer: Sender
    graph: GraphClient
    links: LinkSigner
    sender: str
    unsubscribe_mailbox: str
    app_url: str
    default_language: str
    max_attempts: int
    invitation_link: Callable[[str], str | None]
    """An invitation's accept link from its sealed code (None: the code cannot be opened)."""


def backoff(attempt: int) -> timedelta:
    """30 s, 1 min, 2 min ... capped at an hour."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempt - 1)))


def _claimable(now: datetime) -> Any:
    """Queued or deferred, or stalled in SENDING (a crashed run)."""
    stalled = (col(NotificationEmail.status) == SENDING) & (
        col(NotificationEmail.claimed_at) < now - STALLED_AFTER
    )
    return or_(col(NotificationEmail.status).in_((QUEUED, DEFERRED)), stalled)


async def _claim(db: Database, email_id: str) -> NotificationEmail | None:
    now = utcnow()
    async with db.write() as session:
        claimed = await session.execute(
            update(NotificationEmail)
            .where(col(NotificationEmail.id) == email_id, _claimable(now))
            .values(status=SENDING, claimed_at=now, attempts=col(NotificationEmail.attempts) + 1)
            .returning(NotificationEmail)
        )
        return claimed.scalar_one_or_none()


async def _finish(db: Database, email_id: str, **values: Any) -> None:
    async with db.write() as session:
        await session.execute(
            update(NotificationEmail).where(col(NotificationEmail.id) == email_id).values(**values)
        )


async def _address(outbound: Outbound, row: NotificationEmail) -> tuple[str | None, str | None]:
    """(address, display name) of the recipient: an invitee's from the row, a user's from accounts."""
    if row.invitee_address is not None:
        return row.invitee_address, None
    data = await outbound.graph.query(row.tenant_id, "accounts", ADDRESS_QUERY, {"id": row.recipient_id})
    user = data.get("user") or {}
    return user.get("email"), user.get("displayName")


class Reader(NamedTuple):
    """Who reads the mail, as their preferences say."""

    name: str | None
    language: str
    tracking: bool


async def _reader(
    db: Database, row: NotificationEmail, address_hash: str, default_language: str
) -> Reader | None:
    """None when the address is suppressed."""
    async with db.read() as session:
        if await is_suppressed(session, address_hash):
            return None
        users = [row.recipient_id] if row.recipient_id else []
        stored = await PreferenceRepository(session, row.tenant_id).of(users)
        person = (
            await PeopleRepository(session, row.tenant_id).person(row.recipient_id)
            if row.recipient_id
            else None
        )
    rows = [stored.get(row.recipient_id or ""), stored.get(TENANT_DEFAULTS)]
    return Reader(
        person.display_name if person else None, language_of(rows, default_language), tracking_of(rows)
    )


def compose(outbound: Outbound, row: NotificationEmail, address: str, reader: Reader) -> EmailMessage:
    """The message: the kind's template in the reader's language; unsubscribe headers (RFC 8058)
    unless it is security mail, and tracking unless that too or the reader turned it off."""
    workflow = BY_KIND.get(row.kind)
    critical = workflow is not None and workflow.critical
    # Only people with an account chose (or can turn off) tracking: an invitee's mail is not tracked.
    tracked = not critical and reader.tracking and row.recipient_id is not None
    sealed = row.params.get("sealed_code")
    link = (outbound.invitation_link(sealed) if sealed else None) or f"{outbound.app_url}{row.link}"
    unsubscribe = (
        outbound.links.unsubscribe_url(row.tenant_id, row.recipient_id, row.category)
        if not critical and row.recipient_id
        else None
    )

    def track(url: str) -> str:
        return outbound.links.click_url(row.id, url)

    options: dict[str, Any] = {
        "recipient_name": reader.name,
        "link": link,
        "unsubscribe_url": unsubscribe,
        "pixel_url": outbound.links.pixel_url(row.id) if tracked else None,
        "track": track if tracked else None,
    }
    if row.kind == DIGEST:
        items = as_digest_items(row.params["items"], outbound.app_url)
        shown = rendering.render_digest(reader.language, items, **options)
    else:
        shown = rendering.render(row.kind, reader.language, row.params, **options)
    headers = {"Auto-Submitted": "auto-generated", "X-Entity-Ref-ID": row.id}
    if unsubscribe is not None:
        headers["List-Unsubscribe"] = (
            f"<{unsubscribe}>, <mailto:{outbound.unsubscribe_mailbox}?subject=unsubscribe-{row.id}>"
        )
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return build_message(
        sender=outbound.sender,
        to=address,
        subject=shown.subject,
        text=shown.text,
        html=shown.html,
        message_id=row.message_id,
        headers=headers,
    )


async def _defer(
    db: Database, row: NotificationEmail, address_hash: str | None, reason: str, max_attempts: int
) -> str:
    """A temporary failure: the next try after `backoff`, or FAILED after `max_attempts`."""
    final = row.attempts >= max_attempts
    await _finish(
        db,
        row.id,
        status=FAILED if final else DEFERRED,
        last_error=reason,
        not_before=None if final else utcnow() + backoff(row.attempts),
        **({"address_hash": address_hash} if address_hash else {}),
    )
    log.warning(
        "mail deferred", extra={"email": row.id, "kind": row.kind, "reason": reason, "attempt": row.attempts}
    )
    return FAILED if final else DEFERRED


async def send(db: Database, outbound: Outbound, email_id: str) -> str:
    """Sends the e-mail if it is still to be sent; returns its status afterwards (DEFERRED after
    a temporary failure, with the next try's time in `not_before`)."""
    row = await _claim(db, email_id)
    if row is None:
        return "ALREADY_HANDLED"
    try:
        address, name = await _address(outbound, row)
    except Unavailable:
        return await _defer(db, row, None, "address lookup unavailable", outbound.max_attempts)
    if not address:
        await _finish(db, row.id, status=SKIPPED, last_error="no address")
        return SKIPPED
    address_hash = outbound.links.address_hash(address)
    reader = await _reader(db, row, address_hash, outbound.default_language)
    if reader is None:
        await _finish(db, row.id, status=SUPPRESSED, address_hash=address_hash, invitee_address=None)
        return SUPPRESSED
    message = compose(outbound, row, address, reader._replace(name=name or reader.name))
    try:
        await outbound.mailer.send(message)
    except PermanentFailure as failure:
        async with db.write() as session:  # suppressed and bounced together, or neither
            await suppress(session, address_hash, f"bounce {failure.code or ''}".strip())
            await session.execute(
                update(NotificationEmail)
                .where(col(NotificationEmail.id) == row.id)
                .values(
                    status=BOUNCED,
                    address_hash=address_hash,
                    last_error=f"{failure.code} permanent",
                    invitee_address=None,
                )
            )
        log.warning("mail bounced", extra={"email": row.id, "kind": row.kind, "code": failure.code})
        return BOUNCED
    except TemporaryFailure as failure:
        return await _defer(db, row, address_hash, f"{failure.code} temporary", outbound.max_attempts)
    await _finish(
        db,
        row.id,
        status=SENT,
        sent_at=utcnow(),
        address_hash=address_hash,
        last_error=None,
        invitee_address=None,
    )
    return SENT


async def due(db: Database, now: datetime, limit: int = 500) -> list[tuple[str, int, datetime | None]]:
    """Mail a job should be running for: queued or deferred and due, or stalled in SENDING."""
    async with db.read() as session:
        rows = await session.execute(
            select(col(NotificationEmail.id), col(NotificationEmail.attempts))
            .where(
                _claimable(now),
                or_(col(NotificationEmail.not_before).is_(None), col(NotificationEmail.not_before) <= now),
            )
            .order_by(col(NotificationEmail.id))
            .limit(limit)
        )
        return [(email_id, attempts, None) for email_id, attempts in rows.all()]
