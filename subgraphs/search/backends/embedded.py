"""The embedded engine: tantivy (Rust, in-process) holds the documents under the data dir.

One writer (the worker's indexer) commits; every serving process opens the same directory
read-only and sees each commit (tantivy reloads its searcher when the index's meta file
changes). Keyword relevance is BM25 on exact terms plus constant-score fuzzy terms for typos
(tantivy scores fuzzy matches as constants, so an exact word always outranks a typo). The
access filter and the caller's filters are clauses of the same query, so counts, facets and
pages never include what the caller may not see."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tantivy

from shared.embeddings import DIMENSIONS
from subgraphs.search.backends.base import (
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
from subgraphs.search.backends.vectors import Nearest, VectorEntry, VectorStore
from subgraphs.search.matching import Words, allowed_typos, highlight, words_of

TEXT_FIELDS: dict[str, float] = {"name": 3.0, "artists": 2.0, "album": 1.0, "genres": 1.0, "description": 0.5}
"""Matched fields and their boosts."""
TYPO_WEIGHT = 0.4
"""A typo's match counts this much of an exact one (fuzzy terms score as constants)."""
RRF_K = 60
HYBRID_SEMANTIC_DEPTH = 250
"""Nearest documents HYBRID fuses with the keyword ranking and counts with the keyword matches
(one aggregation over the keyword query or their keys: ~2.5 ms for 250 on 100k documents)."""
MIN_SIMILARITY = 0.33
"""Cosine below which a document is not a semantic match: MiniLM puts nonsense queries
("qwxzv plorgh") under 0.31 of every catalogue document and real matches above 0.35."""
TIEBREAK_SPAN = 1e-4
FORMAT = "v2"
"""The index's layout under the search index dir: v2 added the tie-break weight and the
documents' fields beside the vectors. An index of an older layout (directly in the dir) is
rebuilt: the indexer queues every document again."""
VECTORS_FILE = "vectors.sqlite3"
WRITER_HEAP_BYTES = 64_000_000
_MUST = tantivy.Occur.Must
_SHOULD = tantivy.Occur.Should
_MUST_NOT = tantivy.Occur.MustNot


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("key", stored=True, tokenizer_name="raw", fast=True)
    builder.add_text_field("type", stored=True, tokenizer_name="raw", fast=True)
    builder.add_text_field("entity_id", stored=True, tokenizer_name="raw")
    for name in TEXT_FIELDS:
        builder.add_text_field(name, stored=True)
    for name in ("genre", "artist_id", "visibility", "tenant_id", "owner_id", "workspace_id"):
        builder.add_text_field(name, stored=name == "genre", tokenizer_name="raw", fast=True)
    builder.add_integer_field("year", stored=True, indexed=True, fast=True)
    builder.add_integer_field("popularity", stored=True, indexed=True, fast=True)
    builder.add_boolean_field("explicit", stored=True, indexed=True, fast=True)
    builder.add_float_field("tiebreak", stored=False, indexed=False, fast=True)
    return builder.build()


SCHEMA = _schema()


def _document(doc: Document) -> tantivy.Document:
    out = tantivy.Document()
    out.add_text("key", doc.key)
    out.add_text("type", doc.type.value)
    out.add_text("entity_id", doc.entity_id)
    out.add_text("name", doc.name)
    for artist in doc.artists:
        out.add_text("artists", artist)
    if doc.album:
        out.add_text("album", doc.album)
    for genre in doc.genres:
        out.add_text("genres", genre)
        out.add_text("genre", genre)
    if doc.description:
        out.add_text("description", doc.description)
    for artist_id in doc.artist_ids:
        out.add_text("artist_id", artist_id)
    out.add_text("visibility", doc.visibility.value)
    for name in ("tenant_id", "owner_id", "workspace_id"):
        value = getattr(doc, name)
        if value:
            out.add_text(name, value)
    if doc.year is not None:
        out.add_integer("year", doc.year)
    if doc.popularity is not None:
        out.add_integer("popularity", doc.popularity)
    if doc.explicit is not None:
        out.add_boolean("explicit", doc.explicit)
    out.add_float("tiebreak", tiebreak(doc.key))
    return out


