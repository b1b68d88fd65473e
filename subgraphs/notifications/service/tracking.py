"""What mail links do when followed: the one-click unsubscribe (RFC 8058: a POST from the mail
client, no login; a GET only shows a confirmation), the open pixel and click redirects. Every
link is signed (`links.LinkSigner`); a click redirects only to the target its token names."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, update
from sqlmodel import col

from shared.db import Database, utcnow
from subgraphs.notifications.models import NotificationEmail
from subgraphs.notifications.repository import PreferenceRepository
from subgraphs.notifications.service.links import LinkSigner
from subgraphs.notifications.workflows import Category, Channel


@dataclass(frozen=True)
class Unsubscription:
    tenant_id: str
    user_id: str
    category: Category


def unsubscription(links: LinkSigner, token: str) -> Unsubscription:
    """What an unsubscribe link stands for; BAD_USER_INPUT for a forged or expired one."""
    claims = links.verify("unsubscribe", token)
    return Unsubscription(str(claims["t"]), str(claims["u"]), Category(claims["c"]))


async def unsubscribe(db: Database, links: LinkSigner, token: str) -> Unsubscription:
    """Turns the category's e-mail off for the person (security mail has no such link)."""
    found = unsubscription(links, token)
    async with db.write() as session:
        row = await PreferenceRepository(session, found.tenant_id).get_or_new(found.user_id)
        channels = {key: dict(value) for key, value in row.channels.items()}
        channels.setdefault(found.category.value, {})[Channel.EMAIL.value] = False
        row.channels = channels
        row.updated_at = utcnow()
    return found


async def opened(db: Database, links: LinkSigner, token: str) -> None:
    email_id = str(links.verify("open", token)["e"])
    async with db.write() as session:
        await session.execute(
            update(NotificationEmail)
            .where(col(NotificationEmail.id) == email_id, col(NotificationEmail.opened_at).is_(None))
            .values(opened_at=utcnow())
        )


async def clicked(db: Database, links: LinkSigner, token: str) -> str:
    """Records the click; returns where it goes."""
    claims = links.verify("click", token)
    email_id, target = str(claims["e"]), str(claims["u"])
    now = utcnow()
    async with db.write() as session:
        await session.execute(  # the first click, and an open if the pixel was not loaded
            update(NotificationEmail)
            .where(col(NotificationEmail.id) == email_id)
            .values(
                clicked_at=func.coalesce(col(NotificationEmail.clicked_at), now),
                opened_at=func.coalesce(col(NotificationEmail.opened_at), now),
            )
        )
    return target
