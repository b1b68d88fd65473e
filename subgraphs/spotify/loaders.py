"""Per-request loaders of catalogue objects: deduplicated, order-preserving, read through
Redis, batched upstream to the Web API's limits (tracks 50, artists 50, albums 20)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

from shared.context import RequestContext
from subgraphs.spotify.cache import ObjectCache
from subgraphs.spotify.catalog import (
    ALBUMS_PER_CALL,
    ARTISTS_PER_CALL,
    TRACKS_PER_CALL,
    SpotifyCatalog,
    SpotifyObject,
)


class CatalogueType(Protocol):
    spotify_kind: ClassVar[str]

    @classmethod
    def from_data(cls, data: SpotifyObject) -> Self: ...


T = TypeVar("T")
CatalogueT = TypeVar("CatalogueT", bound=CatalogueType)

_KINDS: dict[str, tuple[int, str]] = {
    "track": (TRACKS_PER_CALL, "tracks"),
    "artist": (ARTISTS_PER_CALL, "artists"),
    "album": (ALBUMS_PER_CALL, "albums"),
}


class ObjectLoader(Generic[T]):
    """Ids asked for in the same event-loop tick form one batch (one `load` call); results
    are kept by id for the rest of the request.

    Unlike Strawberry's DataLoader there is no future per id: on a 1,000-entity request
    those futures outlive the young GC generations and make full collections frequent.
    """

    def __init__(self, load: Callable[[list[str]], Awaitable[list[T | Exception | None]]]) -> None:
        self._load = load
        self._results: dict[str, T | Exception | None] = {}
        self._in_flight: dict[str, asyncio.Future[None]] = {}
        self._queued: list[str] = []
        self._next_batch: asyncio.Future[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def load(self, id: str) -> T | None:
        return (await self.load_many((id,)))[0]

    async def load_many(self, ids: Iterable[str]) -> list[T | None]:
        ids = list(ids)
        for batch in {self._batch_of(id) for id in ids if id not in self._results}:
            await batch
        results = [self._results[id] for id in ids]
        for result in results:
            if isinstance(result, Exception):
                raise result
        return results  # type: ignore[return-value]  # no Exception left

    def _batch_of(self, id: str) -> asyncio.Future[None]:
        batch = self._in_flight.get(id)
        if batch is None:
            if self._next_batch is None:
                loop = asyncio.get_running_loop()
                self._next_batch = loop.create_future()
                loop.call_soon(self._dispatch)
            batch = self._in_flight[id] = self._next_batch
            self._queued.append(id)
        return batch

    def _dispatch(self) -> None:
        task = asyncio.ensure_future(self._run_batch())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_batch(self) -> None:
        # Like the DataLoader, the batch closes when its task starts, a tick after the
        # first id: resolvers started together all get into it.
        ids, batch = self._queued, self._next_batch
        self._queued, self._next_batch = [], None
        assert batch is not None
        try:
            self._results.update(zip(ids, await self._load(ids), strict=True))
        except Exception as error:
            self._results.update(dict.fromkeys(ids, error))
        except BaseException:
            batch.cancel()
            raise
        finally:
            for id in ids:
                del self._in_flight[id]
        batch.set_result(None)


def _loader(context: RequestContext, kind: str, build: Callable[[SpotifyObject], T]) -> ObjectLoader[T]:
    fetch_size, method = _KINDS[kind]
    catalog: SpotifyCatalog = context.runtime.services.catalog
    cache: ObjectCache = context.runtime.services.object_cache
    fetch: Any = getattr(catalog, method)

    async def load(ids: list[str]) -> list[T | Exception | None]:
        return await cache.read_through(kind, ids, fetch, build, fetch_size)

    return ObjectLoader(load)


def catalogue_loader(context: RequestContext, type_: type[CatalogueT]) -> ObjectLoader[CatalogueT]:
    """Loads GraphQL objects (`Track`, ...) built once per id and request."""
    key = f"spotify.{type_.spotify_kind}"
    loader = context.loaders.get(key)
    if loader is None:
        loader = context.loaders[key] = _loader(context, type_.spotify_kind, type_.from_data)
    return loader  # type: ignore[no-any-return]


def object_loader(context: RequestContext, kind: str) -> ObjectLoader[SpotifyObject]:
    """Loads raw Web API objects ("track", "artist", "album"); GraphQL fields should use
    `catalogue_loader`, which keeps no raw objects alive."""
    key = f"spotify.{kind}.raw"
    loader = context.loaders.get(key)
    if loader is None:
        loader = context.loaders[key] = _loader(context, kind, _raw)
    return loader  # type: ignore[no-any-return]


def _raw(data: SpotifyObject) -> SpotifyObject:
    return data
