"""Queries of the ai subgraph. Projections are written by event handlers; reads on the request
path are tenant-scoped here (a user's plays, a tenant's playlists, projects and memberships);
the catalogue and the model registry belong to no tenant. The training job alone reads across
tenants (`TrainingDataRepository`), as a platform job."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.db.mixins import utcnow
from shared.db.repository import insert_new
from subgraphs.ai.models import (
    AiConsent,
    AiModel,
    AiModelArtifact,
    AiPlay,
    AiPlaylist,
    AiProject,
    AiRecommendationLog,
    AiTrack,
    AiWorkspaceMember,
)

CHUNK = 500
"""Rows per statement (SQLite's bound-parameter limit)."""


class CatalogueRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def put_tracks(self, items: Sequence[Mapping[str, Any]]) -> None:
        known = {
            row.id: row
            for row in (
                await self.session.execute(
                    select(AiTrack).where(col(AiTrack.id).in_([i["id"] for i in items]))
                )
            ).scalars()
        }
        for item in items:
            artists = item.get("artists") or []
            album = item.get("album") or {}
            fields = {
                "name": item["name"],
                "artist_ids": [artist["id"] for artist in artists],
                "artist_names": [artist["name"] for artist in artists],
                "album_id": album.get("id"),
                "album_name": album.get("name"),
                "genres": list(item.get("genres") or []),
                "year": item.get("year"),
                "popularity": item.get("popularity"),
            }
            row = known.get(item["id"])
            if row is None:
                self.session.add(AiTrack(id=item["id"], **fields))
            else:
                for name, value in fields.items():
                    setattr(row, name, value)
                row.updated_at = utcnow()

    async def tracks(self) -> Sequence[AiTrack]:
        return (await self.session.execute(select(AiTrack).order_by(col(AiTrack.id)))).scalars().all()

    async def count(self) -> int:
        return int((await self.session.execute(select(func.count()).select_from(AiTrack))).scalar_one())


class PlayRepository:
    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def add(self, user_id: str, plays: Iterable[tuple[str, datetime]]) -> int:
        rows = [
            {"tenant_id": self.tenant_id, "user_id": user_id, "track_id": track, "played_at": at}
            for track, at in plays
        ]
        new = 0
        for start in range(0, len(rows), CHUNK):
            new += await insert_new(
                self.session,
                AiPlay,
                rows[start : start + CHUNK],
                ["tenant_id", "user_id", "track_id", "played_at"],
            )
        return new

    async def of_user(self, user_id: str, limit: int) -> list[tuple[str, datetime]]:
        """The user's latest plays, newest first."""
        stmt = (
            select(col(AiPlay.track_id), col(AiPlay.played_at))
            .where(col(AiPlay.tenant_id) == self.tenant_id, col(AiPlay.user_id) == user_id)
            .order_by(col(AiPlay.played_at).desc())
            .limit(limit)
        )
        return [(track, at) for track, at in (await self.session.execute(stmt)).all()]

    async def others_latest(self, user_id: str, limit: int) -> list[str]:
        """Track ids of the latest plays of the tenant's other users: what non-personal
        recommendations lean on (the caller's own plays are not used without consent)."""
        stmt = (
            select(col(AiPlay.track_id))
            .where(col(AiPlay.tenant_id) == self.tenant_id, col(AiPlay.user_id) != user_id)
            .order_by(col(AiPlay.played_at).desc())
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())


class PlaylistRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def put(
        self,
        playlist_id: str,
        *,
        tenant_id: str | None,
        owner_id: str | None,
        public: bool,
        track_ids: Sequence[str] | None,
        version: int = 0,
    ) -> None:
        """Stores what the event says; `track_ids` None keeps the stored ones (an event about
        the details only). An older version than the stored one changes nothing."""
        row = await self.session.get(AiPlaylist, playlist_id)
        if row is None:
            self.session.add(
                AiPlaylist(
                    id=playlist_id,
                    tenant_id=tenant_id,
                    owner_id=owner_id,
                    public=public,
                    track_ids=list(track_ids or []),
                    source_version=version,
                )
            )
            return
        if row.tenant_id != tenant_id or row.source_version > version:
            return
        row.public, row.source_version, row.updated_at = public, version, utcnow()
        if owner_id is not None:
            row.owner_id = owner_id
        if track_ids is not None:
            row.track_ids = list(track_ids)

    async def readable(self, playlist_id: str, tenant_id: str, user_id: str) -> AiPlaylist | None:
        """A catalogue playlist, or one of the caller's tenant that is public or theirs."""
        row = await self.session.get(AiPlaylist, playlist_id)
        if row is None:
            return None
        if row.tenant_id is None:
            return row
        if row.tenant_id == tenant_id and (row.public or row.owner_id == user_id):
            return row
        return None

    async def exists(self, playlist_id: str) -> bool:
        return await self.session.get(AiPlaylist, playlist_id) is not None

    async def of_owner(self, tenant_id: str, owner_id: str) -> list[list[str]]:
        stmt = select(col(AiPlaylist.track_ids)).where(
            col(AiPlaylist.tenant_id) == tenant_id, col(AiPlaylist.owner_id) == owner_id
        )
        return [list(tracks) for tracks in (await self.session.execute(stmt)).scalars()]


class ProjectRepository:
    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def put(
        self, project_id: str, workspace_id: str, title: str, track_ids: Sequence[str], version: int
    ) -> None:
        row = await self.session.get(AiProject, project_id)
        if row is None:
            self.session.add(
                AiProject(
                    id=project_id,
                    tenant_id=self.tenant_id,
                    workspace_id=workspace_id,
                    title=title,
                    track_ids=list(track_ids),
                    source_version=version,
                )
            )
        elif row.tenant_id == self.tenant_id and row.source_version <= version:
            row.title, row.track_ids, row.source_version, row.deleted = title, list(track_ids), version, False

    async def set_deleted(self, project_id: str, deleted: bool, version: int) -> None:
        await self.session.execute(
            update(AiProject)
            .where(
                col(AiProject.id) == project_id,
                col(AiProject.tenant_id) == self.tenant_id,
                col(AiProject.source_version) <= version,
            )
            .values(deleted=deleted, source_version=version)
        )

    async def readable(self, project_id: str, user_id: str) -> AiProject | None:
        """The project, when it is of the caller's tenant, not deleted, and the caller is a
        member of its workspace."""
        stmt = (
            select(AiProject)
            .join(
                AiWorkspaceMember,
                (col(AiWorkspaceMember.workspace_id) == col(AiProject.workspace_id))
                & (col(AiWorkspaceMember.user_id) == user_id),
            )
            .where(
                col(AiProject.id) == project_id,
                col(AiProject.tenant_id) == self.tenant_id,
                col(AiWorkspaceMember.tenant_id) == self.tenant_id,
                col(AiProject.deleted).is_(False),
            )
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()


class MembershipRepository:
    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def put(self, workspace_id: str, user_id: str) -> None:
        if await self.session.get(AiWorkspaceMember, (workspace_id, user_id)) is None:
            self.session.add(
                AiWorkspaceMember(workspace_id=workspace_id, user_id=user_id, tenant_id=self.tenant_id)
            )

    async def remove(self, workspace_id: str, user_id: str) -> None:
        await self.session.execute(
            delete(AiWorkspaceMember).where(
                col(AiWorkspaceMember.tenant_id) == self.tenant_id,
                col(AiWorkspaceMember.workspace_id) == workspace_id,
                col(AiWorkspaceMember.user_id) == user_id,
            )
        )


class ConsentRepository:
    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def put(self, user_id: str, personalization: bool) -> None:
        row = await self.session.get(AiConsent, user_id)
        if row is None:
            self.session.add(
                AiConsent(user_id=user_id, tenant_id=self.tenant_id, personalization=personalization)
            )
        elif row.tenant_id == self.tenant_id:
            row.personalization, row.changed_at = personalization, utcnow()

    async def personalization(self, user_id: str) -> bool | None:
        """What accounts last said, None when it has said nothing yet."""
        row = await self.session.get(AiConsent, user_id)
        return row.personalization if row is not None and row.tenant_id == self.tenant_id else None


class ModelRepository:
    """The model registry: no tenant (models are the platform's)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, model: AiModel, artifact: bytes | None, sha256: str | None) -> AiModel:
        self.session.add(model)
        if artifact is not None and sha256 is not None:
            self.session.add(AiModelArtifact(model_id=model.id, data=artifact, sha256=sha256))
        await self.session.flush()
        return model

    async def production(self, name: str) -> AiModel | None:
        stmt = select(AiModel).where(col(AiModel.name) == name, col(AiModel.stage) == "production")
        return (await self.session.execute(stmt)).scalars().first()

    async def version(self, name: str, version: str) -> AiModel | None:
        stmt = select(AiModel).where(col(AiModel.name) == name, col(AiModel.version) == version)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def versions(self, name: str | None = None) -> Sequence[AiModel]:
        stmt = select(AiModel).order_by(
            col(AiModel.name), col(AiModel.created_at).desc(), col(AiModel.id).desc()
        )
        if name is not None:
            stmt = stmt.where(col(AiModel.name) == name)
        return (await self.session.execute(stmt)).scalars().all()

    async def artifact(self, model_id: str) -> AiModelArtifact | None:
        return await self.session.get(AiModelArtifact, model_id)

    async def set_stage(self, model: AiModel, stage: str) -> None:
        model.stage, model.stage_changed_at = stage, utcnow()
        if stage == "production":
            model.promoted_at = model.stage_changed_at
        self.session.add(model)

    async def previous_production(self, name: str, before: AiModel) -> AiModel | None:
        """The version that was in production before `before` (what a rollback returns to)."""
        stmt = (
            select(AiModel)
            .where(
                col(AiModel.name) == name,
                col(AiModel.id) != before.id,
                col(AiModel.promoted_at).is_not(None),
                col(AiModel.promoted_at) <= (before.promoted_at or utcnow()),
            )
            .order_by(col(AiModel.promoted_at).desc())
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()


class RecommendationLogRepository:
    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def add(self, row: AiRecommendationLog) -> None:
        row.tenant_id = self.tenant_id
        self.session.add(row)

    @staticmethod
    async def purge_before(session: AsyncSession, before: datetime) -> int:
        """Every tenant's lists served before `before` (the retention job)."""
        result = await session.execute(
            delete(AiRecommendationLog).where(col(AiRecommendationLog.created_at) < before)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def get(self, log_id: str) -> AiRecommendationLog | None:
        row = await self.session.get(AiRecommendationLog, log_id)
        return row if row is not None and row.tenant_id == self.tenant_id else None


class TrainingDataRepository:
    """Everything the recommender learns from, across tenants (the training job, a platform
    job). Plays of users who declined personalization are left out."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def plays(self) -> list[tuple[str, str, datetime]]:
        declined = select(col(AiConsent.user_id)).where(col(AiConsent.personalization).is_(False))
        stmt = select(
            col(AiPlay.tenant_id), col(AiPlay.user_id), col(AiPlay.track_id), col(AiPlay.played_at)
        ).where(col(AiPlay.user_id).not_in(declined))
        return [
            (f"{tenant}/{user}", track, at)
            for tenant, user, track, at in (await self.session.execute(stmt)).all()
        ]

    async def count_plays(self) -> int:
        return int((await self.session.execute(select(func.count()).select_from(AiPlay))).scalar_one())

    async def playlists(self) -> list[list[str]]:
        declined = select(col(AiConsent.user_id)).where(col(AiConsent.personalization).is_(False))
        stmt = select(col(AiPlaylist.track_ids)).where(
            col(AiPlaylist.owner_id).is_(None) | col(AiPlaylist.owner_id).not_in(declined)
        )
        return [list(tracks) for tracks in (await self.session.execute(stmt)).scalars()]
