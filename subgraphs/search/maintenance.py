"""Keeping the engine true to its sources: `spotify-agent search reindex` and `verify`.

The projection (`search_document`) is rebuilt from the sources of truth through their
GraphQL APIs with a platform service token (`service:search`, scopes `spotify:read` and
`collaboration:read`): spotify's `catalogueItems` (the catalogue) and `platformPlaylistItems`, collaboration's
`collaborationItems` (projects, deleted ones too, and workspace memberships), each listing
across tenants in the shape of the events the consumers project. Each page is written as the
consumer writes it (`put_many`: `put` with one SELECT a page, the source's versions kept;
unchanged content stays as it is); what the sources no longer list is marked deleted. Then
every document of the asked types is marked pending and the worker's indexer (the engine's
one writer) pushes them all again; embeddings come from their cache. Memberships, which the
access filter reads from the projection itself, are rebuilt in place with the projects.

`verify` compares three things: the sources' counts with the projection's, the projection's
keys with the engine's (missing: projected, not in the engine; stale: in the engine, deleted
or absent in the projection), and a random sample of documents field by field (changed).
Pending documents are the indexer's work in progress, not drift: they are counted apart.
`repair` marks missing and changed documents pending and stale ones deleted and pending, so
the indexer re-pushes or deletes them, and writes the membership drift. Nothing here writes
to the engine."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from shared.db import Database
from subgraphs.search.backends.base import Document, DocumentType, SearchBackend, Visibility, document_key
from subgraphs.search.documents import catalogue_documents, playlist_document, project_document, to_fields
from subgraphs.search.repository import (
    AllMemberships,
    DocumentRepository,
    DocumentState,
    Membership,
    MembershipDrift,
)

SERVICE = "search"
SCOPES = ("spotify:read", "collaboration:read")
"""What the service token of a reindex asks for."""
CATALOGUE_KINDS = (DocumentType.TRACK, DocumentType.ARTIST, DocumentType.ALBUM, DocumentType.PLAYLIST)
"""The types spotify's `catalogueItems` lists (Spotify's own objects, no tenant)."""
PAGE_SIZE = 500
DEFAULT_SAMPLE = 100
_OPTIONAL_TEXT = ("album", "description", "tenant_id", "owner_id", "workspace_id")
"""Fields an engine leaves out when empty: "" and None are the same indexed value."""

_PAGE = "items totalCount pageInfo { hasNextPage endCursor }"
CATALOGUE_ITEMS = f"""query CatalogueItems($kind: CatalogueKind!, $first: Int!, $after: String) {{
  catalogueItems(kind: $kind, first: $first, after: $after) {{ {_PAGE} }} }}"""
PLATFORM_PLAYLIST_ITEMS = f"""query PlatformPlaylistItems($first: Int!, $after: String) {{
  platformPlaylistItems(first: $first, after: $after) {{ {_PAGE} }} }}"""
COLLABORATION_ITEMS = f"""query CollaborationItems(
  $kind: CollaborationItemKind!, $first: Int!, $after: String) {{
  collaborationItems(kind: $kind, first: $first, after: $after) {{ {_PAGE} }} }}"""

Progress = Callable[[str, int, int], None]
"""(what is listed, done, total) as a listing or a wait advances."""


class SourceError(RuntimeError):
    """The source API could not be asked, or refused (its error codes are in the message)."""


@dataclass(frozen=True)
class SourcePage:
    items: list[Mapping[str, Any]]
    total: int
    has_next: bool
    end_cursor: str | None


class Sources:
    """The sources of truth over GraphQL: spotify's catalogue (`catalogueItems`) and platform
    playlists (`platformPlaylistItems`), collaboration's projects and memberships
    (`collaborationItems`). `url`: the router's, which has them all, or a subgraph's, with
    `urls` naming the owning subgraph's URL where it differs ({"collaboration": ...}).
    `headers` is asked before every request (a service token is short-lived)."""

    def __init__(
        self,
        url: str,
        headers: Callable[[], Mapping[str, str]],
        *,
        urls: Mapping[str, str] | None = None,
        page_size: int = PAGE_SIZE,
        timeout: float = 60.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = url
        self.urls = dict(urls or {})
        self.headers = headers
        self.page_size = page_size
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._own_client = client is None

    async def catalogue(
        self, kind: DocumentType, after: str | None = None, first: int | None = None
    ) -> SourcePage:
        variables = {"kind": kind.value.upper(), "first": first or self.page_size, "after": after}
        return await self._page("spotify", "catalogueItems", CATALOGUE_ITEMS, variables, kind.value)

    async def platform_playlists(self, after: str | None = None, first: int | None = None) -> SourcePage:
        variables = {"first": first or self.page_size, "after": after}
        return await self._page("spotify", "platformPlaylistItems", PLATFORM_PLAYLIST_ITEMS, variables, "")

    async def collaboration(
        self, kind: str, after: str | None = None, first: int | None = None
    ) -> SourcePage:
        """`kind`: PROJECT or MEMBERSHIP."""
        variables = {"kind": kind, "first": first or self.page_size, "after": after}
        return await self._page("collaboration", "collaborationItems", COLLABORATION_ITEMS, variables, kind)

    async def everything(
        self, listing: Callable[[str | None], Awaitable[SourcePage]]
    ) -> AsyncIterator[SourcePage]:
        """Every page of a listing (`lambda after: sources.platform_playlists(after)`)."""
        after: str | None = None
        while True:
            page = await listing(after)
            yield page
            if not page.has_next or not page.end_cursor:
                return
            after = page.end_cursor

    async def _page(
        self, subgraph: str, field_name: str, query: str, variables: dict[str, Any], what: str
    ) -> SourcePage:
        url = self.urls.get(subgraph, self.url)
        label = f"{field_name}({what})" if what else field_name
        try:
            response = await self._client.post(
                url, json={"query": query, "variables": variables}, headers=dict(self.headers())
            )
        except httpx.HTTPError as error:
            raise SourceError(f"cannot reach {url}: {error}") from error
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise SourceError(f"{url} answered HTTP {response.status_code} without a GraphQL body")
        if body.get("errors"):
            codes = sorted({str((e.get("extensions") or {}).get("code", "?")) for e in body["errors"]})
            message = body["errors"][0].get("message", "")
            raise SourceError(f"{label} refused: {', '.join(codes)} ({message})")
        data = (body.get("data") or {}).get(field_name)
        if not isinstance(data, dict):
            raise SourceError(f"{label} answered no data")
        return SourcePage(
            items=list(data["items"]),
            total=int(data["totalCount"]),
            has_next=bool(data["pageInfo"]["hasNextPage"]),
            end_cursor=data["pageInfo"]["endCursor"],
        )

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()


# Reindex.


@dataclass(frozen=True)
class TypeReindex:
    type: DocumentType
    listed: int
    """Objects the sources listed (deleted projects included)."""
    changed: int
    """Projected documents written (new, changed, or deleted at the source)."""
    removed: int
    """Documents the sources no longer list at all, marked deleted."""
    queued: int
    """Documents marked pending for the indexer (deleted ones included: deleted again)."""


@dataclass(frozen=True)
class MembershipReindex:
    listed: int
    added: int
    """Memberships written (new, or with a new role)."""
    removed: int


@dataclass(frozen=True)
class ReindexReport:
    types: list[TypeReindex]
    memberships: MembershipReindex | None = None
    """Rebuilt with the projects (they decide who finds them)."""

    @property
    def queued(self) -> int:
        return sum(entry.queued for entry in self.types)


@dataclass(frozen=True)
class Listed:
    """One page of a type's sources, as the event consumers would project it."""

    documents: list[Document]
    versions: list[int]
    deleted: list[tuple[str, int]]
    """Deleted at the source: (key, version)."""
    total: int


