"""Query embeddings at request time: the serving process's model, loaded in a background thread
at start (a search before it is ready is answered by keyword and says so), and a Redis cache of
recent query vectors shared by every serving process."""

from __future__ import annotations

import asyncio

import numpy as np
from redis.asyncio import Redis

from shared.embeddings import SentenceEncoder, model_version, text_hash


class QueryVectors:
    def __init__(self, redis: Redis, encoder: SentenceEncoder | None, ttl_seconds: int) -> None:
        """`encoder` None: semantic search is switched off (`SEARCH_SEMANTIC=false`)."""
        self._redis = redis
        self._encoder = encoder
        self._ttl = ttl_seconds
        if encoder is not None:
            encoder.load_in_background()

    @property
    def enabled(self) -> bool:
        return self._encoder is not None

    @property
    def ready(self) -> bool:
        return self._encoder is not None and self._encoder.ready

    async def vector_of(self, query: str) -> list[float] | None:
        """None while the model is not loaded (or switched off)."""
        if self._encoder is None:
            return None
        normalised = " ".join(query.lower().split())  # the model is uncased
        key = f"search:query-vector:{model_version()}:{text_hash(normalised)}"
        cached = await self._redis.get(key)
        if cached is not None:
            return np.frombuffer(cached, dtype="<f4").tolist()
        if not self._encoder.ready:
            return None
        encoded = await asyncio.to_thread(self._encoder.encode, [normalised])
        vector = encoded[0].astype("<f4")
        await self._redis.set(key, vector.tobytes(), ex=self._ttl)
        return vector.tolist()

    async def aclose(self) -> None:
        await self._redis.aclose()
