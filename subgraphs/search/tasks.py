"""The search subgraph's work in the worker: domain-event consumers that keep the document
projection and the memberships (each handler runs in the consumer's transaction), and the
indexer, a loop that pushes changed documents into the engine in batches."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database
from shared.domain_events import Consumer, DomainEvent
from shared.embeddings import SentenceEncoder, cached_embeddings, sentence_encoder
from subgraphs.search.backends import SearchBackend, create_backend
from subgraphs.search.backends.base import DocumentType, document_key
from subgraphs.search.config import SearchSettings
from subgraphs.search.documents import catalogue_documents, from_fields, playlist_document, project_document
from subgraphs.search.repository import DocumentRepository, MembershipRepository

log = logging.getLogger(__name__)


async def project_catalogue(session: AsyncSession, event: DomainEvent) -> None:
    documents = DocumentRepository(session)
    for document in catalogue_documents(event.payload["kind"], event.payload["items"]):
        await documents.put(document)


async def project_playlist(session: AsyncSession, event: DomainEvent) -> None:
    if event.tenant_id:
        document = playlist_document(event.tenant_id, event.payload)
        await DocumentRepository(session).put(document, event.payload["version"])


async def project_project(session: AsyncSession, event: DomainEvent) -> None:
    if not event.tenant_id:
        return
    payload = event.payload
    documents = DocumentRepository(session)
    key = document_key(DocumentType.PROJECT, payload["project_id"])
    if event.type == "collaboration.project.deleted":
        await documents.mark_deleted(key, payload["version"])
    elif event.type == "collaboration.project.restored":
        await documents.restore(key, payload["version"])
    else:
        await documents.put(project_document(event.tenant_id, payload), payload["version"])


async def project_membership(session: AsyncSession, event: DomainEvent) -> None:
    if not event.tenant_id:
        return
    payload = event.payload
    members = MembershipRepository(session, event.tenant_id)
    if event.type == "collaboration.member.removed":
        await members.remove(payload["workspace_id"], payload["user_id"])
    else:
        await members.put(payload["workspace_id"], payload["user_id"], payload["role"])


CONSUMERS = [
    Consumer("search.catalogue", ("spotify.catalogue.upserted",), project_catalogue),
    Consumer(
        "search.playlists", ("spotify.playlist.created", "spotify.playlist.details_changed"), project_playlist
    ),
    Consumer(
        "search.projects",
        (
            "collaboration.project.created",
            "collaboration.project.changed",
            "collaboration.project.deleted",
            "collaboration.project.restored",
        ),
        project_project,
    ),
    Consumer(
        "search.memberships",
        ("collaboration.member.added", "collaboration.member.removed", "collaboration.member.role_changed"),
        project_membership,
    ),
]


async def index_pending(
    db: Database, backend: SearchBackend, batch: int, encoder: SentenceEncoder | None = None
) -> int:
    """Pushes up to `batch` changed documents into the engine, with their embeddings when an
    encoder is given (cached by content: only new text is embedded); returns how many."""
    async with db.read() as session:
        rows = await DocumentRepository(session).pending(batch)
    if not rows:
        return 0
    documents = [from_fields(row.fields) for row in rows if not row.deleted]
    vectors = None
    if encoder is not None and documents:
        vectors = (await cached_embeddings(db, encoder, [document.text() for document in documents])).tolist()
    await backend.upsert(documents, vectors)
    await backend.delete([row.key for row in rows if row.deleted])
    async with db.write() as session:
        await DocumentRepository(session).mark_indexed([(row.key, row.changed_at) for row in rows])
    return len(rows)


async def upgrade_outdated_index(db: Database, backend: SearchBackend) -> int:
    """An engine holding an older format of its index gets every document again (queued
    before the old files go, so a crash in between only queues them twice); returns how many."""
    if not await backend.outdated():
        return 0
    async with db.write() as session:
        queued = await DocumentRepository(session).requeue_types(list(DocumentType))
    log.warning("the search index is of an older format: %d documents queued again", queued)
    await backend.upgraded()
    return queued


async def run_indexer(ctx: dict[str, Any]) -> None:
    """The worker's indexer: the engine's one writer. Runs until cancelled; a failed round is
    logged and retried (the documents stay pending)."""
    settings: SearchSettings = ctx["subgraph_settings"]["search"]
    backend = create_backend(ctx["settings"], settings, writable=True)
    encoder = sentence_encoder() if settings.search_semantic else None
    try:
        await upgrade_outdated_index(ctx["db"], backend)
        while True:
            try:
                indexed = await index_pending(ctx["db"], backend, settings.search_index_batch, encoder)
            except Exception:
                log.exception("search indexing round failed; its documents stay pending")
                indexed = 0
            if indexed < settings.search_index_batch:
                await asyncio.sleep(settings.search_index_poll_seconds)
    finally:
        await backend.aclose()


FUNCTIONS: list[Any] = []
CRON_JOBS: list[Any] = []
LOOPS = [run_indexer]