async def listing(sources: Sources, type: DocumentType) -> AsyncIterator[Listed]:
    """Every page of the objects behind `type`: Spotify's catalogue, then for playlists the
    platform ones; for projects, collaboration's (deleted ones too)."""
    if type in CATALOGUE_KINDS:
        async for page in sources.everything(lambda after: sources.catalogue(type, after)):
            documents = catalogue_documents(type.value, page.items)
            yield Listed(documents, [0] * len(documents), [], page.total)
    if type is DocumentType.PLAYLIST:
        async for page in sources.everything(sources.platform_playlists):
            documents = [playlist_document(str(item["tenant_id"]), item) for item in page.items]
            yield Listed(documents, [int(item["version"]) for item in page.items], [], page.total)
    if type is DocumentType.PROJECT:
        async for page in sources.everything(lambda after: sources.collaboration("PROJECT", after)):
            live = [item for item in page.items if not item["deleted"]]
            yield Listed(
                [project_document(str(item["tenant_id"]), item) for item in live],
                [int(item["version"]) for item in live],
                [
                    (document_key(DocumentType.PROJECT, str(item["project_id"])), int(item["version"]))
                    for item in page.items
                    if item["deleted"]
                ],
                page.total,
            )


async def reindex(
    db: Database,
    sources: Sources,
    types: Sequence[DocumentType],
    progress: Progress | None = None,
) -> ReindexReport:
    """Rebuilds the projection of `types` from their sources (and the memberships with the
    projects), then queues every document of them for the indexer."""
    report: list[TypeReindex] = []
    memberships = None
    for type in dict.fromkeys(types):
        if type is DocumentType.PROJECT:
            memberships = await reindex_memberships(db, sources, progress)
        async with db.read() as session:
            before = await DocumentRepository(session).states(type)
        listed = changed = 0
        seen: set[str] = set()
        async for page in listing(sources, type):
            async with db.write() as session:
                documents = DocumentRepository(session)
                changed += await documents.put_many(page.documents, page.versions)
                for key, version in page.deleted:
                    changed += await documents.mark_deleted(key, version)
            seen.update(document.key for document in page.documents)
            seen.update(key for key, _ in page.deleted)
            listed += len(page.documents) + len(page.deleted)
            if progress is not None:
                progress(type.value, listed, max(page.total, listed))
        # Only what was projected before the listing began: an object announced meanwhile
        # may sort before the cursor, unseen, and must stay.
        gone = [state.key for state in before if not state.deleted and state.key not in seen]
        async with db.write() as session:
            documents = DocumentRepository(session)
            removed = await documents.mark_gone(gone)
            queued = await documents.requeue_types([type])
        report.append(TypeReindex(type, listed, changed, removed, queued))
    return ReindexReport(report, memberships)


