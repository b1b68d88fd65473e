"""Meilisearch behind the search backend protocol, through `meilisearch-python-sdk`'s AsyncClient.

The index (`documents` by default) is prepared by the first write of each process
(`ensure_settings`, also callable at start-up): created with primary key `id`, then its
settings pushed: searchable name, artists, album, genres, description and, last, entity_id (so
a query that is an id finds it; ids take no typos), the filterable and sortable attributes,
Meilisearch's typo defaults stated explicitly, facet values ordered by count, `maxTotalHits`,
and a `userProvided` embedder `minilm` of the platform's 384 dimensions. Meilisearch rejects
':' in document ids, so `id` is the key with every character outside `[A-Za-z0-9-]` written
`_xx` (its UTF-8 bytes in hex, '_' included): reversible, so two keys never share an id. `key`
stays a field.
Documents carry their embedding in `_vectors.minilm` (null when there is none), and the
derived `decade` and `popularity_band` that the YEAR and POPULARITY facets count.

Every write is a Meilisearch task and is awaited: the task is polled until it succeeded,
failed or was canceled, within `task_timeout`; a failure raises `MeilisearchError` with
Meilisearch's code and message, as does any refused request (a wrong key: `invalid_api_key`).

Searching:
- the access filter (public; tenant-visible in the reader's tenant; owner-visible and the
  reader's own, in the tenant; workspace-visible in one of the reader's workspaces, in the
  tenant) is a `filter` expression ANDed with the caller's filters, so counts and facets never
  include what the reader may not see. Values are always double-quoted with `\\` and `"`
  escaped, which Meilisearch's filter parser reads back exactly: no value can end the string.
- pages are asked by `page`/`hitsPerPage`, whose `totalHits` is exhaustive (exact unless it
  reached `maxTotalHits`); an offset that is not a multiple of the limit asks the first page
  long enough and keeps its tail.
- words: by default the embedded engine's rule: every word must match (`matchingStrategy:
  all`), and only when nothing does is the query asked again without its last word, and so on.
  Meilisearch's own `last` strategy would also return, after the documents matching every word,
  those matching only the first ones, and count them in totals and facets; pass
  `word_dropping="last"` for that.
- KEYWORD is a plain search. SEMANTIC and HYBRID with the query's vector send `vector` and
  `hybrid: {embedder: "minilm", semanticRatio}` (SEMANTIC: 1.0; HYBRID: the request's ratio, or
  `DEFAULT_SEMANTIC_RATIO`: Meilisearch fuses by weighted scores, never by reciprocal ranks);
  `semanticHitCount` becomes `semantic_hits`. SEMANTIC also sends `rankingScoreThreshold`, so
  that, like the embedded engine, it finds only documents of cosine similarity >=
  `min_similarity` (Meilisearch scores a semantic hit `(1 + cosine) / 2` and leaves what is
  under the threshold out of totals and facets). HYBRID has no threshold (it would cut keyword
  hits): its total counts every readable document, as Meilisearch's semantic side ranks them
  all. A hit whose `_rankingScoreDetails` hold `vectorSort` was found by meaning, one holding
  `words` by keyword; Meilisearch names one source per hit, so in HYBRID a semantic hit whose
  text also carries highlighted query words is reported as found by both. Without a vector the
  search is by keyword and says so (`keyword_only`).
- highlights are `_formatted` with `<em>` marks, kept for the fields that carry one. Meilisearch
  marks only the typed part of a prefix match (`<em>Harb</em>ors`); the mark is widened to the
  whole word, as the embedded engine marks it.

The SDK expresses all of this but index creation: its `create_index` waits on the creation
task without surfacing why it failed, so that one call is a POST through the SDK's own HTTP
client (httpx2), whose task is then awaited like every other."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Sequence
from typing import Any, Literal, TypeVar

import httpx2
from meilisearch_python_sdk import AsyncClient
from meilisearch_python_sdk.errors import MeilisearchApiError, MeilisearchCommunicationError
from meilisearch_python_sdk.errors import MeilisearchError as SdkError
from meilisearch_python_sdk.models.search import Hybrid, SearchResults
from meilisearch_python_sdk.models.settings import (
    Faceting,
    MeilisearchSettings,
    MinWordSizeForTypos,
    Pagination,
    TypoTolerance,
    UserProvidedEmbedder,
)

from shared.embeddings import DIMENSIONS
from subgraphs.search.backends.base import (
    DEFAULT_SEMANTIC_RATIO,
    FACET_SIZE,
    POPULARITY_BANDS,
    YEAR_BUCKET,
    Document,
    DocumentType,
    Facet,
    FacetCount,
    Filters,
    Hit,
    Mode,
    Reader,
    SearchPage,
    SearchRequest,
    Suggestion,
    Visibility,
)
from subgraphs.search.matching import MARK_END, MARK_START, ONE_TYPO_FROM, TWO_TYPOS_FROM, Words, words_of

EMBEDDER = "minilm"
MIN_SIMILARITY = 0.33
"""The embedded engine's cosine floor for a semantic match."""
PRIMARY_KEY = "id"
HIGHLIGHTED = ("name", "artists", "album", "genres", "description")
SEARCHABLE = (*HIGHLIGHTED, "entity_id")
FILTERABLE = (
    "type", "visibility", "tenant_id", "owner_id", "workspace_id", "artist_ids", "genres", "year",
    "explicit", "popularity", "decade", "popularity_band",
)  # fmt: skip
SORTABLE = ("popularity", "year")
RETRIEVED = ("key", "type", "entity_id", *HIGHLIGHTED)
KEYS_PAGE = 1_000
"""Documents per page when `keys` lists the index."""
STORED_CONCURRENCY = 8
FACET_ATTRIBUTES: dict[Facet, str] = {
    Facet.GENRE: "genres",
    Facet.YEAR: "decade",
    Facet.EXPLICIT: "explicit",
    Facet.POPULARITY: "popularity_band",
    Facet.ARTIST: "artist_ids",
    Facet.TYPE: "type",
    Facet.WORKSPACE: "workspace_id",
}
_ID_SAFE = re.compile(r"[A-Za-z0-9-]")
_PARTLY_MARKED = re.compile(re.escape(MARK_START) + r"([^<]*)" + re.escape(MARK_END) + r"([^\W_]+)")
_BAND_ORDER = {name: position for position, (name, _, _) in enumerate(POPULARITY_BANDS)}
WordDropping = Literal["when-nothing-matches", "last"]
T = TypeVar("T")