def tiebreak(key: str) -> float:
    """A fixed small number per key that keyword scores are weighted by (tantivy multiplies
    by log2(2 + value): at most 1 + 7e-5), so documents of equal score rank in the same order
    in every process, after every merge and in windows of any length. Without it tantivy
    breaks ties by document address, which merges change; typo matches score as constants,
    so ties are common."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest) / 2**64 * TIEBREAK_SPAN


def _term(field: str, value: str | int | bool) -> tantivy.Query:
    return tantivy.Query.term_query(SCHEMA, field, value)


def _any_of(field: str, values: Iterable[str]) -> tantivy.Query:
    return tantivy.Query.term_set_query(SCHEMA, field, list(values))


def _any_key(keys: Iterable[str]) -> tantivy.Query:
    """Documents by key: a union of term queries (for a few hundred keys, a third of what a
    term set query on the fast `key` field costs here)."""
    return _either(*(_term("key", key) for key in keys))


def _all(*clauses: tantivy.Query) -> tantivy.Query:
    return tantivy.Query.boolean_query([(_MUST, clause) for clause in clauses])


def _either(*clauses: tantivy.Query) -> tantivy.Query:
    return tantivy.Query.boolean_query([(_SHOULD, clause) for clause in clauses])


def readable_by(reader: Reader) -> tantivy.Query:
    """What the reader may find: the catalogue, their tenant's public documents, their own,
    and their workspaces' (each also held to their tenant)."""
    mine = _all(_term("tenant_id", reader.tenant_id))
    clauses = [
        _term("visibility", Visibility.PUBLIC.value),
        _all(_term("visibility", Visibility.TENANT.value), mine),
        _all(_term("visibility", Visibility.OWNER.value), _term("owner_id", reader.user_id), mine),
    ]
    if reader.workspace_ids:
        clauses.append(
            _all(
                _term("visibility", Visibility.WORKSPACE.value),
                _any_of("workspace_id", reader.workspace_ids),
                mine,
            )
        )
    return _either(*clauses)


def _filtered(filters: Filters) -> list[tantivy.Query]:
    clauses: list[tantivy.Query] = []
    if filters.types:
        clauses.append(_any_of("type", [kind.value for kind in filters.types]))
    if filters.artist_ids:
        clauses.append(_any_of("artist_id", filters.artist_ids))
    if filters.genres:
        clauses.append(_any_of("genre", filters.genres))
    if filters.year_from is not None or filters.year_to is not None:
        clauses.append(
            tantivy.Query.range_query(
                SCHEMA, "year", tantivy.FieldType.Integer, filters.year_from, filters.year_to
            )
        )
    if filters.explicit is not None:
        clauses.append(_term("explicit", filters.explicit))
    if filters.workspace_ids:
        clauses.append(_any_of("workspace_id", filters.workspace_ids))
    return clauses


def _word(word: str, last: bool, typos: int) -> tantivy.Query:
    """One query word in any text field: exactly (BM25), with up to `typos` edits, and as
    a prefix when it is the last word (the user may still be typing it)."""
    clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
    for field, boost in TEXT_FIELDS.items():
        clauses.append((_SHOULD, tantivy.Query.boost_query(_term(field, word), boost)))
        if typos or last:
            fuzzy = tantivy.Query.fuzzy_term_query(SCHEMA, field, word, typos, True, last)
            clauses.append((_SHOULD, tantivy.Query.boost_query(fuzzy, boost * TYPO_WEIGHT)))
    return tantivy.Query.boolean_query(clauses)


def keyword_query(words: Words) -> tantivy.Query:
    """Every word must match somewhere; a query that is an id also finds that id exactly."""
    matched = [
        _word(word, index == len(words.terms) - 1, allowed_typos(word))
        for index, word in enumerate(words.terms)
    ]
    everything = tantivy.Query.boolean_query([(_MUST, clause) for clause in matched])
    if words.raw and " " not in words.raw:
        return _either(everything, tantivy.Query.boost_query(_term("entity_id", words.raw), 10.0))
    return everything