async def source_memberships(sources: Sources) -> set[Membership]:
    found: set[Membership] = set()
    async for page in sources.everything(lambda after: sources.collaboration("MEMBERSHIP", after)):
        found.update(
            Membership(str(m["tenant_id"]), str(m["workspace_id"]), str(m["user_id"]), str(m["role"]))
            for m in page.items
        )
    return found


def membership_drift(
    source: set[Membership], projected: set[Membership], before: set[Membership] | None = None
) -> MembershipDrift:
    """What makes the projection the source's: by (tenant, workspace, user); a stale one is
    removed only if it was projected `before` the listing began (else an event added it)."""
    listed = {(m.tenant_id, m.workspace_id, m.user_id) for m in source}
    held = before if before is not None else projected
    return MembershipDrift(
        missing=sorted(source - projected, key=_member_order),
        stale=sorted(
            (m for m in projected & held if (m.tenant_id, m.workspace_id, m.user_id) not in listed),
            key=_member_order,
        ),
    )


def _member_order(member: Membership) -> tuple[str, str, str]:
    return member.tenant_id, member.workspace_id, member.user_id


async def reindex_memberships(db: Database, sources: Sources, progress: Progress | None) -> MembershipReindex:
    async with db.read() as session:
        before = await AllMemberships(session).all()
    source = await source_memberships(sources)
    if progress is not None:
        progress("membership", len(source), len(source))
    async with db.write() as session:
        projection = AllMemberships(session)
        drift = membership_drift(source, await projection.all(), before)
        await projection.apply(drift)
    return MembershipReindex(len(source), len(drift.missing), len(drift.stale))


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
    """Live objects the sources list; None when not asked."""
    projected: int
    """Documents the projection holds, not deleted."""
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
        return self.source is not None and self.source != self.projected

    @property
    def drift(self) -> bool:
        return self.source_drift or bool(self.missing or self.stale or self.changed)


@dataclass(frozen=True)
class VerifyReport:
    types: list[TypeVerify]
    memberships: MembershipDrift | None = None
    """Against collaboration's memberships (asked with a source and the projects)."""

    @property
    def drift(self) -> bool:
        members = self.memberships
        return any(entry.drift for entry in self.types) or bool(
            members and (members.missing or members.stale)
        )


async def verify(
    db: Database,
    backend: SearchBackend,
    sources: Sources | None,
    *,
    sample: int = DEFAULT_SAMPLE,
    types: Sequence[DocumentType] = tuple(DocumentType),
    rng: random.Random | None = None,
) -> VerifyReport:
    """`sample`: documents compared field by field per type (all of them when fewer)."""
    rng = rng or random.Random()
    report: list[TypeVerify] = []
    for type in types:
        counted = await live_count(sources, type) if sources is not None else None
        async with db.read() as session:
            states = await DocumentRepository(session).states(type)
        engine = await backend.keys(type)
        report.append(await _compare(db, backend, type, counted, states, engine, sample, rng))
    memberships = None
    if sources is not None and DocumentType.PROJECT in types:
        source = await source_memberships(sources)
        async with db.read() as session:
            memberships = membership_drift(source, await AllMemberships(session).all())
    return VerifyReport(report, memberships)


async def live_count(sources: Sources, type: DocumentType) -> int:
    """The sources' count of live objects: their totals, except projects, whose listing
    holds the deleted ones too (counted apart, a page at a time)."""
    if type is DocumentType.PROJECT:
        return sum([len(page.documents) async for page in listing(sources, type)])
    total = (await sources.catalogue(type, first=1)).total if type in CATALOGUE_KINDS else 0
    if type is DocumentType.PLAYLIST:
        total += (await sources.platform_playlists(first=1)).total
    return total


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
    """Queues the documents' fixes for the indexer; membership drift is fixed in place (the
    access filter reads the table itself)."""
    again = [key for entry in report.types for key in [*entry.missing, *entry.changed]]
    stale = [key for entry in report.types for key in entry.stale]
    copies = await backend.stored(stale) if stale else {}
    found = {key: copies.get(key) or _placeholder(key) for key in stale}
    async with db.write() as session:
        documents = DocumentRepository(session)
        requeued = await documents.requeue(again)
        deleting = await documents.delete_from_engine(found)
        if report.memberships is not None:
            await AllMemberships(session).apply(report.memberships)
    return RepairReport(requeued, deleting)


def _placeholder(key: str) -> Document:
    """A stale document the engine could not give back: found by nobody, if ever restored."""
    type, _, entity_id = key.partition(":")
    return Document(type=DocumentType(type), entity_id=entity_id, name="", visibility=Visibility.OWNER)