class MeilisearchError(RuntimeError):
    """Meilisearch refused a request or failed a task: its error code and message."""

    def __init__(
        self, action: str, code: str, message: str, *, status: int | None = None, task_uid: int | None = None
    ) -> None:
        where = f"task {task_uid}" if task_uid is not None else f"HTTP {status}" if status else "no answer"
        super().__init__(f"Meilisearch could not {action} ({where}, {code}): {message}")
        self.action, self.code, self.message = action, code, message
        self.status, self.task_uid = status, task_uid


def document_id(key: str) -> str:
    """`key` as a Meilisearch document id: `[A-Za-z0-9-]` kept, anything else `_xx` per byte."""
    return "".join(
        char if _ID_SAFE.fullmatch(char) else "".join(f"_{byte:02x}" for byte in char.encode())
        for char in key
    )


def decade(year: int) -> str:
    return str(year - year % YEAR_BUCKET)


def popularity_band(popularity: int) -> str | None:
    for name, low, high in POPULARITY_BANDS:
        if low <= popularity < high:
            return name
    return None


def meilisearch_document(doc: Document, vector: Sequence[float] | None) -> dict[str, Any]:
    fields: dict[str, Any] = {
        PRIMARY_KEY: document_id(doc.key),
        "key": doc.key,
        "type": doc.type.value,
        "entity_id": doc.entity_id,
        "name": doc.name,
        "artists": list(doc.artists),
        "artist_ids": list(doc.artist_ids),
        "album": doc.album,
        "genres": list(doc.genres),
        "description": doc.description,
        "year": doc.year,
        "decade": decade(doc.year) if doc.year is not None else None,
        "explicit": doc.explicit,
        "popularity": doc.popularity,
        "popularity_band": popularity_band(doc.popularity) if doc.popularity is not None else None,
        "visibility": doc.visibility.value,
        "tenant_id": doc.tenant_id,
        "owner_id": doc.owner_id,
        "workspace_id": doc.workspace_id,
    }
    document = {name: value for name, value in fields.items() if value is not None and value != []}
    document["_vectors"] = {EMBEDDER: [float(x) for x in vector] if vector is not None else None}
    return document


