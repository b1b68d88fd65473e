"""What every search backend answers: one protocol (`SearchBackend`), the documents it holds,
the request it takes and the page it returns. The embedded engine (tantivy in-process) and
Meilisearch implement it; the service never knows which one it talks to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from shared.embeddings.texts import catalogue_text


class DocumentType(StrEnum):
    TRACK = "track"
    ARTIST = "artist"
    ALBUM = "album"
    PLAYLIST = "playlist"
    PROJECT = "project"


class Visibility(StrEnum):
    """Who may find a document: everyone signed in (the catalogue), the members of its tenant
    (a public platform playlist), its owner (a private one), the members of its workspace."""

    PUBLIC = "public"
    TENANT = "tenant"
    OWNER = "owner"
    WORKSPACE = "workspace"


class Mode(StrEnum):
    KEYWORD = "keyword"
    SEMANTIC = "semantic"
    HYBRID = "hybrid"


class Fusion(StrEnum):
    """How HYBRID merges its two rankings."""

    WEIGHTED = "weighted"
    """Normalised keyword score and similarity, weighted by `semantic_ratio` (Meilisearch's way)."""
    RANK = "rank"
    """Reciprocal rank fusion, k = 60."""


DEFAULT_SEMANTIC_RATIO = 0.5
"""Meilisearch's default, and the best of the ratios tried on the judged set (README)."""


class Facet(StrEnum):
    GENRE = "genre"
    YEAR = "year"
    EXPLICIT = "explicit"
    POPULARITY = "popularity"
    ARTIST = "artist"
    TYPE = "type"
    WORKSPACE = "workspace"


POPULARITY_BANDS: tuple[tuple[str, int, int], ...] = (
    ("0-24", 0, 25),
    ("25-49", 25, 50),
    ("50-74", 50, 75),
    ("75-100", 75, 101),
)
YEAR_BUCKET = 10
"""Release years are faceted by decade ("1990", "2000", ...)."""
FACET_SIZE = 50
"""Values returned per facet, most frequent first."""


@dataclass(frozen=True)
class Document:
    """One searchable thing: the fields that are matched, filtered and faceted, and who may
    see it. `key` is `<type>:<entity id>`."""

    type: DocumentType
    entity_id: str
    name: str
    visibility: Visibility
    artists: tuple[str, ...] = ()
    artist_ids: tuple[str, ...] = ()
    album: str | None = None
    genres: tuple[str, ...] = ()
    description: str | None = None
    year: int | None = None
    explicit: bool | None = None
    popularity: int | None = None
    tenant_id: str | None = None
    owner_id: str | None = None
    workspace_id: str | None = None

    @property
    def key(self) -> str:
        return document_key(self.type, self.entity_id)

    def text(self) -> str:
        """What the embedding model reads (the platform's one catalogue text, shared with ai)."""
        return catalogue_text(
            self.name,
            artists=self.artists,
            album=self.album,
            genres=self.genres,
            year=self.year,
            description=self.description,
        )


def document_key(type: DocumentType | str, entity_id: str) -> str:
    return f"{DocumentType(type).value}:{entity_id}"


@dataclass(frozen=True)
class Reader:
    """Whose search this is: the access filter every backend applies inside its engine."""

    user_id: str
    tenant_id: str
    workspace_ids: tuple[str, ...]


@dataclass(frozen=True)
class Filters:
    types: tuple[DocumentType, ...] = ()
    artist_ids: tuple[str, ...] = ()
    genres: tuple[str, ...] = ()
    year_from: int | None = None
    year_to: int | None = None
    explicit: bool | None = None
    workspace_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchRequest:
    query: str
    reader: Reader
    filters: Filters = field(default_factory=Filters)
    facets: tuple[Facet, ...] = ()
    mode: Mode = Mode.KEYWORD
    semantic_ratio: float | None = None
    """HYBRID: the weight of meaning against words (Meilisearch's `semanticRatio`); None:
    reciprocal rank fusion (k=60) where the backend has it, else 0.5."""
    vector: Sequence[float] | None = None
    """The query's embedding (SEMANTIC and HYBRID); None: answered by keyword."""
    limit: int = 20
    """Hits wanted from `offset` on (the service asks one more to know if a page follows)."""
    offset: int = 0


@dataclass(frozen=True)
class Hit:
    key: str
    type: DocumentType
    entity_id: str
    score: float
    matched_by: tuple[Mode, ...]
    """KEYWORD, SEMANTIC, or both."""
    highlights: dict[str, str] = field(default_factory=dict)
    """Field -> its text with matched words between `<em>` and `</em>`."""


@dataclass(frozen=True)
class FacetCount:
    value: str
    count: int


@dataclass(frozen=True)
class SearchPage:
    hits: list[Hit]
    total: int
    total_exact: bool
    semantic_hits: int
    facets: dict[Facet, list[FacetCount]]
    keyword_only: bool = False
    """A semantic or hybrid search answered by keyword (the model was not loaded)."""


@dataclass(frozen=True)
class Suggestion:
    text: str
    type: DocumentType
    entity_id: str


class SearchBackend(Protocol):
    name: str

    async def upsert(self, documents: Sequence[Document], vectors: Sequence[Sequence[float]] | None) -> None:
        """Adds or replaces documents by key (with their embeddings, in the same order)."""

    async def delete(self, keys: Sequence[str]) -> None: ...

    async def outdated(self) -> bool:
        """The engine holds documents in an older format of its own: every document must be
        pushed again (the indexer queues them all, then calls `upgraded`)."""

    async def upgraded(self) -> None:
        """Every document is queued again: what is left of the older format may go."""

    async def search(self, request: SearchRequest) -> SearchPage: ...

    async def suggest(
        self, prefix: str, reader: Reader, types: Sequence[DocumentType], limit: int
    ) -> list[Suggestion]: ...

    # Read-only introspection (`spotify-agent search verify`): what the engine holds.

    async def keys(self, type: DocumentType | None = None) -> set[str]:
        """The keys of every document the engine holds (of one type, or all)."""

    async def stored(self, keys: Sequence[str]) -> dict[str, Document]:
        """The documents held under these keys, as far as the engine gives them back (the
        fields it indexed); a key it does not hold is left out."""

    async def aclose(self) -> None: ...
