"""The embedded engine's vectors: a SQLite file beside the tantivy index, and in every process
one numpy matrix searched by brute force, with each document's access and filter fields in
numpy columns beside it.

Why brute force: on this machine a cosine scan of 100k x 384 float32 takes ~7 ms, exact, and
a new vector is a row append; an HNSW graph (usearch) answers in 0.4 ms but took 105 s to
build 100k vectors on 2 cores and must be rebuilt or patched in every reader. The writer (the
worker's indexer) writes each batch with one sequence number; readers load only the rows
newer than the newest they hold, so picking up a commit costs what changed.

Why the fields live here too: the access filter and the caller's filters run as masks before
the nearest are picked, so a selective filter still gets its own nearest documents, and the
semantic match set is counted and faceted exactly without asking tantivy about thousands of
keys (a 1,000-key term set costs tantivy ~10 ms on 100k documents)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from subgraphs.search.backends.base import (
    FACET_SIZE,
    POPULARITY_BANDS,
    YEAR_BUCKET,
    Document,
    DocumentType,
    Facet,
    FacetCount,
    Filters,
    Reader,
    Visibility,
)

TYPES = list(DocumentType)
VISIBILITIES = list(Visibility)
INITIAL_CAPACITY = 1024
NONE = -1
"""An absent value in an integer column (no year, no tenant, an unused genre slot)."""
UNKNOWN = -2
"""A value the store never saw: it matches nothing."""
SEPARATOR = "\x1f"
"""Between the values of a multi-valued column in SQLite."""
COLUMNS = (
    "vector", "type", "visibility", "tenant_id", "owner_id", "workspace_id", "year", "explicit",
    "popularity", "genres", "artist_ids",
)  # fmt: skip
"""Beside the key and the batch's sequence number; all NULL for a document that is gone."""
Rows = npt.NDArray[np.int64]
Codes = npt.NDArray[np.int32]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class VectorEntry:
    key: str
    document: Document | None
    """None: the document is gone."""
    vector: Sequence[float] | None
    """None: the document has no embedding (it is left out of semantic search)."""


@dataclass(frozen=True)
class Nearest:
    keys: list[str]
    similarities: list[float]
    """Cosine similarity of each key, best first."""
    total: int
    """How many documents are counted: those the reader may see that pass the filters at
    least that close (the whole semantic match set, of which `keys` is the head) and the
    `also` documents."""
    facets: dict[Facet, list[FacetCount]]
    """The asked facets over the counted documents."""
    matches: int = 0
    """The semantic match set alone."""
    unknown: int = 0
    """`also` documents the store does not hold (no embedding): neither counted nor faceted."""


