"""Queries of the notifications subgraph. A person's notifications and preferences are read
through `TenantRepository` (tenant-scoped) and always for one recipient; the projections are
written by the consumer, one event at a time."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.db import TenantRepository
from shared.db.repository import insert_new
from subgraphs.notifications.models import (
    Notification,
    NotificationDigestEntry,
    NotificationEmail,
    NotificationPreference,
    NotificationsFollower,
    NotificationsPerson,
    NotificationsProject,
    NotificationsThreadParticipant,
    NotificationSuppression,
    NotificationsWorkspace,
)

TENANT_DEFAULTS = "*"
"""The `user_id` of a tenant's default preferences."""


class PeopleRepository:
    """The projections of accounts' and collaboration's events, within one tenant."""

    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def person(self, user_id: str) -> NotificationsPerson | None:
        row = await self.session.get(NotificationsPerson, user_id)
        return row if row is not None and row.tenant_id == self.tenant_id else None

    async def people(self, user_ids: Iterable[str]) -> dict[str, NotificationsPerson]:
        wanted = sorted(set(user_ids))
        if not wanted:
            return {}
        rows = await self.session.execute(
            select(NotificationsPerson).where(
                col(NotificationsPerson.tenant_id) == self.tenant_id,
                col(NotificationsPerson.user_id).in_(wanted),
            )
        )
        return {row.user_id: row for row in rows.scalars()}

    async def put_person(
        self, user_id: str, *, display_name: str | None = None, role: str | None = None
    ) -> None:
        row = await self.person(user_id)
        if row is None:
            self.session.add(
                NotificationsPerson(
                    tenant_id=self.tenant_id,
                    user_id=user_id,
                    display_name=display_name or "",
                    role=role or "member",
                )
            )
            return
        row.active = True
        if display_name is not None:
            row.display_name = display_name
        if role is not None:
            row.role = role

    async def deactivate(self, user_id: str) -> None:
        row = await self.person(user_id)
        if row is not None:
            row.active = False

    async def admins_of(self, tenant_ids: Sequence[str]) -> list[NotificationsPerson]:
        """Active owners and admins of the tenants (platform admins, when those are the platform's)."""
        rows = await self.session.execute(
            select(NotificationsPerson).where(
                col(NotificationsPerson.tenant_id).in_(list(tenant_ids)),
                col(NotificationsPerson.role).in_(("owner", "admin")),
                col(NotificationsPerson.active),
            )
        )
        return list(rows.scalars())

    async def workspace(self, workspace_id: str) -> NotificationsWorkspace | None:
        row = await self.session.get(NotificationsWorkspace, workspace_id)
        return row if row is not None and row.tenant_id == self.tenant_id else None

    async def put_workspace(self, workspace_id: str, name: str, owner_id: str) -> None:
        row = await self.workspace(workspace_id)
        if row is None:
            self.session.add(
                NotificationsWorkspace(
                    tenant_id=self.tenant_id, id=workspace_id, name=name, owner_id=owner_id
                )
            )
        else:
            row.name, row.owner_id = name, owner_id

    async def project(self, project_id: str) -> NotificationsProject | None:
        row = await self.session.get(NotificationsProject, project_id)
        return row if row is not None and row.tenant_id == self.tenant_id else None

    async def put_project(self, project_id: str, workspace_id: str, title: str) -> None:
        row = await self.project(project_id)
        if row is None:
            self.session.add(
                NotificationsProject(
                    tenant_id=self.tenant_id, id=project_id, workspace_id=workspace_id, title=title
                )
            )
        else:
            row.title = title

    async def follow(
        self, project_id: str, user_id: str, *, following: bool = True, explicit: bool = False
    ) -> None:
        """Activity follows (unless the person chose otherwise); `explicit` records a choice."""
        row = await self.session.get(NotificationsFollower, (project_id, user_id))
        if row is None:
            self.session.add(
                NotificationsFollower(
                    tenant_id=self.tenant_id,
                    project_id=project_id,
                    user_id=user_id,
                    following=following,
                    explicit=explicit,
                )
            )
        elif explicit or not row.explicit:
            row.following, row.explicit = following, explicit or row.explicit

    async def followers(self, project_id: str) -> list[str]:
        rows = await self.session.execute(
            select(col(NotificationsFollower.user_id)).where(
                col(NotificationsFollower.tenant_id) == self.tenant_id,
                col(NotificationsFollower.project_id) == project_id,
                col(NotificationsFollower.following),
            )
        )
        return sorted(rows.scalars())

    async def join_thread(self, thread_id: str, user_id: str) -> None:
        await insert_new(
            self.session,
            NotificationsThreadParticipant,
            [{"tenant_id": self.tenant_id, "thread_id": thread_id, "user_id": user_id}],
            ("thread_id", "user_id"),
        )

    async def thread_participants(self, thread_id: str) -> list[str]:
        rows = await self.session.execute(
            select(col(NotificationsThreadParticipant.user_id)).where(
                col(NotificationsThreadParticipant.tenant_id) == self.tenant_id,
                col(NotificationsThreadParticipant.thread_id) == thread_id,
            )
        )
        return sorted(rows.scalars())


