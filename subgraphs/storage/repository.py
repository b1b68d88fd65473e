from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from shared.db import TenantRepository
from subgraphs.storage.models import Asset


class AssetRepository(TenantRepository[Asset]):
    model = Asset

    async def page(self, kinds: Sequence[str], after: str | None, limit: int) -> Sequence[Asset]:
        """Newest first (ids are time-ordered), keyset on the id."""
        stmt = self.select().where(col(Asset.kind).in_(kinds)).order_by(col(Asset.id).desc()).limit(limit)
        if after is not None:
            stmt = stmt.where(col(Asset.id) < after)
        return (await self.session.execute(stmt)).scalars().all()


async def abandoned_uploads(session: AsyncSession, before: datetime, limit: int) -> Sequence[Asset]:
    """Pending uploads whose upload window closed before `before`, across tenants (jobs)."""
    stmt = (
        select(Asset)
        .where(Asset.status == "pending", col(Asset.upload_expires_at) < before)
        .order_by(col(Asset.upload_expires_at))
        .limit(limit)
    )
    return (await session.execute(stmt)).scalars().all()


async def deleted_before(session: AsyncSession, before: datetime, limit: int) -> Sequence[Asset]:
    stmt = (
        select(Asset)
        .where(col(Asset.deleted_at).is_not(None), col(Asset.deleted_at) < before)
        .order_by(col(Asset.deleted_at))
        .limit(limit)
    )
    return (await session.execute(stmt)).scalars().all()


async def remove_rows(session: AsyncSession, ids: Sequence[str]) -> None:
    await session.execute(delete(Asset).where(col(Asset.id).in_(ids)))
