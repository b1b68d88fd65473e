"""The embedded engine's vectors: a SQLite file beside the tantivy index, and in every process
one numpy matrix searched by brute force.

Why brute force: on this machine a cosine scan of 100k x 384 float32 takes ~8 ms, exact, and
a new vector is a row append; an HNSW graph (usearch) answers in 0.4 ms but took 105 s to
build 100k vectors on 2 cores and must be rebuilt or patched in every reader. The writer (the
worker's indexer) writes each batch with one sequence number; readers load only the rows
newer than the newest they hold, so picking up a commit costs what changed."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from subgraphs.search.backends.base import DocumentType, Visibility

TYPES = list(DocumentType)
INITIAL_CAPACITY = 1024


@dataclass(frozen=True)
class VectorEntry:
    key: str
    type: DocumentType
    visibility: Visibility
    vector: Sequence[float] | None
    """None: the document is gone (or has no embedding)."""


@dataclass(frozen=True)
class Nearest:
    keys: list[str]
    similarities: list[float]
    """Cosine similarity of each key, best first."""
    above_threshold: int
    """How many documents (of the wanted types, any visibility) are at least that close: more
    than `len(keys)` when the list was cut."""


class VectorStore:
    def __init__(self, path: Path, dimensions: int) -> None:
        self.dimensions = dimensions
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vector (key TEXT PRIMARY KEY, seq INTEGER NOT NULL, "
            "type TEXT NOT NULL, visibility TEXT NOT NULL, vector BLOB)"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS vector_seq ON vector (seq)")
        self._lock = threading.Lock()
        self._rows: dict[str, int] = {}
        self._keys: list[str] = []
        self._matrix: npt.NDArray[np.float32] = np.zeros((INITIAL_CAPACITY, dimensions), dtype=np.float32)
        self._alive = np.zeros(INITIAL_CAPACITY, dtype=bool)
        self._public = np.zeros(INITIAL_CAPACITY, dtype=bool)
        self._types = np.zeros(INITIAL_CAPACITY, dtype=np.int8)
        self._seen = 0

    def write(self, entries: Sequence[VectorEntry]) -> None:
        if not entries:
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                (newest,) = self._db.execute("SELECT coalesce(max(seq), 0) FROM vector").fetchone()
                self._db.executemany(
                    "INSERT OR REPLACE INTO vector (key, seq, type, visibility, vector) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [
                        (
                            entry.key,
                            newest + 1,
                            entry.type.value,
                            entry.visibility.value,
                            None if entry.vector is None else np.asarray(entry.vector, dtype="<f4").tobytes(),
                        )
                        for entry in entries
                    ],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def refresh(self) -> None:
        """Loads what the writer committed since the last call (a few µs when nothing did)."""
        with self._lock:
            (newest,) = self._db.execute("SELECT coalesce(max(seq), 0) FROM vector").fetchone()
            if newest <= self._seen:
                return
            rows = self._db.execute(
                "SELECT key, type, visibility, vector FROM vector WHERE seq > ? ORDER BY seq", (self._seen,)
            ).fetchall()
            for key, type, visibility, vector in rows:
                self._place(key, DocumentType(type), visibility == Visibility.PUBLIC.value, vector)
            self._seen = newest

    def _place(self, key: str, type: DocumentType, public: bool, vector: bytes | None) -> None:
        row = self._rows.get(key)
        if row is None:
            if vector is None:
                return
            row = len(self._keys)
            if row == len(self._alive):
                self._grow()
            self._rows[key] = row
            self._keys.append(key)
        if vector is None:
            self._alive[row] = False
            return
        self._matrix[row] = np.frombuffer(vector, dtype="<f4")
        self._alive[row] = True
        self._public[row] = public
        self._types[row] = TYPES.index(type)

    def _grow(self) -> None:
        capacity = len(self._alive) * 2
        self._matrix = np.resize(self._matrix, (capacity, self.dimensions))
        self._alive = np.resize(self._alive, capacity)
        self._alive[len(self._keys) :] = False
        self._public = np.resize(self._public, capacity)
        self._types = np.resize(self._types, capacity)

    def nearest(
        self,
        query: Sequence[float],
        types: Sequence[DocumentType],
        min_similarity: float,
        limit: int,
    ) -> Nearest:
        self.refresh()
        count = len(self._keys)
        if not count:
            return Nearest([], [], 0)
        similarities = self._matrix[:count] @ np.asarray(query, dtype=np.float32)
        wanted = self._alive[:count] & (similarities >= min_similarity)
        if types:
            wanted &= np.isin(self._types[:count], [TYPES.index(kind) for kind in types])
        rows = np.flatnonzero(wanted)
        above = len(rows)
        if above > limit:
            rows = rows[np.argpartition(-similarities[rows], limit - 1)[:limit]]
        # Best first; equal similarities by key, so the order is the same in every process.
        order = sorted(rows.tolist(), key=lambda row: (-float(similarities[row]), self._keys[row]))
        return Nearest(
            keys=[self._keys[row] for row in order],
            similarities=[float(similarities[row]) for row in order],
            above_threshold=above,
        )

    def all_public(self, keys: Sequence[str]) -> bool:
        return all(self._public[self._rows[key]] for key in keys)

    def close(self) -> None:
        with self._lock:
            self._db.close()
