"""Queries of the search subgraph. Memberships are tenant-scoped (`TenantRepository`); the
document projection is written by event handlers and read by the indexer across tenants
(catalogue documents belong to none): who may find a document is decided by the engine's
access filter, on the tenant, owner and workspace each document carries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from shared.db import Database
from shared.db.mixins import utcnow
from shared.db.repository import TenantRepository
from subgraphs.search.backends.base import Document, DocumentType
from subgraphs.search.documents import content_hash, from_fields, to_fields
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


@dataclass(frozen=True)
class Membership:
    tenant_id: str
    workspace_id: str
    user_id: str
    role: str


@dataclass(frozen=True)
class MembershipDrift:
    missing: list[Membership]
    """In the source, not in the projection (or there with another role)."""
    stale: list[Membership]
    """In the projection, no longer in the source."""


class AllMemberships:
    """The membership projection across tenants, for `search reindex` and `verify` only (a
    platform service's view: the request path reads it per tenant, `MembershipRepository`)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all(self) -> set[Membership]:
        rows = (await self.session.execute(select(SearchWorkspaceMember))).scalars().all()
        return {Membership(row.tenant_id, row.workspace_id, row.user_id, row.role) for row in rows}

    async def apply(self, drift: MembershipDrift) -> None:
        for member in drift.stale:
            await MembershipRepository(self.session, member.tenant_id).remove(
                member.workspace_id, member.user_id
            )
        await self.session.flush()
        for member in drift.missing:
            await MembershipRepository(self.session, member.tenant_id).put(
                member.workspace_id, member.user_id, member.role
            )


CHUNK = 500
"""Keys per statement in bulk updates (SQLite's bound-parameter limit)."""


@dataclass(frozen=True)
class DocumentState:
    """Where a projected document stands (what `search verify` compares)."""

    key: str
    catalogue: bool
    """No tenant: Spotify's own object (its source is the catalogue's API)."""
    deleted: bool
    pending: bool


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
            self.session.add(_new_row(document, fields, digest, source_version))
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
        """Up to `limit` changed documents, oldest change first, a tenant's before the
        catalogue's: a person's edit does not queue behind a seeded or reindexed catalogue."""
        found: list[SearchDocument] = []
        for tenant_documents in (True, False):
            owned = (
                col(SearchDocument.tenant_id).is_not(None)
                if tenant_documents
                else col(SearchDocument.tenant_id).is_(None)
            )
            stmt = (
                select(SearchDocument)
                .where(col(SearchDocument.pending).is_(True), owned)
                .order_by(col(SearchDocument.changed_at), col(SearchDocument.key))
                .limit(limit - len(found))
            )
            found.extend((await self.session.execute(stmt)).scalars().all())
            if len(found) == limit:
                break
        return found

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

    # Maintenance (`spotify-agent search reindex` and `verify`).

    async def put_many(self, documents: Sequence[Document], versions: Sequence[int] | None = None) -> int:
        """`put` for a batch (a page of a source listing, with the source's versions): one
        SELECT finds the rows that exist, each of which then goes through `put` (from the
        session, no further SQL); the others are new rows, as `put` adds them. Returns how
        many changed."""
        versioned = dict(zip([d.key for d in documents], versions or [0] * len(documents), strict=True))
        documents = list({document.key: document for document in documents}.values())
        keys = [document.key for document in documents]
        existing: set[str] = set()
        for start in range(0, len(keys), CHUNK):
            stmt = select(SearchDocument).where(col(SearchDocument.key).in_(keys[start : start + CHUNK]))
            existing.update(row.key for row in (await self.session.execute(stmt)).scalars())
        changed = 0
        with self.session.no_autoflush:
            for document in documents:
                if document.key in existing:
                    changed += await self.put(document, versioned[document.key])
                    continue
                fields = to_fields(document)
                self.session.add(_new_row(document, fields, content_hash(fields), versioned[document.key]))
                existing.add(document.key)
                changed += 1
        return changed

    async def mark_gone(self, keys: Sequence[str]) -> int:
        """Marks deleted the documents whose source no longer lists them at all, whatever
        version they were stored at; returns how many were live."""
        gone = 0
        for start in range(0, len(keys), CHUNK):
            stmt = (
                update(SearchDocument)
                .where(
                    col(SearchDocument.key).in_(keys[start : start + CHUNK]),
                    col(SearchDocument.deleted).is_(False),
                )
                .values(deleted=True, pending=True, changed_at=utcnow())
            )
            gone += int((await self.session.execute(stmt)).rowcount or 0)  # type: ignore[attr-defined]
        return gone

    async def states(self, type: DocumentType) -> list[DocumentState]:
        stmt = select(
            col(SearchDocument.key),
            col(SearchDocument.tenant_id),
            col(SearchDocument.deleted),
            col(SearchDocument.pending),
        ).where(col(SearchDocument.type) == type.value)
        rows = (await self.session.execute(stmt)).all()
        return [
            DocumentState(key, tenant is None, bool(deleted), bool(pending))
            for key, tenant, deleted, pending in rows
        ]

    async def documents(self, keys: Sequence[str]) -> dict[str, Document]:
        """The stored documents of these keys that are not deleted."""
        found: dict[str, Document] = {}
        for start in range(0, len(keys), CHUNK):
            stmt = select(SearchDocument).where(
                col(SearchDocument.key).in_(keys[start : start + CHUNK]),
                col(SearchDocument.deleted).is_(False),
            )
            for row in (await self.session.execute(stmt)).scalars():
                found[row.key] = from_fields(row.fields)
        return found

    async def requeue_types(self, types: Iterable[DocumentType]) -> int:
        """Marks every document of these types pending (deleted ones too: the indexer deletes
        them again), so the indexer pushes them all; returns how many."""
        stmt = (
            update(SearchDocument)
            .where(col(SearchDocument.type).in_([type.value for type in types]))
            .values(pending=True, changed_at=utcnow())
        )
        result = await self.session.execute(stmt)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def requeue(self, keys: Sequence[str]) -> int:
        """Marks these documents pending (a new `changed_at`, so a round that read them
        before does not clear the mark)."""
        changed = 0
        for start in range(0, len(keys), CHUNK):
            stmt = (
                update(SearchDocument)
                .where(col(SearchDocument.key).in_(keys[start : start + CHUNK]))
                .values(pending=True, changed_at=utcnow())
            )
            changed += int((await self.session.execute(stmt)).rowcount or 0)  # type: ignore[attr-defined]
        return changed

    async def delete_from_engine(self, found: Mapping[str, Document]) -> int:
        """Documents the engine holds but the projection does not (`found`: key -> the
        engine's copy): deleted and pending, so the indexer deletes them. A key with no row
        gets a deleted one holding the engine's copy (so a later restore has a document)."""
        for key, document in found.items():
            row = await self.session.get(SearchDocument, key)
            if row is not None:
                row.deleted, row.pending, row.changed_at = True, True, utcnow()
                continue
            fields = to_fields(document)
            self.session.add(
                SearchDocument(
                    key=key,
                    type=document.type.value,
                    entity_id=document.entity_id,
                    tenant_id=document.tenant_id,
                    workspace_id=document.workspace_id,
                    fields=fields,
                    content_hash=content_hash(fields),
                    deleted=True,
                    pending=True,
                )
            )
        return len(found)

    async def count_pending(self, types: Iterable[DocumentType]) -> int:
        stmt = (
            select(func.count())
            .select_from(SearchDocument)
            .where(
                col(SearchDocument.pending).is_(True),
                col(SearchDocument.type).in_([type.value for type in types]),
            )
        )
        return int((await self.session.execute(stmt)).scalar_one())


def _new_row(document: Document, fields: dict[str, Any], digest: str, source_version: int) -> SearchDocument:
    return SearchDocument(
        key=document.key,
        type=document.type.value,
        entity_id=document.entity_id,
        tenant_id=document.tenant_id,
        workspace_id=document.workspace_id,
        fields=fields,
        content_hash=digest,
        source_version=source_version,
    )
