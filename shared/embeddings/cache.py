"""Embeddings by (model version, content hash): read what is cached, encode only the rest (in a
thread, in batches), record them. An unchanged text is never embedded twice, in any subgraph."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from shared.db import Database
from shared.embeddings.encoder import DIMENSIONS, SentenceEncoder, Vectors, model_version
from shared.embeddings.models import CachedEmbedding

LOOKUP_CHUNK = 500
"""Hashes per lookup statement (SQLite's bound-parameter limit is far above)."""


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def cached_embeddings(db: Database, encoder: SentenceEncoder, texts: Sequence[str]) -> Vectors:
    """One unit vector per text, in order. The model runs outside any transaction (seconds for
    a large batch); what it computed is recorded in one short write."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    version = model_version()
    hashes = [text_hash(text) for text in texts]
    known: dict[str, Vectors] = {}
    wanted = sorted(set(hashes))
    async with db.read() as session:
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            chunk = wanted[start : start + LOOKUP_CHUNK]
            rows = await session.execute(
                select(CachedEmbedding.content_hash, CachedEmbedding.vector).where(
                    col(CachedEmbedding.model_version) == version,
                    col(CachedEmbedding.content_hash).in_(chunk),
                )
            )
            for content_hash, vector in rows:
                known[content_hash] = np.frombuffer(vector, dtype="<f4")
    missing = {
        content_hash: text
        for content_hash, text in zip(hashes, texts, strict=True)
        if content_hash not in known
    }
    if missing:
        encoded = await asyncio.to_thread(encoder.encode, list(missing.values()))
        fresh = dict(zip(missing, encoded, strict=True))
        async with db.write() as session:
            await _record(session, version, fresh)
        known.update(fresh)
    return np.stack([known[content_hash] for content_hash in hashes]).astype(np.float32, copy=False)


async def _record(session: AsyncSession, version: str, vectors: dict[str, Vectors]) -> None:
    bind = session.bind
    insert: Any = (
        postgresql.insert if bind is not None and bind.dialect.name == "postgresql" else sqlite.insert
    )
    rows = [
        {"model_version": version, "content_hash": content_hash, "vector": vector.astype("<f4").tobytes()}
        for content_hash, vector in vectors.items()
    ]
    for start in range(0, len(rows), LOOKUP_CHUNK):
        statement = insert(CachedEmbedding).values(rows[start : start + LOOKUP_CHUNK])
        await session.execute(
            statement.on_conflict_do_nothing(index_elements=["model_version", "content_hash"])
        )