def stored_document(fields: dict[str, Any]) -> Document | None:
    """A document as `meilisearch_document` wrote it (None when it is not one)."""
    try:
        return Document(
            type=DocumentType(fields["type"]),
            entity_id=str(fields["entity_id"]),
            name=str(fields["name"]),
            visibility=Visibility(fields["visibility"]),
            artists=tuple(fields.get("artists") or ()),
            artist_ids=tuple(fields.get("artist_ids") or ()),
            album=fields.get("album"),
            genres=tuple(fields.get("genres") or ()),
            description=fields.get("description"),
            year=fields.get("year"),
            explicit=fields.get("explicit"),
            popularity=fields.get("popularity"),
            tenant_id=fields.get("tenant_id"),
            owner_id=fields.get("owner_id"),
            workspace_id=fields.get("workspace_id"),
        )
    except (KeyError, ValueError):
        return None


def index_settings(max_total_hits: int) -> MeilisearchSettings:
    return MeilisearchSettings(
        searchable_attributes=list(SEARCHABLE),
        filterable_attributes=list(FILTERABLE),
        sortable_attributes=list(SORTABLE),
        typo_tolerance=TypoTolerance(
            enabled=True,
            min_word_size_for_typos=MinWordSizeForTypos(one_typo=ONE_TYPO_FROM, two_typos=TWO_TYPOS_FROM),
            disable_on_attributes=["entity_id"],
        ),
        faceting=Faceting(max_values_per_facet=FACET_SIZE, sort_facet_values_by={"*": "count"}),
        pagination=Pagination(max_total_hits=max_total_hits),
        embedders={EMBEDDER: UserProvidedEmbedder(dimensions=DIMENSIONS)},
    )


# Filters.


def quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _equals(attribute: str, value: str) -> str:
    return f"{attribute} = {quoted(value)}"


def _one_of(attribute: str, values: Sequence[str]) -> str:
    return f"{attribute} IN [{', '.join(quoted(value) for value in values)}]"


def access_filter(reader: Reader) -> str:
    """What the reader may find (the embedded engine's `readable_by`)."""
    mine = _equals("tenant_id", reader.tenant_id)
    allowed = [
        _equals("visibility", Visibility.PUBLIC.value),
        f"({_equals('visibility', Visibility.TENANT.value)} AND {mine})",
        f"({_equals('visibility', Visibility.OWNER.value)} AND {_equals('owner_id', reader.user_id)}"
        f" AND {mine})",
    ]
    if reader.workspace_ids:
        allowed.append(
            f"({_equals('visibility', Visibility.WORKSPACE.value)} AND "
            f"{_one_of('workspace_id', reader.workspace_ids)} AND {mine})"
        )
    return "(" + " OR ".join(allowed) + ")"


def caller_filters(filters: Filters) -> list[str]:
    clauses: list[str] = []
    if filters.types:
        clauses.append(_one_of("type", [kind.value for kind in filters.types]))
    if filters.artist_ids:
        clauses.append(_one_of("artist_ids", filters.artist_ids))
    if filters.genres:
        clauses.append(_one_of("genres", filters.genres))
    if filters.year_from is not None and filters.year_to is not None:
        clauses.append(f"year {int(filters.year_from)} TO {int(filters.year_to)}")
    elif filters.year_from is not None:
        clauses.append(f"year >= {int(filters.year_from)}")
    elif filters.year_to is not None:
        clauses.append(f"year <= {int(filters.year_to)}")
    if filters.explicit is not None:
        clauses.append(f"explicit = {'true' if filters.explicit else 'false'}")
    if filters.workspace_ids:
        clauses.append(_one_of("workspace_id", filters.workspace_ids))
    return clauses


def search_filter(reader: Reader, filters: Filters, types: Sequence[DocumentType] = ()) -> str:
    clauses = [access_filter(reader), *caller_filters(filters)]
    if types:
        clauses.append(_one_of("type", [kind.value for kind in types]))
    return " AND ".join(clauses)