class NotificationRepository(TenantRepository[Notification]):
    model = Notification

    async def add_new(self, rows: Sequence[dict[str, Any]]) -> int:
        """Stores the notifications not already made from the same source; returns how many were new."""
        return await insert_new(self.session, Notification, rows, ("source_key", "recipient_id", "kind"))

    async def made_from(self, source_key: str) -> Sequence[Notification]:
        rows = await self.session.execute(self.select().where(col(Notification.source_key) == source_key))
        return rows.scalars().all()

    async def inbox(
        self,
        recipient_id: str,
        *,
        before: str | None,
        limit: int,
        unread_only: bool,
        category: str | None,
        archived: bool,
    ) -> Sequence[Notification]:
        """Newest first; `before` is the id of the last one of the previous page."""
        stmt = self.select().where(col(Notification.recipient_id) == recipient_id)
        stmt = stmt.where(
            col(Notification.archived_at).is_not(None)
            if archived
            else col(Notification.archived_at).is_(None)
        )
        if unread_only:
            stmt = stmt.where(col(Notification.read_at).is_(None))
        if category is not None:
            stmt = stmt.where(col(Notification.category) == category)
        if before is not None:
            stmt = stmt.where(col(Notification.id) < before)
        return (
            (await self.session.execute(stmt.order_by(col(Notification.id).desc()).limit(limit)))
            .scalars()
            .all()
        )

    async def unread_count(self, recipient_id: str) -> int:
        found = await self.session.execute(
            select(func.count()).where(
                col(Notification.tenant_id) == self.tenant_id,
                col(Notification.recipient_id) == recipient_id,
                col(Notification.read_at).is_(None),
                col(Notification.archived_at).is_(None),
            )
        )
        return int(found.scalar_one())

    async def of_recipient(self, recipient_id: str, ids: Sequence[str]) -> Sequence[Notification]:
        rows = await self.session.execute(
            self.select().where(
                col(Notification.recipient_id) == recipient_id, col(Notification.id).in_(list(ids))
            )
        )
        return rows.scalars().all()

    async def mark_all_read(self, recipient_id: str, at: datetime) -> int:
        result = await self.session.execute(
            update(Notification)
            .where(
                col(Notification.tenant_id) == self.tenant_id,
                col(Notification.recipient_id) == recipient_id,
                col(Notification.read_at).is_(None),
            )
            .values(read_at=at, seen_at=func.coalesce(col(Notification.seen_at), at))
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class PreferenceRepository:
    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def of(self, user_ids: Iterable[str]) -> dict[str, NotificationPreference]:
        """The stored preferences of these people and of their tenant (`TENANT_DEFAULTS`)."""
        wanted = sorted({*user_ids, TENANT_DEFAULTS})
        rows = await self.session.execute(
            select(NotificationPreference).where(
                col(NotificationPreference.tenant_id) == self.tenant_id,
                col(NotificationPreference.user_id).in_(wanted),
            )
        )
        return {row.user_id: row for row in rows.scalars()}

    async def get_or_new(self, user_id: str) -> NotificationPreference:
        row = await self.session.get(NotificationPreference, (self.tenant_id, user_id))
        if row is None:
            row = NotificationPreference(tenant_id=self.tenant_id, user_id=user_id)
            self.session.add(row)
        return row


class DigestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def hold(self, rows: Sequence[dict[str, Any]]) -> int:
        return await insert_new(
            self.session, NotificationDigestEntry, rows, ("source_key", "recipient_id", "kind")
        )

    async def due_windows(self, now: datetime, limit: int) -> list[str]:
        rows = await self.session.execute(
            select(col(NotificationDigestEntry.window_key))
            .where(col(NotificationDigestEntry.due_at) <= now)
            .group_by(col(NotificationDigestEntry.window_key))
            .order_by(func.min(col(NotificationDigestEntry.due_at)))
            .limit(limit)
        )
        return list(rows.scalars())

    async def take(self, window_key: str) -> list[NotificationDigestEntry]:
        """The window's entries, removed (the caller's transaction makes the digest from them)."""
        rows = list(
            (
                await self.session.execute(
                    select(NotificationDigestEntry)
                    .where(col(NotificationDigestEntry.window_key) == window_key)
                    .order_by(col(NotificationDigestEntry.id))
                )
            ).scalars()
        )
        for row in rows:
            await self.session.delete(row)
        return rows


class EmailRepository(TenantRepository[NotificationEmail]):
    model = NotificationEmail

    async def add_new(self, rows: Sequence[dict[str, Any]]) -> int:
        return await insert_new(self.session, NotificationEmail, rows, ("idempotency_key",))

    async def page(
        self, *, before: str | None, limit: int, status: str | None
    ) -> Sequence[NotificationEmail]:
        stmt = self.select()
        if status is not None:
            stmt = stmt.where(col(NotificationEmail.status) == status)
        if before is not None:
            stmt = stmt.where(col(NotificationEmail.id) < before)
        return (
            (await self.session.execute(stmt.order_by(col(NotificationEmail.id).desc()).limit(limit)))
            .scalars()
            .all()
        )

    async def counts(self, since: datetime) -> dict[str, int]:
        """Mail created since `since`: how many by status, and how many opened and clicked."""
        email = NotificationEmail
        recent = (col(email.tenant_id) == self.tenant_id, col(email.created_at) >= since)
        by_status = await self.session.execute(
            select(col(email.status), func.count()).where(*recent).group_by(col(email.status))
        )
        found: dict[str, int] = {status: int(count) for status, count in by_status.all()}
        engaged = await self.session.execute(
            select(func.count(col(email.opened_at)), func.count(col(email.clicked_at))).where(*recent)
        )
        found["opened"], found["clicked"] = (int(value) for value in engaged.one())
        return found


async def is_suppressed(session: AsyncSession, address_hash: str) -> bool:
    return await session.get(NotificationSuppression, address_hash) is not None


async def suppress(session: AsyncSession, address_hash: str, reason: str) -> None:
    await insert_new(
        session,
        NotificationSuppression,
        [{"address_hash": address_hash, "reason": reason}],
        ("address_hash",),
    )