class EmbeddedBackend:
    """Readers (`writable=False`) in serving processes; the one writer in the worker."""

    name = "embedded"

    def __init__(
        self,
        path: Path,
        *,
        writable: bool = False,
        min_similarity: float = MIN_SIMILARITY,
        dimensions: int = DIMENSIONS,
    ) -> None:
        self.root = path
        self.path = path / FORMAT
        self.path.mkdir(parents=True, exist_ok=True)
        self.writable = writable
        self.min_similarity = min_similarity
        self._index = tantivy.Index(SCHEMA, path=str(self.path), reuse=True)
        self._vectors = VectorStore(self.path / VECTORS_FILE, dimensions)
        self._writer: Any = None
        self._write_lock = threading.Lock()
        self._meta = self.path / "meta.json"
        self._seen_commit = 0

    def _searcher(self) -> Any:
        """The searcher of the newest commit: the writer's process rewrites `meta.json` on
        each commit, and a stat is cheaper than waiting for tantivy's own delayed reload."""
        try:
            commit = self._meta.stat().st_mtime_ns
        except FileNotFoundError:
            commit = 0
        if commit != self._seen_commit:
            self._index.reload()
            self._seen_commit = commit
        return self._index.searcher()

    # Writing (the indexer, in the worker; tantivy's calls run in a thread).

    async def outdated(self) -> bool:
        return (self.root / "meta.json").exists()  # an index of the first layout

    async def upgraded(self) -> None:
        for leftover in self.root.iterdir():
            if leftover.is_file():
                leftover.unlink(missing_ok=True)

    def _writer_now(self) -> Any:
        if not self.writable:
            raise RuntimeError("this search index was opened read-only")
        if self._writer is None:
            self._writer = self._index.writer(WRITER_HEAP_BYTES, 1)
        return self._writer

    def _apply(
        self,
        documents: Sequence[Document],
        vectors: Sequence[Sequence[float]] | None,
        deleted: Sequence[str],
    ) -> None:
        with self._write_lock:
            writer = self._writer_now()
            for key in [*deleted, *(doc.key for doc in documents)]:
                writer.delete_documents_by_term("key", key)
            for doc in documents:
                writer.add_document(_document(doc))
            given = list(vectors) if vectors is not None else [None] * len(documents)
            self._vectors.write(
                [VectorEntry(doc.key, doc, vector) for doc, vector in zip(documents, given, strict=True)]
                + [VectorEntry(key, None, None) for key in deleted]
            )
            writer.commit()
        self._index.reload()

    async def upsert(self, documents: Sequence[Document], vectors: Sequence[Sequence[float]] | None) -> None:
        if documents:
            await asyncio.to_thread(self._apply, documents, vectors, ())

    async def delete(self, keys: Sequence[str]) -> None:
        if keys:
            await asyncio.to_thread(self._apply, (), None, keys)

    # Reading (every serving process; a search costs a few milliseconds, so it runs in the
    # event loop rather than paying a thread hop).

    async def search(self, request: SearchRequest) -> SearchPage:
        words = words_of(request.query)
        if not words.terms:
            return SearchPage(hits=[], total=0, total_exact=True, semantic_hits=0, facets=_none(request))
        searcher = self._searcher()
        access = [readable_by(request.reader), *_filtered(request.filters)]
        window = request.offset + request.limit
        if request.mode is Mode.KEYWORD or request.vector is None:
            keyword = _keyword(searcher, words, access, window)
            hits = [_hit(doc, score, words, (Mode.KEYWORD,)) for score, doc in keyword.ranked]
            return SearchPage(
                hits=hits[request.offset :],
                total=keyword.total,
                total_exact=True,
                semantic_hits=0,
                facets=_facets(searcher, keyword.query, request.facets)[1]
                if keyword.total
                else _none(request),
                keyword_only=request.mode is not Mode.KEYWORD,
            )
        if request.mode is Mode.SEMANTIC:
            semantic = self._vectors.nearest(
                request.vector, request.reader, request.filters, self.min_similarity, window, request.facets
            )
            ranked = list(zip(semantic.keys, semantic.similarities, strict=True))
            matched: dict[str, tuple[Mode, ...]] = {key: (Mode.SEMANTIC,) for key in semantic.keys}
            total, exact, facets = semantic.total, True, semantic.facets
        else:
            keyword = _keyword(searcher, words, access, 2 * window + RRF_K)
            keyword_keys = [(_text(doc, "key"), score) for score, doc in keyword.ranked]
            # When every keyword match is in hand, the union is counted exactly beside the vectors.
            whole = keyword.total == len(keyword_keys)
            semantic = self._vectors.nearest(
                request.vector, request.reader, request.filters, self.min_similarity,
                max(HYBRID_SEMANTIC_DEPTH, window), request.facets if whole else (),
                also=[key for key, _ in keyword_keys] if whole else (),
            )  # fmt: skip
            ranked = _fused(keyword_keys, semantic.keys, semantic.similarities, request.semantic_ratio)
            in_keyword = {key for key, _ in keyword_keys}
            in_semantic = set(semantic.keys)
            matched = {
                key: tuple(
                    mode
                    for mode, found in ((Mode.KEYWORD, in_keyword), (Mode.SEMANTIC, in_semantic))
                    if key in found
                )
                for key, _ in ranked
            }
            if whole and not semantic.unknown:
                total, exact, facets = semantic.total, True, semantic.facets
            else:
                total, exact, facets = _union(searcher, keyword, semantic, access, request.facets)
        page = ranked[request.offset : window]
        documents = _documents_by_key(searcher, [key for key, _ in page])
        hits = [_hit(documents[key], score, words, matched[key]) for key, score in page if key in documents]
        return SearchPage(
            hits=hits,
            total=total,
            total_exact=exact,
            semantic_hits=sum(1 for hit in hits if Mode.SEMANTIC in hit.matched_by),
            facets=facets if total else _none(request),
        )

    async def suggest(
        self, prefix: str, reader: Reader, types: Sequence[DocumentType], limit: int
    ) -> list[Suggestion]:
        words = words_of(prefix)
        if not words.terms:
            return []
        name_only = [
            tantivy.Query.boolean_query(
                [
                    (_SHOULD, tantivy.Query.boost_query(_term("name", word), 2.0)),
                    (
                        _SHOULD,
                        tantivy.Query.fuzzy_term_query(
                            SCHEMA, "name", word, allowed_typos(word), True, index == len(words.terms) - 1
                        ),
                    ),
                ]
            )
            for index, word in enumerate(words.terms)
        ]
        clauses = [*name_only, readable_by(reader)]
        if types:
            clauses.append(_any_of("type", [kind.value for kind in types]))
        searcher = self._searcher()
        result = searcher.search(_all(*clauses), limit * 3, count=False, weight_by_field="popularity")
        suggestions: list[Suggestion] = []
        seen: set[str] = set()
        for _, address in sorted(result.hits, key=lambda pair: -pair[0]):
            doc = searcher.doc(address)
            text = _text(doc, "name")
            if text.lower() in seen:
                continue
            seen.add(text.lower())
            suggestions.append(Suggestion(text, DocumentType(_text(doc, "type")), _text(doc, "entity_id")))
            if len(suggestions) == limit:
                break
        return suggestions

    # Introspection (`search verify`): read-only; runs in a thread (it reads the whole index).

    async def keys(self, type: DocumentType | None = None) -> set[str]:
        return await asyncio.to_thread(self._keys, type)

    def _keys(self, type: DocumentType | None) -> set[str]:
        """The live documents' keys, from the `key` term dictionary (a term of a deleted
        document is counted 0 under the filter, so it is left out)."""
        searcher = self._searcher()
        live = _term("type", type.value) if type is not None else tantivy.Query.all_query()
        prefix = f"{type.value}:" if type is not None else ""
        terms = searcher.terms_with_prefix("key", prefix, filter_query=live)
        return {str(key) for key, count in terms if count}

    async def stored(self, keys: Sequence[str]) -> dict[str, Document]:
        return await asyncio.to_thread(self._stored, list(dict.fromkeys(keys)))

    def _stored(self, keys: list[str]) -> dict[str, Document]:
        """Stored fields from the documents; the indexed-only ones (artist ids, visibility,
        tenant, owner, workspace) from a terms aggregation per key on their fast fields, so
        `artist_ids` come back in term order, not the order they were given in."""
        searcher = self._searcher()
        found: dict[str, Document] = {}
        for start in range(0, len(keys), STORED_CHUNK):
            chunk = keys[start : start + STORED_CHUNK]
            query = _any_of("key", chunk)
            per_key = {name: {"terms": {"field": name, "size": 1_000}} for name in _UNSTORED}
            answer = searcher.aggregate(
                query, {"key": {"terms": {"field": "key", "size": len(chunk)}, "aggs": per_key}}
            )
            unstored = {
                str(bucket["key"]): {
                    name: sorted(str(inner["key"]) for inner in bucket[name]["buckets"]) for name in _UNSTORED
                }
                for bucket in answer.get("key", {}).get("buckets", [])
            }
            for _, address in searcher.search(query, 2 * len(chunk), count=False).hits:
                doc = searcher.doc(address)
                key = _text(doc, "key")
                indexed = unstored.get(key)
                if indexed is not None and indexed["visibility"]:
                    found[key] = _stored_document(doc, indexed)
        return found

    async def aclose(self) -> None:
        with self._write_lock:
            if self._writer is not None:
                self._writer.wait_merging_threads()
                self._writer = None
            self._vectors.close()


