"""Keeping the engine true to its sources: `spotify-agent search reindex` and `verify`.

The projection (`search_document`) is rebuilt from the source of truth through its GraphQL
API with a service token (`service:search`, scope `spotify:read`): spotify's `catalogueItems`
pages the catalogue in the shape of its `spotify.catalogue.upserted` items, and each page is
written as the event consumer writes it (`catalogue_documents` then `put`, here `put_many`:
`put` with one SELECT a page; unchanged content stays as it is). Then every document of the
asked types is marked pending and the worker's indexer (the engine's one writer) pushes them
all again; embeddings come from their cache.
Tenant documents (platform playlists, projects) have no cross-tenant source API yet: they are
re-pushed as the projection holds them.

`verify` compares three things: the source's counts with the projection's, the projection's
keys with the engine's (missing: projected, not in the engine; stale: in the engine, deleted
or absent in the projection), and a random sample of documents field by field (changed).
Pending documents are the indexer's work in progress, not drift: they are counted apart.
`repair` marks missing and changed documents pending and stale ones deleted and pending, so
the indexer re-pushes or deletes them. Nothing here writes to the engine."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from shared.db import Database
from subgraphs.search.backends.base import Document, DocumentType, SearchBackend, Visibility
from subgraphs.search.documents import catalogue_documents, to_fields
from subgraphs.search.repository import DocumentRepository, DocumentState

SERVICE = "search"
SCOPES = ("spotify:read",)
"""What the service token of a reindex asks for."""
CATALOGUE_KINDS = (DocumentType.TRACK, DocumentType.ARTIST, DocumentType.ALBUM, DocumentType.PLAYLIST)
"""The types spotify's `catalogueItems` lists (Spotify's own objects, no tenant)."""
PAGE_SIZE = 500
DEFAULT_SAMPLE = 100
_OPTIONAL_TEXT = ("album", "description", "tenant_id", "owner_id", "workspace_id")
"""Fields an engine leaves out when empty: "" and None are the same indexed value."""

CATALOGUE_ITEMS = """query CatalogueItems($kind: CatalogueKind!, $first: Int!, $after: String) {
  catalogueItems(kind: $kind, first: $first, after: $after) {
    items totalCount pageInfo { hasNextPage endCursor } } }"""

Progress = Callable[[DocumentType, int, int], None]
"""(type, done, total) as a listing or a wait advances."""


class SourceError(RuntimeError):
    """The source API could not be asked, or refused (its error codes are in the message)."""


@dataclass(frozen=True)
class SourcePage:
    items: list[Mapping[str, Any]]
    total: int
    has_next: bool
    end_cursor: str | None


class CatalogueSource:
    """spotify's `catalogueItems` over HTTP: the router's URL, or the spotify subgraph's.
    `headers` is asked before every request (a service token is short-lived)."""

    def __init__(
        self,
        url: str,
        headers: Callable[[], Mapping[str, str]],
        *,
        page_size: int = PAGE_SIZE,
        timeout: float = 60.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = url
        self.headers = headers
        self.page_size = page_size
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._own_client = client is None

    async def page(
        self, kind: DocumentType, after: str | None = None, first: int | None = None
    ) -> SourcePage:
        variables = {"kind": kind.value.upper(), "first": first or self.page_size, "after": after}
        try:
            response = await self._client.post(
                self.url,
                json={"query": CATALOGUE_ITEMS, "variables": variables},
                headers=dict(self.headers()),
            )
        except httpx.HTTPError as error:
            raise SourceError(f"cannot reach {self.url}: {error}") from error
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise SourceError(f"{self.url} answered HTTP {response.status_code} without a GraphQL body")
        if body.get("errors"):
            codes = sorted({str((e.get("extensions") or {}).get("code", "?")) for e in body["errors"]})
            message = body["errors"][0].get("message", "")
            raise SourceError(f"catalogueItems({kind.value}) refused: {', '.join(codes)} ({message})")
        data = (body.get("data") or {}).get("catalogueItems")
        if not isinstance(data, dict):
            raise SourceError(f"catalogueItems({kind.value}) answered no data")
        return SourcePage(
            items=list(data["items"]),
            total=int(data["totalCount"]),
            has_next=bool(data["pageInfo"]["hasNextPage"]),
            end_cursor=data["pageInfo"]["endCursor"],
        )

    async def total(self, kind: DocumentType) -> int:
        return (await self.page(kind, first=1)).total

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()


# Reindex.


@dataclass(frozen=True)
class TypeReindex:
    type: DocumentType
    listed: int | None
    """Objects the source listed; None: the type has no source API (re-pushed as projected)."""
    changed: int
    """Projected documents written (new, changed or deleted before)."""
    removed: int
    """Catalogue documents the source no longer lists, marked deleted."""
    queued: int
    """Documents marked pending for the indexer (deleted ones included: deleted again)."""
    from_projection: int
    """Tenant documents (platform playlists, projects) re-pushed as the projection holds them."""


@dataclass(frozen=True)
class ReindexReport:
    types: list[TypeReindex]

    @property
    def queued(self) -> int:
        return sum(entry.queued for entry in self.types)


async def reindex(
    db: Database,
    source: CatalogueSource,
    types: Sequence[DocumentType],
    progress: Progress | None = None,
) -> ReindexReport:
    """Rebuilds the projection of `types` from their source, then queues every document of
    them for the indexer."""
    report: list[TypeReindex] = []
    for type in dict.fromkeys(types):
        async with db.read() as session:
            before = await DocumentRepository(session).states(type)
        listed: int | None = None
        changed = removed = 0
        if type in CATALOGUE_KINDS:
            listed, changed, seen = await _project_source(db, source, type, progress)
            # Only what was projected before the listing began: an object announced meanwhile
            # may sort before the cursor, unseen, and must stay.
            gone = [s.key for s in before if s.catalogue and not s.deleted and _entity(s.key) not in seen]
            removed = await _mark_deleted(db, gone)
        async with db.write() as session:
            queued = await DocumentRepository(session).requeue_types([type])
        tenant = sum(1 for state in before if not state.catalogue and not state.deleted)
        report.append(TypeReindex(type, listed, changed, removed, queued, tenant))
    return ReindexReport(report)


async def _project_source(
    db: Database, source: CatalogueSource, type: DocumentType, progress: Progress | None
) -> tuple[int, int, set[str]]:
    seen: set[str] = set()
    changed = 0
    after: str | None = None
    while True:
        page = await source.page(type, after)
        async with db.write() as session:
            changed += await DocumentRepository(session).put_many(catalogue_documents(type.value, page.items))
        seen.update(str(item["id"]) for item in page.items)
        if progress is not None:
            progress(type, len(seen), max(page.total, len(seen)))
        if not page.has_next or not page.end_cursor:
            return len(seen), changed, seen
        after = page.end_cursor


async def _mark_deleted(db: Database, keys: Sequence[str]) -> int:
    removed = 0
    async with db.write() as session:
        documents = DocumentRepository(session)
        for key in keys:
            removed += await documents.mark_deleted(key)
    return removed


def _entity(key: str) -> str:
    return key.split(":", 1)[1]


async def wait_until_indexed(
    db: Database,
    types: Sequence[DocumentType],
    *,
    timeout: float,
    poll: float = 0.5,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Waits for the indexer to push every pending document of `types`; returns how many
    are still pending (0, or what the timeout left)."""
    deadline = time.monotonic() + timeout
    first: int | None = None
    while True:
        async with db.read() as session:
            pending = await DocumentRepository(session).count_pending(types)
        first = pending if first is None else max(first, pending)
        if progress is not None:
            progress(first - pending, first)
        if pending == 0 or time.monotonic() >= deadline:
            return pending
        await asyncio.sleep(min(poll, max(deadline - time.monotonic(), 0.0)))