# Results.


def _whole_words(text: str) -> str:
    return _PARTLY_MARKED.sub(lambda found: f"{MARK_START}{found.group(1)}{found.group(2)}{MARK_END}", text)


def highlights_of(hit: dict[str, Any]) -> dict[str, str]:
    formatted = hit.get("_formatted") or {}
    highlights: dict[str, str] = {}
    for field in HIGHLIGHTED:
        value = formatted.get(field)
        text = ", ".join(str(part) for part in value) if isinstance(value, list) else value
        if isinstance(text, str) and MARK_START in text:
            highlights[field] = _whole_words(text)
    return highlights


def matched_by(hit: dict[str, Any], highlights: dict[str, str], mode: Mode) -> tuple[Mode, ...]:
    details = hit.get("_rankingScoreDetails") or {}
    if "vectorSort" in details:
        both = mode is Mode.HYBRID and highlights
        return (Mode.KEYWORD, Mode.SEMANTIC) if both else (Mode.SEMANTIC,)
    return (Mode.KEYWORD,)


def facet_counts(facet: Facet, distribution: dict[str, int]) -> list[FacetCount]:
    counts = [FacetCount(str(value), int(count)) for value, count in distribution.items() if count]
    if facet is Facet.YEAR:
        return sorted(counts, key=lambda count: int(count.value))
    if facet is Facet.POPULARITY:
        return sorted(counts, key=lambda count: _BAND_ORDER.get(count.value, len(_BAND_ORDER)))
    return sorted(counts, key=lambda count: (-count.count, count.value))