STORED_CHUNK = 500
"""Keys read back per `stored` round (a term set query and one aggregation)."""
_UNSTORED = ("artist_id", "visibility", "tenant_id", "owner_id", "workspace_id")
"""Indexed fields the documents do not store: `stored` reads them from their fast fields."""


def _stored_document(doc: Any, indexed: dict[str, list[str]]) -> Document:
    def first(name: str) -> str | None:
        return indexed[name][0] if indexed[name] else None

    return Document(
        type=DocumentType(_text(doc, "type")),
        entity_id=_text(doc, "entity_id"),
        name=_text(doc, "name"),
        visibility=Visibility(indexed["visibility"][0]),
        artists=tuple(str(value) for value in doc.get_all("artists")),
        artist_ids=tuple(indexed["artist_id"]),
        album=doc.get_first("album"),
        genres=tuple(str(value) for value in doc.get_all("genres")),
        description=doc.get_first("description"),
        year=doc.get_first("year"),
        explicit=doc.get_first("explicit"),
        popularity=doc.get_first("popularity"),
        tenant_id=first("tenant_id"),
        owner_id=first("owner_id"),
        workspace_id=first("workspace_id"),
    )


@dataclass(frozen=True)
class _Keyword:
    words_query: tantivy.Query
    """The words that matched (after dropping those nothing contains), without the filters."""
    query: tantivy.Query
    ranked: list[tuple[float, Any]]
    """(BM25 score, stored document), best first."""
    total: int


