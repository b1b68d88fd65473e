"""Digests: notifications of a digestible category held for a person's window (an hour, a day)
become one notification and one e-mail when the window closes. Each window is made in its own
transaction; its entries are removed in the same one, so a window is sent once."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from redis.asyncio import Redis

from shared.db import Database, new_id, utcnow
from shared.domain_events import after_commit, transaction
from subgraphs.notifications import rendering
from subgraphs.notifications.config import NotificationsSettings
from subgraphs.notifications.models import NotificationDigestEntry
from subgraphs.notifications.repository import (
    DigestRepository,
    EmailRepository,
    NotificationRepository,
    PeopleRepository,
    PreferenceRepository,
)
from subgraphs.notifications.service import live
from subgraphs.notifications.service.delivery import Planned, idempotency_key, queue_emails
from subgraphs.notifications.service.preferences import effective, stored_for
from subgraphs.notifications.workflows import Category

DIGEST = "digest"
WINDOWS_PER_ROUND = 200


def digest_items(
    entries: list[NotificationDigestEntry], language: str, name: str | None
) -> list[dict[str, Any]]:
    """Each held notification as the digest lists it (rendered in the recipient's language)."""
    items = []
    for entry in entries:
        shown = rendering.render(entry.kind, language, entry.params, recipient_name=name, link=entry.link)
        items.append(
            {
                "kind": entry.kind,
                "title": shown.title,
                "body": shown.body,
                "link": entry.link,
                "occurred_at": entry.created_at.isoformat(),
            }
        )
    return items


def as_digest_items(items: list[dict[str, Any]], app_url: str) -> list[rendering.DigestItem]:
    return [
        rendering.DigestItem(
            kind=item["kind"],
            title=item["title"],
            body=item["body"],
            link=f"{app_url}{item['link']}",
            occurred_at=datetime.fromisoformat(item["occurred_at"]),
        )
        for item in items
    ]


async def send_due(db: Database, redis: Redis, settings: NotificationsSettings, queue: Any = None) -> Planned:
    """Each closed window in its own transaction; once it has committed, its notification is
    announced and its mail queued (`queue`, the job queue), so a later window that fails
    holds nothing back."""
    made = Planned()
    async with db.read() as session:
        windows = await DigestRepository(session).due_windows(utcnow(), WINDOWS_PER_ROUND)
    for window_key in windows:
        async with transaction(db, redis) as session:
            entries = await DigestRepository(session).take(window_key)
            if not entries:
                continue
            first = entries[0]
            tenant_id, user_id, category = first.tenant_id, first.recipient_id, Category(first.category)
            person = await PeopleRepository(session, tenant_id).person(user_id)
            stored = await PreferenceRepository(session, tenant_id).of([user_id])
            chosen = effective(list(stored_for(stored, user_id)), settings.notifications_default_language)
            setting = next(item for item in chosen.categories if item.category is category)
            name = person.display_name if person else None
            items = digest_items(entries, chosen.language, name)
            link = "/notifications"
            shown = rendering.render_digest(
                chosen.language, as_digest_items(items, ""), recipient_name=name, link=link
            )
            notification_id = new_id("ntf")
            params = {"items": items, "category": category.value}
            if setting.in_app:
                await NotificationRepository(session, tenant_id).add_new(
                    [
                        {
                            "id": notification_id,
                            "tenant_id": tenant_id,
                            "recipient_id": user_id,
                            "kind": DIGEST,
                            "category": category.value,
                            "source_key": window_key[:160],
                            "actor_id": None,
                            "subjects": [],
                            "params": params,
                            "language": chosen.language,
                            "title": shown.title[:300],
                            "body": shown.body[:2000],
                            "link": link,
                            "critical": False,
                            "created_at": utcnow(),
                        }
                    ]
                )
                announced = (tenant_id, user_id, notification_id)
                made.notifications.append(announced)
                after_commit(session, partial(live.announce, redis, [announced]))
            if setting.email:
                key = idempotency_key(window_key, user_id, DIGEST)
                email_id = new_id("eml")
                await EmailRepository(session, tenant_id).add_new(
                    [
                        {
                            "id": email_id,
                            "idempotency_key": key,
                            "tenant_id": tenant_id,
                            "notification_id": notification_id if setting.in_app else None,
                            "recipient_id": user_id,
                            "kind": DIGEST,
                            "category": category.value,
                            "status": "QUEUED",
                            "attempts": 0,
                            "message_id": f"<{key}@spotify-agent.local>",
                            "params": params,
                            "link": link,
                            "created_at": utcnow(),
                        }
                    ]
                )
                made.emails.append((email_id, 0, None))
                if queue is not None:
                    after_commit(session, partial(queue_emails, queue, [(email_id, 0, None)]))
    return made
