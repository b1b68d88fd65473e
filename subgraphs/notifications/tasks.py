"""The notifications subgraph's work in the worker: the consumer that turns the platform's
domain events into notifications, the job that sends one e-mail, and the crons that send due
digests and pick up mail whose job was lost (nothing stays queued for good)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
from arq import cron
from cryptography.fernet import InvalidToken

from shared.auth.service_tokens import ServiceTokens
from shared.config import Settings
from shared.crypto import INVITATION_MAIL, sealed_for
from shared.db import Database, utcnow
from shared.domain_events import Consumer
from shared.graph import GraphClient
from shared.jobs import settings_of
from subgraphs.notifications.config import NotificationsSettings
from subgraphs.notifications.mailer import Mailer
from subgraphs.notifications.service import digests, email
from subgraphs.notifications.service.delivery import on_event, queue_emails
from subgraphs.notifications.service.links import LinkSigner
from subgraphs.notifications.workflows import BY_EVENT

log = logging.getLogger(__name__)

PROJECTED = (
    "accounts.user.signed_up",
    "accounts.member.added",
    "accounts.member.removed",
    "collaboration.workspace.created",
    "collaboration.project.created",
)
"""Events that only update the projections (the others may also make notifications)."""
ADDRESS_SCOPES = ("accounts:read",)

CONSUMERS = [Consumer("notifications.deliver", tuple(sorted({*BY_EVENT, *PROJECTED})), on_event)]


def outbound(ctx: dict[str, Any]) -> email.Outbound:
    """The worker's mail sending parts, made once per worker: a pooled SMTP connection, the
    accounts subgraph (addresses) through the platform's graph as `service:notifications`."""
    if "notifications_outbound" not in ctx:
        platform = ctx["settings"]
        config = settings_of(ctx, "notifications", NotificationsSettings)
        tokens = ServiceTokens.from_settings(platform)
        url = config.graph_url(platform)
        http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0))
        ctx["notifications_outbound"] = email.Outbound(
            mailer=Mailer.from_settings(config),
            graph=GraphClient(
                lambda _: url, lambda tenant: tokens.headers("notifications", ADDRESS_SCOPES, tenant), http
            ),
            links=LinkSigner.from_settings(platform, config.public_url(platform)),
            sender=config.mail_from,
            unsubscribe_mailbox=config.mail_unsubscribe_mailbox,
            app_url=config.app_url(platform),
            default_language=config.notifications_default_language,
            max_attempts=config.notifications_email_max_attempts,
            invitation_link=_invitation_links(platform, config),
        )
    found: email.Outbound = ctx["notifications_outbound"]
    return found


def _invitation_links(platform: Settings, config: NotificationsSettings) -> Callable[[str], str | None]:
    box = sealed_for(platform, INVITATION_MAIL)

    def link(sealed: str) -> str | None:
        try:
            return config.invitation_url(platform, box.decrypt(sealed.encode()).decode())
        except InvalidToken:  # sealed under a key the ring no longer has: the mail links the app
            return None

    return link


async def send_email(ctx: dict[str, Any], email_id: str) -> dict[str, Any]:
    """Sends one recorded e-mail, once whatever runs it twice. A temporary failure leaves it
    DEFERRED with its next try in `not_before`: `resume_emails` queues that try (the table,
    not the queue, is what remembers a mail)."""
    return {"email": email_id, "status": await email.send(ctx["db"], outbound(ctx), email_id)}


async def send_digests(ctx: dict[str, Any]) -> dict[str, Any]:
    """Every minute: each recipient's digest windows that have closed become one notification
    and one e-mail."""
    db: Database = ctx["db"]
    made = await digests.send_due(
        db, ctx["platform_redis"], settings_of(ctx, "notifications", NotificationsSettings), ctx["redis"]
    )
    return {"digests": len(made.notifications), "emails": len(made.emails)}


async def resume_emails(ctx: dict[str, Any]) -> dict[str, Any]:
    """Every minute: mail due whose job is not queued (a lost enqueue, a quiet window that
    ended, a deferred retry, a run that crashed mid-send) gets a job again."""
    due = await email.due(ctx["db"], utcnow())
    await queue_emails(ctx["redis"], due)
    return {"queued": len(due)}


FUNCTIONS: list[Callable[..., Any]] = [send_email, send_digests, resume_emails]
CRON_JOBS = [
    cron(send_digests, second={5}, run_at_startup=False),
    cron(resume_emails, second={35}, run_at_startup=False),
]