def _keyword(searcher: Any, words: Words, access: list[tantivy.Query], depth: int) -> _Keyword:
    words_query, query, found, total = tantivy.Query.empty_query(), tantivy.Query.empty_query(), [], 0
    for kept in words.dropping_from_the_end():
        words_query = keyword_query(kept)
        query = _all(words_query, *access)
        result = searcher.search(query, depth, count=True, weight_by_field="tiebreak")
        total = int(getattr(result, "count", 0) or 0)  # the stubs omit `count`
        found = result.hits
        if total:
            break
    return _Keyword(
        words_query, query, [(float(score), searcher.doc(address)) for score, address in found], total
    )


def _fused(
    keyword: list[tuple[str, float]],
    semantic: list[str],
    similarities: list[float],
    semantic_ratio: float | None,
) -> list[tuple[str, float]]:
    """One ranking from both lists: reciprocal rank fusion (k = 60), or with a ratio, the
    weighted sum of the normalised keyword score and the similarity (as Meilisearch does)."""
    scores: dict[str, float] = {}
    if semantic_ratio is None:
        for ranking in ([key for key, _ in keyword], semantic):
            for rank, key in enumerate(ranking, start=1):
                scores[key] = scores.get(key, 0.0) + 1.0 / (RRF_K + rank)
    else:
        best = max((score for _, score in keyword), default=0.0) or 1.0
        for key, score in keyword:
            scores[key] = (1.0 - semantic_ratio) * score / best
        for key, similarity in zip(semantic, similarities, strict=True):
            scores[key] = scores.get(key, 0.0) + semantic_ratio * max(similarity, 0.0)
    first_seen = {key: index for index, key in enumerate(dict.fromkeys([k for k, _ in keyword] + semantic))}
    return sorted(scores.items(), key=lambda item: (-item[1], first_seen[item[0]]))