# Verify.


@dataclass(frozen=True)
class TypeVerify:
    type: DocumentType
    source: int | None
    """The source's count (catalogue kinds); None when not asked or there is none."""
    projected: int
    """Documents the projection holds, not deleted."""
    projected_catalogue: int
    """... of which Spotify's own (what the source counts)."""
    engine: int
    pending: int
    """Documents the indexer has yet to push: not compared."""
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    """Sampled documents whose indexed fields differ from the projection -> those fields."""
    sampled: int = 0

    @property
    def source_drift(self) -> bool:
        return self.source is not None and self.source != self.projected_catalogue

    @property
    def drift(self) -> bool:
        return self.source_drift or bool(self.missing or self.stale or self.changed)


@dataclass(frozen=True)
class VerifyReport:
    types: list[TypeVerify]

    @property
    def drift(self) -> bool:
        return any(entry.drift for entry in self.types)


async def verify(
    db: Database,
    backend: SearchBackend,
    source: CatalogueSource | None,
    *,
    sample: int = DEFAULT_SAMPLE,
    types: Sequence[DocumentType] = tuple(DocumentType),
    rng: random.Random | None = None,
) -> VerifyReport:
    """`sample`: documents compared field by field per type (all of them when fewer)."""
    rng = rng or random.Random()
    report: list[TypeVerify] = []
    for type in types:
        counted = await source.total(type) if source is not None and type in CATALOGUE_KINDS else None
        async with db.read() as session:
            states = await DocumentRepository(session).states(type)
        engine = await backend.keys(type)
        report.append(await _compare(db, backend, type, counted, states, engine, sample, rng))
    return VerifyReport(report)


