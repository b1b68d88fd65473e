"""Queries of the search subgraph. Memberships are tenant-scoped (`TenantRepository`); the
document projection is written by event handlers and read by the indexer across tenants
(catalogue documents belong to none): who may find a document is decided by the engine's
access filter, on the tenant, owner and workspace each document carries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from shared.db import Database
from shared.db.mixins import utcnow
from shared.db.repository import TenantRepository
from subgraphs.search.backends.base import Document
from subgraphs.search.documents import content_hash, to_fields
from subgraphs.search.models import SearchDocument, SearchWorkspaceMember


class MembershipRepository(TenantRepository[SearchWorkspaceMember]):
    model = SearchWorkspaceMember

    @classmethod
    async def workspaces_of(cls, database: Database, tenant_id: str, user_id: str) -> list[str]:
        rows = await cls.load_where(database, tenant_id, "user_id", [user_id])
        return sorted(row.workspace_id for row in rows)

    async def put(self, workspace_id: str, user_id: str, role: str) -> None:
        row = await self.session.get(SearchWorkspaceMember, (workspace_id, user_id))
        if row is None:
            self.add(
                SearchWorkspaceMember(
                    workspace_id=workspace_id, user_id=user_id, tenant_id=self.tenant_id, role=role
                )
            )
        elif row.tenant_id == self.tenant_id:
            row.role = role

    async def remove(self, workspace_id: str, user_id: str) -> None:
        await self.session.execute(
            delete(SearchWorkspaceMember).where(
                col(SearchWorkspaceMember.tenant_id) == self.tenant_id,
                col(SearchWorkspaceMember.workspace_id) == workspace_id,
                col(SearchWorkspaceMember.user_id) == user_id,
            )
        )


class DocumentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def put(self, document: Document, source_version: int = 0) -> bool:
        """Stores the document for the indexer unless a newer version is stored or its
        content is unchanged. Returns whether anything changed."""
        fields = to_fields(document)
        digest = content_hash(fields)
        row = await self.session.get(SearchDocument, document.key)
        if row is None:
            self.session.add(
                SearchDocument(
                    key=document.key,
                    type=document.type.value,
                    entity_id=document.entity_id,
                    tenant_id=document.tenant_id,
                    workspace_id=document.workspace_id,
                    fields=fields,
                    content_hash=digest,
                    source_version=source_version,
                )
            )
            return True
        if row.source_version > source_version or (row.content_hash == digest and not row.deleted):
            return False
        row.fields, row.content_hash, row.source_version = fields, digest, source_version
        row.tenant_id, row.workspace_id = document.tenant_id, document.workspace_id
        row.deleted, row.pending, row.changed_at = False, True, utcnow()
        return True

    async def mark_deleted(self, key: str, source_version: int = 0) -> bool:
        row = await self.session.get(SearchDocument, key)
        if row is None or row.deleted or row.source_version > source_version:
            return False
        row.deleted, row.pending, row.changed_at = True, True, utcnow()
        row.source_version = source_version
        return True

    async def restore(self, key: str, source_version: int = 0) -> bool:
        row = await self.session.get(SearchDocument, key)
        if row is None or not row.deleted or row.source_version > source_version:
            return False
        row.deleted, row.pending, row.changed_at = False, True, utcnow()
        row.source_version = source_version
        return True

    async def pending(self, limit: int) -> Sequence[SearchDocument]:
        stmt = (
            select(SearchDocument)
            .where(col(SearchDocument.pending).is_(True))
            .order_by(col(SearchDocument.changed_at), col(SearchDocument.key))
            .limit(limit)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def mark_indexed(self, indexed: Sequence[tuple[str, datetime]]) -> None:
        """Clears `pending` on the documents that did not change again since they were read
        (compare-and-set on `changed_at`): a change made meanwhile is indexed next round."""
        now = utcnow()
        for key, changed_at in indexed:
            await self.session.execute(
                update(SearchDocument)
                .where(col(SearchDocument.key) == key, col(SearchDocument.changed_at) == changed_at)
                .values(pending=False, indexed_at=now)
            )