class MeilisearchBackend:
    """Any process may read and write: Meilisearch serialises the writes in its task queue."""

    name = "meilisearch"

    def __init__(
        self,
        url: str,
        key: str | None,
        index_uid: str = "documents",
        *,
        max_total_hits: int = 1_000,
        task_timeout: float = 30.0,
        task_poll_interval: float = 0.05,
        request_timeout: int = 10,
        word_dropping: WordDropping = "when-nothing-matches",
        min_similarity: float = MIN_SIMILARITY,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.index_uid = index_uid
        self.min_similarity = min_similarity
        self.max_total_hits = max_total_hits
        self.task_timeout = task_timeout
        self.task_poll_interval = task_poll_interval
        self.word_dropping = word_dropping
        self._client = AsyncClient(url, key, timeout=request_timeout, custom_headers=headers)
        self._index = self._client.index(index_uid)
        self._ready = False
        self._ready_lock = asyncio.Lock()

    # Writing.

    async def ensure_settings(self) -> None:
        """Creates the index (if it is not there) and pushes its settings; once per process."""
        async with self._ready_lock:
            if self._ready:
                return
            await self._create_index()
            action = "update the index settings"
            settings = index_settings(self.max_total_hits)
            task = await self._call(action, self._index.update_settings(settings))
            await self._completed(action, task.task_uid)
            self._ready = True

    async def _create_index(self) -> None:
        action = "create the index"
        try:
            response = await self._client.http_client.post(
                "indexes", json={"uid": self.index_uid, "primaryKey": PRIMARY_KEY}
            )
        except httpx2.TransportError as error:
            raise MeilisearchError(action, "communication_error", str(error)) from error
        body = _json(response)
        if response.status_code >= 400:
            raise MeilisearchError(
                action, str(body.get("code") or "unknown"), str(body.get("message") or response.text),
                status=response.status_code,
            )  # fmt: skip
        try:
            await self._completed(action, int(body["taskUid"]))
        except MeilisearchError as error:
            if error.code != "index_already_exists":
                raise

    async def upsert(self, documents: Sequence[Document], vectors: Sequence[Sequence[float]] | None) -> None:
        if not documents:
            return
        if vectors is not None and len(vectors) != len(documents):
            raise ValueError(f"{len(documents)} documents but {len(vectors)} vectors")
        await self.ensure_settings()
        body = [
            meilisearch_document(doc, vectors[position] if vectors is not None else None)
            for position, doc in enumerate(documents)
        ]
        task = await self._call("index documents", self._index.add_documents(body, primary_key=PRIMARY_KEY))
        await self._completed("index documents", task.task_uid)

    async def outdated(self) -> bool:
        return False  # the settings and documents are pushed in today's shape on every write

    async def upgraded(self) -> None:
        return None

    async def delete(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        await self.ensure_settings()
        ids = [document_id(key) for key in keys]
        task = await self._call("delete documents", self._index.delete_documents(ids))
        await self._completed("delete documents", task.task_uid)

    async def _completed(self, action: str, task_uid: int) -> None:
        """Polls the task until Meilisearch is done with it: succeeded, or an error."""
        deadline = time.monotonic() + self.task_timeout
        while True:
            task = await self._call(action, self._client.get_task(task_uid))
            if task.status == "succeeded":
                return
            if task.status in ("failed", "canceled"):
                error = task.error or {}
                raise MeilisearchError(
                    action,
                    str(error.get("code") or task.status),
                    str(error.get("message") or f"the task was {task.status}"),
                    task_uid=task_uid,
                )
            if time.monotonic() > deadline:
                raise MeilisearchError(
                    action,
                    "task_timeout",
                    f"still {task.status} after {self.task_timeout:g} s",
                    task_uid=task_uid,
                )
            await asyncio.sleep(self.task_poll_interval)

    async def _call(self, action: str, call: Awaitable[T]) -> T:
        try:
            return await call
        except MeilisearchApiError as error:
            message = error.message.removeprefix("Error message: ")
            code = error.code or "unknown"
            raise MeilisearchError(action, code, message, status=error.status_code) from error
        except MeilisearchCommunicationError as error:
            raise MeilisearchError(action, "communication_error", error.message) from error
        except SdkError as error:
            raise MeilisearchError(action, "unknown", error.message) from error
        except httpx2.HTTPError as error:  # an error answer that is not Meilisearch's JSON
            raise MeilisearchError(action, "http_error", str(error)) from error

    # Reading.

    async def search(self, request: SearchRequest) -> SearchPage:
        words = words_of(request.query)
        if not words.terms:
            empty: dict[Facet, list[FacetCount]] = {facet: [] for facet in request.facets}
            return SearchPage(hits=[], total=0, total_exact=True, semantic_hits=0, facets=empty)
        semantic = request.mode is not Mode.KEYWORD and request.vector is not None
        hybrid: Hybrid | None = None
        threshold: float | None = None
        if semantic:
            ratio = 1.0 if request.mode is Mode.SEMANTIC else request.semantic_ratio
            if ratio is None:
                ratio = DEFAULT_SEMANTIC_RATIO
            hybrid = Hybrid(semantic_ratio=ratio, embedder=EMBEDDER)
            if request.mode is Mode.SEMANTIC:
                threshold = (1.0 + self.min_similarity) / 2.0
        if self.word_dropping == "last" or semantic:
            attempts: list[Words] = [words]
        else:
            attempts = list(words.dropping_from_the_end())
        vector = [float(x) for x in request.vector] if semantic and request.vector is not None else None
        page, per_page, skipped = self._page_of(request)
        results: SearchResults | None = None
        for kept in attempts:
            results = await self._search(
                request.query if kept is attempts[0] else " ".join(kept.terms),
                "search",
                filter=search_filter(request.reader, request.filters),
                facets=[FACET_ATTRIBUTES[facet] for facet in request.facets] or None,
                page=page,
                hits_per_page=per_page,
                attributes_to_retrieve=list(RETRIEVED),
                attributes_to_highlight=list(HIGHLIGHTED),
                highlight_pre_tag=MARK_START,
                highlight_post_tag=MARK_END,
                matching_strategy="last" if self.word_dropping == "last" else "all",
                show_ranking_score=True,
                show_ranking_score_details=True,
                vector=vector,
                hybrid=hybrid,
                ranking_score_threshold=threshold,
            )
            if results is None or results.total_hits:
                break
        if results is None:
            empty_facets: dict[Facet, list[FacetCount]] = {facet: [] for facet in request.facets}
            return SearchPage(hits=[], total=0, total_exact=True, semantic_hits=0, facets=empty_facets)
        hits = [self._hit(hit, request.mode) for hit in results.hits[skipped:]]
        distribution = results.facet_distribution or {}
        total = int(results.total_hits or 0)
        return SearchPage(
            hits=hits,
            total=total,
            total_exact=total < self.max_total_hits,
            semantic_hits=int(results.semantic_hit_count or 0),
            facets={
                facet: facet_counts(facet, distribution.get(FACET_ATTRIBUTES[facet]) or {})
                for facet in request.facets
            },
            keyword_only=request.mode is not Mode.KEYWORD and request.vector is None,
        )

    @staticmethod
    def _page_of(request: SearchRequest) -> tuple[int, int, int]:
        """(page, hitsPerPage, hits to skip on it) covering `offset` .. `offset + limit`."""
        if request.limit <= 0:
            return 1, 0, 0
        if request.offset % request.limit == 0:
            return request.offset // request.limit + 1, request.limit, 0
        return 1, request.offset + request.limit, request.offset

    def _hit(self, hit: dict[str, Any], mode: Mode) -> Hit:
        highlights = highlights_of(hit)
        return Hit(
            key=str(hit["key"]),
            type=DocumentType(hit["type"]),
            entity_id=str(hit["entity_id"]),
            score=float(hit.get("_rankingScore") or 0.0),
            matched_by=matched_by(hit, highlights, mode),
            highlights=highlights,
        )

    async def _search(self, query: str, action: str, **options: Any) -> SearchResults | None:
        """None when the index does not exist yet (nothing was ever indexed)."""
        try:
            return await self._call(action, self._index.search(query, **options))
        except MeilisearchError as error:
            if error.code == "index_not_found":
                return None
            raise

    async def suggest(
        self, prefix: str, reader: Reader, types: Sequence[DocumentType], limit: int
    ) -> list[Suggestion]:
        if not words_of(prefix).terms or limit <= 0:
            return []
        results = await self._search(
            prefix,
            "suggest",
            filter=search_filter(reader, Filters(), types),
            attributes_to_search_on=["name"],
            attributes_to_retrieve=["name", "type", "entity_id"],
            sort=["popularity:desc"],
            matching_strategy="all",
            limit=limit * 3,
        )
        suggestions: list[Suggestion] = []
        seen: set[str] = set()
        for hit in results.hits if results else []:
            text = str(hit.get("name") or "")
            if text.lower() in seen:
                continue
            seen.add(text.lower())
            suggestions.append(Suggestion(text, DocumentType(hit["type"]), str(hit["entity_id"])))
            if len(suggestions) == limit:
                break
        return suggestions

    # Introspection (`search verify`): read-only.

    async def keys(self, type: DocumentType | None = None) -> set[str]:
        """Pages of `key` through the documents API (`POST /indexes/{uid}/documents/fetch`,
        filtered by type): offsets over a live index, so a point-in-time view only while
        nothing writes."""
        found: set[str] = set()
        for kind in [type] if type is not None else list(DocumentType):
            offset = 0
            while True:
                try:
                    page = await self._call(
                        "list documents",
                        self._index.get_documents(
                            offset=offset, limit=KEYS_PAGE, fields=["key"], filter=_equals("type", kind.value)
                        ),
                    )
                except MeilisearchError as error:
                    if error.code == "index_not_found":
                        return set()
                    raise
                found.update(str(document["key"]) for document in page.results if "key" in document)
                offset += len(page.results)
                if not page.results or offset >= page.total:
                    break
        return found

    async def stored(self, keys: Sequence[str]) -> dict[str, Document]:
        """One `GET /indexes/{uid}/documents/{id}` per key (a few at a time): no attribute
        of a document is filterable by key."""
        limit = asyncio.Semaphore(STORED_CONCURRENCY)

        async def one(key: str) -> Document | None:
            async with limit:
                try:
                    fields = await self._call("read a document", self._index.get_document(document_id(key)))
                except MeilisearchError as error:
                    if error.code in ("document_not_found", "index_not_found"):
                        return None
                    raise
            return stored_document(fields)

        wanted = list(dict.fromkeys(keys))
        documents = await asyncio.gather(*(one(key) for key in wanted))
        return {
            key: document for key, document in zip(wanted, documents, strict=True) if document is not None
        }

    async def aclose(self) -> None:
        await self._client.aclose()


def _json(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