class VectorStore:
    def __init__(self, path: Path, dimensions: int) -> None:
        self.dimensions = dimensions
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vector (key TEXT PRIMARY KEY, seq INTEGER NOT NULL, vector BLOB, "
            "type TEXT, visibility TEXT, tenant_id TEXT, owner_id TEXT, workspace_id TEXT, "
            "year INTEGER, explicit INTEGER, popularity INTEGER, genres TEXT, artist_ids TEXT)"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS vector_seq ON vector (seq)")
        self._lock = threading.Lock()
        self._rows: dict[str, int] = {}
        self._keys: list[str] = []
        self._codes: dict[str, int] = {}
        """Every tenant, owner, workspace, genre and artist id seen, as a small integer."""
        self._names: list[str] = []
        self._seen = 0
        capacity = INITIAL_CAPACITY
        self._matrix: npt.NDArray[np.float32] = np.zeros((capacity, dimensions), dtype=np.float32)
        self._alive = np.zeros(capacity, dtype=bool)
        self._type = np.zeros(capacity, dtype=np.int8)
        self._visibility = np.zeros(capacity, dtype=np.int8)
        self._tenant = np.full(capacity, NONE, dtype=np.int32)
        self._owner = np.full(capacity, NONE, dtype=np.int32)
        self._workspace = np.full(capacity, NONE, dtype=np.int32)
        self._year = np.full(capacity, NONE, dtype=np.int32)
        self._explicit = np.full(capacity, NONE, dtype=np.int8)
        self._popularity = np.full(capacity, NONE, dtype=np.int16)
        self._genres = np.full((capacity, 1), NONE, dtype=np.int32)
        self._artists = np.full((capacity, 1), NONE, dtype=np.int32)

    # Writing (the indexer).

    def write(self, entries: Sequence[VectorEntry]) -> None:
        if not entries:
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                (newest,) = self._db.execute("SELECT coalesce(max(seq), 0) FROM vector").fetchone()
                self._db.executemany(
                    f"INSERT OR REPLACE INTO vector (key, seq, {', '.join(COLUMNS)}) "
                    f"VALUES (?, ?{', ?' * len(COLUMNS)})",
                    [(entry.key, newest + 1, *_columns(entry)) for entry in entries],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    # Reading (every serving process).

    def refresh(self) -> None:
        """Loads what the writer committed since the last call (a few µs when nothing did)."""
        with self._lock:
            (newest,) = self._db.execute("SELECT coalesce(max(seq), 0) FROM vector").fetchone()
            if newest <= self._seen:
                return
            rows = self._db.execute(
                f"SELECT key, {', '.join(COLUMNS)} FROM vector WHERE seq > ? ORDER BY seq", (self._seen,)
            ).fetchall()
            self._place({row[0]: row[1:] for row in rows})
            self._seen = newest

    def _place(self, changed: dict[str, tuple[Any, ...]]) -> None:
        """Writes the changed rows into the columns, column by column (a first load of 100k
        documents is one pass per column, not 100k small writes)."""
        live = {key: row for key, row in changed.items() if row[0] is not None}
        for key in changed.keys() - live.keys():
            if key in self._rows:
                self._alive[self._rows[key]] = False
        if not live:
            return
        for key in live:
            if key not in self._rows:
                self._rows[key] = len(self._keys)
                self._keys.append(key)
        if len(self._keys) > len(self._alive):
            self._grow(len(self._keys))
        at = np.fromiter((self._rows[key] for key in live), dtype=np.int64, count=len(live))
        values = list(live.values())
        self._matrix[at] = np.frombuffer(b"".join(row[0] for row in values), dtype="<f4").reshape(
            len(values), self.dimensions
        )
        self._alive[at] = True
        self._type[at] = _positions([row[1] for row in values], [kind.value for kind in TYPES])
        self._visibility[at] = _positions([row[2] for row in values], [kind.value for kind in VISIBILITIES])
        self._tenant[at] = self._coded([row[3] for row in values])
        self._owner[at] = self._coded([row[4] for row in values])
        self._workspace[at] = self._coded([row[5] for row in values])
        self._year[at] = [NONE if row[6] is None else row[6] for row in values]
        self._explicit[at] = [NONE if row[7] is None else row[7] for row in values]
        self._popularity[at] = [NONE if row[8] is None else row[8] for row in values]
        self._genres = self._set_many(self._genres, at, [row[9] for row in values])
        self._artists = self._set_many(self._artists, at, [row[10] for row in values])

    def _coded(self, names: list[str | None]) -> Codes:
        """Each name's code (NONE for no name), new names coded as they come."""
        for name in set(names) - self._codes.keys():
            if name:
                self._codes[name] = len(self._names)
                self._names.append(name)
        codes = self._codes
        return np.fromiter(
            (codes[name] if name else NONE for name in names), dtype=np.int32, count=len(names)
        )

    def _set_many(self, column: Codes, at: Rows, joined: list[str | None]) -> Codes:
        """A multi-valued column: one row per document, padded with NONE, widened as needed."""
        split = [list(dict.fromkeys(text.split(SEPARATOR))) if text else [] for text in joined]
        lengths = np.fromiter((len(names) for names in split), dtype=np.int64, count=len(split))
        width = int(lengths.max(initial=0))
        if width > column.shape[1]:
            wider = np.full((column.shape[0], width), NONE, dtype=np.int32)
            wider[:, : column.shape[1]] = column
            column = wider
        block = np.full((len(split), column.shape[1]), NONE, dtype=np.int32)
        owners = np.repeat(np.arange(len(split)), lengths)
        slots = np.arange(len(owners)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        block[owners, slots] = self._coded([name for names in split for name in names])
        column[at] = block
        return column

    def _grow(self, needed: int) -> None:
        """Room for `needed` rows and some more (a first load takes 1/8 extra, later growth half
        again), copied once: np.zeros pages in lazily, so only the used rows cost memory."""
        capacity = max(needed + needed // 8, len(self._alive) * 3 // 2)

        def grown(column: npt.NDArray[Any], fill: int) -> npt.NDArray[Any]:
            bigger = np.zeros((capacity, *column.shape[1:]), dtype=column.dtype)
            if fill:
                bigger[len(column) :] = fill
            bigger[: len(column)] = column
            return bigger

        self._matrix = grown(self._matrix, 0)
        self._alive = grown(self._alive, 0)
        self._type = grown(self._type, 0)
        self._visibility = grown(self._visibility, 0)
        for name in _CODED_COLUMNS:
            setattr(self, name, grown(getattr(self, name), NONE))

    def nearest(
        self,
        query: Sequence[float],
        reader: Reader,
        filters: Filters,
        min_similarity: float,
        limit: int,
        facets: Sequence[Facet] = (),
        also: Sequence[str] = (),
    ) -> Nearest:
        """The documents the reader may see that pass the filters, nearest first, and how
        many of them are at least `min_similarity` close. `also`: documents counted and
        faceted with them (HYBRID's keyword matches, already filtered by the engine)."""
        self.refresh()
        count = len(self._keys)
        if not count:
            return Nearest([], [], 0, {facet: [] for facet in facets}, unknown=len(also))
        similarities = self._matrix[:count] @ np.asarray(query, dtype=np.float32)
        wanted = self._alive[:count] & (similarities >= min_similarity)
        wanted &= self._readable(reader, count) & self._passing(filters, count)
        rows = np.flatnonzero(wanted)
        top = rows
        if len(rows) > limit:
            top = rows[np.argpartition(-similarities[rows], limit - 1)[:limit]]
        # Best first; equal similarities by key, so the order is the same in every process.
        order = sorted(top.tolist(), key=lambda row: (-float(similarities[row]), self._keys[row]))
        held = [self._rows[key] for key in also if key in self._rows]
        counted = rows
        if held:
            wanted[held] |= self._alive[held]
            counted = np.flatnonzero(wanted)
        return Nearest(
            keys=[self._keys[row] for row in order],
            similarities=[float(similarities[row]) for row in order],
            total=len(counted),
            facets={facet: self._facet(facet, counted) for facet in facets},
            matches=len(rows),
            unknown=len(also) - int(np.count_nonzero(self._alive[held])) if held else len(also),
        )

    def _known(self, names: Sequence[str]) -> list[int]:
        return [self._codes.get(name, UNKNOWN) for name in names]

    def _readable(self, reader: Reader, count: int) -> Mask:
        """The engine's access rule (`embedded.readable_by`) as a mask: the catalogue, the
        reader's tenant's public documents, their own, and their workspaces' (each also held
        to their tenant)."""
        visibility = self._visibility[:count]
        tenant = self._tenant[:count] == self._codes.get(reader.tenant_id, UNKNOWN)
        readable = visibility == VISIBILITIES.index(Visibility.PUBLIC)
        readable |= (visibility == VISIBILITIES.index(Visibility.TENANT)) & tenant
        owner = self._owner[:count] == self._codes.get(reader.user_id, UNKNOWN)
        readable |= (visibility == VISIBILITIES.index(Visibility.OWNER)) & owner & tenant
        if reader.workspace_ids:
            member = np.isin(self._workspace[:count], self._known(reader.workspace_ids))
            readable |= (visibility == VISIBILITIES.index(Visibility.WORKSPACE)) & member & tenant
        return readable

    def _passing(self, filters: Filters, count: int) -> Mask:
        passing = np.ones(count, dtype=bool)
        if filters.types:
            passing &= np.isin(self._type[:count], [TYPES.index(kind) for kind in filters.types])
        if filters.artist_ids:
            passing &= np.isin(self._artists[:count], self._known(filters.artist_ids)).any(axis=1)
        if filters.genres:
            passing &= np.isin(self._genres[:count], self._known(filters.genres)).any(axis=1)
        year = self._year[:count]
        if filters.year_from is not None:
            passing &= (year != NONE) & (year >= filters.year_from)
        if filters.year_to is not None:
            passing &= (year != NONE) & (year <= filters.year_to)
        if filters.explicit is not None:
            passing &= self._explicit[:count] == int(filters.explicit)
        if filters.workspace_ids:
            passing &= np.isin(self._workspace[:count], self._known(filters.workspace_ids))
        return passing

    def _facet(self, facet: Facet, rows: Rows) -> list[FacetCount]:
        """Counts per value over `rows`, ordered as the engine's aggregations order them:
        by count then value for terms, by value for years, by band for popularity."""
        if facet is Facet.YEAR:
            years = self._year[rows]
            decades, counts = np.unique(years[years != NONE] // YEAR_BUCKET * YEAR_BUCKET, return_counts=True)
            return [FacetCount(str(int(decade)), int(n)) for decade, n in zip(decades, counts, strict=True)]
        if facet is Facet.POPULARITY:
            popularity = self._popularity[rows]
            bands = [
                FacetCount(name, int(np.count_nonzero((popularity >= low) & (popularity < high))))
                for name, low, high in POPULARITY_BANDS
            ]
            return [band for band in bands if band.count]
        if facet is Facet.TYPE:
            return _most_frequent(self._type[rows], lambda code: TYPES[code].value)
        if facet is Facet.EXPLICIT:
            return _most_frequent(self._explicit[rows], lambda code: "true" if code else "false")
        columns = {Facet.GENRE: self._genres, Facet.ARTIST: self._artists, Facet.WORKSPACE: self._workspace}
        return _most_frequent(columns[facet][rows].ravel(), self._names.__getitem__)

    def close(self) -> None:
        with self._lock:
            self._db.close()


_CODED_COLUMNS = (
    "_tenant",
    "_owner",
    "_workspace",
    "_year",
    "_explicit",
    "_popularity",
    "_genres",
    "_artists",
)
"""The columns whose empty cells hold NONE."""


def _most_frequent(codes: npt.NDArray[Any], name_of: Callable[[int], str]) -> list[FacetCount]:
    """Counts per value (NONE left out), most frequent first, then by value, as the engine's
    terms aggregations order them."""
    values, counts = np.unique(codes[codes != NONE], return_counts=True)
    named = [(name_of(value), count) for value, count in zip(values.tolist(), counts.tolist(), strict=True)]
    return [FacetCount(value, count) for value, count in sorted(named, key=lambda pair: (-pair[1], pair[0]))][
        :FACET_SIZE
    ]


def _positions(values: list[str], names: list[str]) -> npt.NDArray[np.int8]:
    position = {name: index for index, name in enumerate(names)}
    return np.fromiter((position[value] for value in values), dtype=np.int8, count=len(values))


def _columns(entry: VectorEntry) -> tuple[Any, ...]:
    doc, vector = entry.document, entry.vector
    if doc is None or vector is None:
        return (None,) * len(COLUMNS)
    return (
        np.asarray(vector, dtype="<f4").tobytes(),
        doc.type.value,
        doc.visibility.value,
        doc.tenant_id,
        doc.owner_id,
        doc.workspace_id,
        doc.year,
        None if doc.explicit is None else int(doc.explicit),
        doc.popularity,
        SEPARATOR.join(doc.genres) or None,
        SEPARATOR.join(doc.artist_ids) or None,
    )
