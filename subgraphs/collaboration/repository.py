"""Tenant-scoped queries of collaboration (every one filtered by the caller's tenant), and the
few that cross tenants on purpose, each named so and documented as such (the repair job's
outbox reads; the listings of platform services: `page_across_all_tenants`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    and_,
    func,
    or_,
    update,
)
from sqlalchemy import select as core_select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from shared.db import Database, TenantRepository
from shared.db.repository import AnySelect, page_with_total
from subgraphs.collaboration.models import (
    ActivityEvent,
    Comment,
    Invitation,
    Project,
    ProjectVersion,
    Workspace,
    WorkspaceMember,
)


@dataclass(frozen=True)
class AllTenantsPage:
    """A keyset page of rows of every tenant (plain mappings, in key order) and how many
    rows there are in all."""

    rows: list[dict[str, Any]]
    total: int


class WorkspaceRepository(TenantRepository[Workspace]):
    model = Workspace


class MemberRepository(TenantRepository[WorkspaceMember]):
    model = WorkspaceMember

    async def of_user(self, user_id: str, workspace_ids: Sequence[str]) -> dict[str, WorkspaceMember]:
        stmt = self.select().where(
            WorkspaceMember.user_id == user_id, col(WorkspaceMember.workspace_id).in_(workspace_ids)
        )
        return {row.workspace_id: row for row in (await self.session.execute(stmt)).scalars()}

    @classmethod
    async def load_of_user(
        cls, database: Database, tenant_id: str, user_id: str, workspace_ids: Sequence[str]
    ) -> dict[str, WorkspaceMember]:
        """`of_user` for the loaders, off the ORM."""
        rows = await cls.load_where(database, tenant_id, "workspace_id", workspace_ids, user_id=user_id)
        return {row.workspace_id: row for row in rows}

    async def find(self, workspace_id: str, user_id: str) -> WorkspaceMember | None:
        return (await self.of_user(user_id, [workspace_id])).get(workspace_id)

    async def page(self, workspace_id: str, after: str | None, limit: int) -> Sequence[WorkspaceMember]:
        stmt = self.select().where(WorkspaceMember.workspace_id == workspace_id)
        if after is not None:
            stmt = stmt.where(col(WorkspaceMember.id) > after)
        return (
            (await self.session.execute(stmt.order_by(col(WorkspaceMember.id)).limit(limit))).scalars().all()
        )

    async def count_owners(self, workspace_id: str) -> int:
        return await self.count(WorkspaceMember.workspace_id == workspace_id, WorkspaceMember.role == "owner")

    @staticmethod
    async def page_across_all_tenants(
        session: AsyncSession, after: tuple[str, str] | None, limit: int
    ) -> AllTenantsPage:
        """CROSSES TENANTS: up to `limit` workspace memberships of every tenant whose
        (workspace id, user id) sorts after `after` (keyset, by the unique (workspace_id,
        user_id) index), and how many there are, in one statement (`page_with_total`). A
        removed member's row is deleted, so every row is a current member. For platform
        services only (`collaborationItems`, a platform service token with no
        tenant): never call it on behalf of a user or a tenant."""
        member = WorkspaceMember
        conditions = []
        if after is not None:
            workspace_id, user_id = after
            conditions.append(
                or_(
                    col(member.workspace_id) > workspace_id,
                    and_(col(member.workspace_id) == workspace_id, col(member.user_id) > user_id),
                )
            )
        page: AnySelect = (
            core_select(
                col(member.tenant_id).label("tenant_id"),
                col(member.workspace_id).label("workspace_id"),
                col(member.user_id).label("user_id"),
                col(member.role).label("role"),
            )
            .where(*conditions)
            .order_by(col(member.workspace_id), col(member.user_id))
            .limit(limit)
        )
        rows, total = await page_with_total(
            session, page, core_select(func.count()).select_from(member), ["workspace_id", "user_id"]
        )
        return AllTenantsPage(rows, total)


class InvitationRepository(TenantRepository[Invitation]):
    model = Invitation

    async def by_code_hash(self, code_hash: str) -> Invitation | None:
        stmt = self.select().where(Invitation.code_hash == code_hash)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def claim(self, invitation_id: str, user_id: str, now: datetime) -> bool:
        """Single use even under a race: only the first claim updates the row."""
        stmt = (
            update(Invitation)
            .where(
                col(Invitation.id) == invitation_id,
                col(Invitation.tenant_id) == self.tenant_id,
                col(Invitation.accepted_at).is_(None),
                col(Invitation.revoked_at).is_(None),
            )
            .values(accepted_by=user_id, accepted_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool((await self.session.execute(stmt)).rowcount)  # type: ignore[attr-defined]


class ProjectRepository(TenantRepository[Project]):
    model = Project

    async def page(self, workspace_id: str, after: str | None, limit: int) -> Sequence[Project]:
        stmt = self.select().where(Project.workspace_id == workspace_id)
        if after is not None:
            stmt = stmt.where(col(Project.id) > after)
        return (await self.session.execute(stmt.order_by(col(Project.id)).limit(limit))).scalars().all()

    @staticmethod
    async def page_across_all_tenants(session: AsyncSession, after: str | None, limit: int) -> AllTenantsPage:
        """CROSSES TENANTS: up to `limit` projects of every tenant, soft-deleted ones too,
        whose id sorts after `after` (keyset, by the primary key), with their current title,
        content and version, and how many there are (deleted ones included), in one statement
        (`page_with_total`). For platform services only (`collaborationItems`, a platform
        service token with no tenant): never call it on behalf of a user or a tenant."""
        project = Project
        conditions = [col(project.id) > after] if after is not None else []
        page: AnySelect = (
            core_select(
                col(project.tenant_id).label("tenant_id"),
                col(project.id).label("id"),
                col(project.workspace_id).label("workspace_id"),
                col(project.title).label("title"),
                col(project.content).label("content"),
                col(project.version).label("version"),
                col(project.deleted_at).is_not(None).label("deleted"),
            )
            .where(*conditions)
            .order_by(col(project.id))
            .limit(limit)
        )
        rows, total = await page_with_total(
            session, page, core_select(func.count()).select_from(project), ["id"]
        )
        return AllTenantsPage(rows, total)


class VersionRepository(TenantRepository[ProjectVersion]):
    model = ProjectVersion

    async def of(self, project_id: str, version: int) -> ProjectVersion | None:
        stmt = self.select().where(ProjectVersion.project_id == project_id, ProjectVersion.version == version)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def page(self, project_id: str, before: int | None, limit: int) -> Sequence[ProjectVersion]:
        """Newest first."""
        stmt = self.select().where(ProjectVersion.project_id == project_id)
        if before is not None:
            stmt = stmt.where(col(ProjectVersion.version) < before)
        stmt = stmt.order_by(col(ProjectVersion.version).desc()).limit(limit)
        return (await self.session.execute(stmt)).scalars().all()


class CommentRepository(TenantRepository[Comment]):
    model = Comment

    async def set_resolution(self, comment_id: str, at: datetime | None, by: str | None) -> None:
        stmt = (
            update(Comment)
            .where(col(Comment.tenant_id) == self.tenant_id, col(Comment.id) == comment_id)
            .values(resolved_at=at, resolved_by=by)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(stmt)

    async def page(self, project_id: str, after: str | None, limit: int) -> Sequence[Comment]:
        stmt = self.select().where(Comment.project_id == project_id)
        if after is not None:
            stmt = stmt.where(col(Comment.id) > after)
        return (await self.session.execute(stmt.order_by(col(Comment.id)).limit(limit))).scalars().all()


class ActivityRepository(TenantRepository[ActivityEvent]):
    model = ActivityEvent

    async def page(self, workspace_id: str, before: str | None, limit: int) -> Sequence[ActivityEvent]:
        """Newest first."""
        stmt = self.select().where(ActivityEvent.workspace_id == workspace_id)
        if before is not None:
            stmt = stmt.where(col(ActivityEvent.id) < before)
        stmt = stmt.order_by(col(ActivityEvent.id).desc()).limit(limit)
        return (await self.session.execute(stmt)).scalars().all()


async def unpublished_events(
    session: AsyncSession, older_than: datetime, limit: int
) -> Sequence[ActivityEvent]:
    """Across tenants (the repair job): events whose append after commit did not happen."""
    stmt = (
        select(ActivityEvent)
        .where(col(ActivityEvent.published).is_(False), col(ActivityEvent.created_at) < older_than)
        .order_by(col(ActivityEvent.id))
        .limit(limit)
    )
    return (await session.execute(stmt)).scalars().all()


async def mark_published(session: AsyncSession, event_ids: Sequence[str]) -> None:
    await session.execute(
        update(ActivityEvent).where(col(ActivityEvent.id).in_(event_ids)).values(published=True)
    )