def _union(
    searcher: Any, keyword: _Keyword, semantic: Nearest, access: list[tantivy.Query], facets: Sequence[Facet]
) -> tuple[int, bool, dict[Facet, list[FacetCount]]]:
    """HYBRID's match set: the keyword matches and the fused nearest documents, counted and
    faceted by one aggregation. Past the fused nearest, the semantic matches are added to the
    total at the share of the fused ones the keyword side did not already hold (an estimate)."""
    if not semantic.keys:
        counted = _facets(searcher, keyword.query, facets)[1] if keyword.total else {f: [] for f in facets}
        return keyword.total, True, counted
    query = _all(_either(keyword.words_query, _any_key(semantic.keys)), *access)
    union, counted = _facets(searcher, query, facets)
    beyond = semantic.matches - len(semantic.keys)
    if not beyond:
        return union, True, counted
    overlap = keyword.total + len(semantic.keys) - union
    return union + round(beyond * (1 - overlap / len(semantic.keys))), False, counted


def _documents_by_key(searcher: Any, keys: Sequence[str]) -> dict[str, Any]:
    if not keys:
        return {}
    found = searcher.search(_any_key(keys), len(keys), count=False)
    documents = (searcher.doc(address) for _, address in found.hits)
    return {_text(doc, "key"): doc for doc in documents}


def _none(request: SearchRequest) -> dict[Facet, list[FacetCount]]:
    return {facet: [] for facet in request.facets}


def _text(doc: tantivy.Document, field: str) -> str:
    return str(doc.get_first(field) or "")


def _hit(doc: Any, score: float, words: Words, matched_by: tuple[Mode, ...]) -> Hit:
    highlights: dict[str, str] = {}
    for field in TEXT_FIELDS:
        values = doc.get_all(field)
        marked = [highlight(value, words) for value in values]
        if any(text != value for text, value in zip(marked, values, strict=True)):
            highlights[field] = ", ".join(marked)
    return Hit(
        key=_text(doc, "key"),
        type=DocumentType(_text(doc, "type")),
        entity_id=_text(doc, "entity_id"),
        score=float(score),
        matched_by=matched_by,
        highlights=highlights,
    )


_FACET_AGGREGATIONS: dict[Facet, dict[str, Any]] = {
    Facet.GENRE: {"terms": {"field": "genre", "size": FACET_SIZE}},
    Facet.ARTIST: {"terms": {"field": "artist_id", "size": FACET_SIZE}},
    Facet.TYPE: {"terms": {"field": "type", "size": FACET_SIZE}},
    Facet.WORKSPACE: {"terms": {"field": "workspace_id", "size": FACET_SIZE}},
    Facet.EXPLICIT: {"terms": {"field": "explicit", "size": 2}},
    Facet.YEAR: {"histogram": {"field": "year", "interval": YEAR_BUCKET, "min_doc_count": 1}},
    Facet.POPULARITY: {
        "range": {
            "field": "popularity",
            "ranges": [{"key": name, "from": low, "to": high} for name, low, high in POPULARITY_BANDS],
        }
    },
}


def _facets(
    searcher: Any, query: tantivy.Query, facets: Sequence[Facet]
) -> tuple[int, dict[Facet, list[FacetCount]]]:
    """How many documents match (counted by type, in the same pass) and the asked facets."""
    asked = {facet.value: _FACET_AGGREGATIONS[facet] for facet in facets}
    answer = searcher.aggregate(query, {**asked, _TOTAL: _FACET_AGGREGATIONS[Facet.TYPE]})
    counts: dict[Facet, list[FacetCount]] = {}
    for facet in facets:
        buckets = answer.get(facet.value, {}).get("buckets", [])
        counts[facet] = [
            FacetCount(_bucket_value(facet, bucket), int(bucket["doc_count"]))
            for bucket in buckets
            if bucket["doc_count"]
        ]
    total = sum(int(bucket["doc_count"]) for bucket in answer.get(_TOTAL, {}).get("buckets", []))
    return total, counts


_TOTAL = "_total"


def _bucket_value(facet: Facet, bucket: dict[str, Any]) -> str:
    if facet is Facet.EXPLICIT:
        return "true" if bucket["key"] in (1, True, "true") else "false"
    if facet is Facet.YEAR:
        return str(int(bucket["key"]))
    return str(bucket["key"])