async def _compare(
    db: Database,
    backend: SearchBackend,
    type: DocumentType,
    source: int | None,
    states: list[DocumentState],
    engine: set[str],
    sample: int,
    rng: random.Random,
) -> TypeVerify:
    live = {state.key for state in states if not state.deleted}
    pending = {state.key for state in states if state.pending}
    candidates = sorted((live & engine) - pending)
    sampled = rng.sample(candidates, min(max(sample, 0), len(candidates)))
    changed: dict[str, list[str]] = {}
    if sampled:
        async with db.read() as session:
            projected = await DocumentRepository(session).documents(sampled)
        held = await backend.stored(sampled)
        for key in sorted(sampled):
            if key not in projected:
                continue  # deleted meanwhile
            fields = differences(projected[key], held[key]) if key in held else ["unreadable"]
            if fields:
                changed[key] = fields
    return TypeVerify(
        type=type,
        source=source,
        projected=len(live),
        projected_catalogue=sum(1 for state in states if state.catalogue and not state.deleted),
        engine=len(engine),
        pending=len(pending),
        missing=sorted(live - engine - pending),
        stale=sorted(engine - live - pending),
        changed=changed,
        sampled=len(sampled),
    )


def indexed_view(document: Document) -> dict[str, Any]:
    """A document as every engine indexes it: empty optional text is no text, artist ids
    are a set (a filter, and the embedded engine returns them in term order)."""
    fields = to_fields(document)
    for name in _OPTIONAL_TEXT:
        fields[name] = fields[name] or None
    fields["artist_ids"] = sorted(set(fields["artist_ids"]))
    return fields


def differences(projected: Document, held: Document) -> list[str]:
    """The indexed fields in which the engine's copy differs from the projection's."""
    want, have = indexed_view(projected), indexed_view(held)
    return sorted(name for name in want if want[name] != have.get(name))


# Repair.


@dataclass(frozen=True)
class RepairReport:
    requeued: int
    """Missing and changed documents marked pending (the indexer re-pushes them)."""
    deleting: int
    """Stale documents marked deleted and pending (the indexer deletes them)."""


async def repair(db: Database, backend: SearchBackend, report: VerifyReport) -> RepairReport:
    again = [key for entry in report.types for key in [*entry.missing, *entry.changed]]
    stale = [key for entry in report.types for key in entry.stale]
    copies = await backend.stored(stale) if stale else {}
    found = {key: copies.get(key) or _placeholder(key) for key in stale}
    async with db.write() as session:
        documents = DocumentRepository(session)
        requeued = await documents.requeue(again)
        deleting = await documents.delete_from_engine(found)
    return RepairReport(requeued, deleting)


def _placeholder(key: str) -> Document:
    """A stale document the engine could not give back: found by nobody, if ever restored."""
    type, _, entity_id = key.partition(":")
    return Document(type=DocumentType(type), entity_id=entity_id, name="", visibility=Visibility.OWNER)
