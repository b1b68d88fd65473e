"""Background jobs of accounts (arq)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from arq import cron
from sqlalchemy import delete
from sqlmodel import col

from shared.db import Database, utcnow
from subgraphs.accounts.models import Invitation, RefreshToken

GRACE = timedelta(days=1)


async def purge_expired_credentials(ctx: dict[str, Any]) -> dict[str, int]:
    """Deletes refresh tokens and invitations that expired more than a day ago."""
    db: Database = ctx["db"]
    cutoff = utcnow() - GRACE
    async with db.write() as session:
        tokens = await session.execute(delete(RefreshToken).where(col(RefreshToken.expires_at) < cutoff))
        invitations = await session.execute(
            delete(Invitation).where(col(Invitation.expires_at) < cutoff, col(Invitation.used_at).is_(None))
        )
    return {"refresh_tokens": tokens.rowcount, "invitations": invitations.rowcount}  # type: ignore[attr-defined]


FUNCTIONS = [purge_expired_credentials]
CRON_JOBS = [cron(purge_expired_credentials, hour={3}, minute={17}, run_at_startup=False)]
