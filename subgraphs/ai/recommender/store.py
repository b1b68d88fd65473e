"""The production recommender of a serving process: which version is in production is read
from the registry at most every few seconds; a new version's artifact is loaded once (off the
event loop) and swapped in whole, so a promotion or a rollback reaches every replica within
`refresh_seconds` and a request never sees half a model."""

from __future__ import annotations

import asyncio
import time

from shared.db import Database
from shared.errors import Unavailable
from subgraphs.ai.recommender.model import RecommenderModel
from subgraphs.ai.repository import ModelRepository

RECOMMENDER = "recommender"


class ModelStore:
    def __init__(self, db: Database, refresh_seconds: float) -> None:
        self.db = db
        self.refresh_seconds = refresh_seconds
        self._model: RecommenderModel | None = None
        self._checked_at = float("-inf")
        self._lock = asyncio.Lock()

    async def recommender(self) -> RecommenderModel:
        if self._model is not None and time.monotonic() - self._checked_at < self.refresh_seconds:
            return self._model
        async with self._lock:
            if self._model is None or time.monotonic() - self._checked_at >= self.refresh_seconds:
                await self._refresh()
        if self._model is None:
            raise Unavailable(
                "No recommender is in production yet: the worker trains one at start "
                "(or run `spotify-agent ai train`); retry shortly."
            )
        return self._model

    async def _refresh(self) -> None:
        async with self.db.read() as session:
            models = ModelRepository(session)
            production = await models.production(RECOMMENDER)
            if production is None:
                self._model, self._checked_at = None, time.monotonic()
                return
            if self._model is not None and self._model.version == production.version:
                self._checked_at = time.monotonic()
                return
            artifact = await models.artifact(production.id)
        if artifact is not None:
            self._model = await asyncio.to_thread(RecommenderModel.from_bytes, artifact.data)
        self._checked_at = time.monotonic()

    def forget(self) -> None:
        """The next request reads the registry again (tests, and after a local promotion)."""
        self._checked_at = float("-inf")

    async def aclose(self) -> None:
        self._model = None
