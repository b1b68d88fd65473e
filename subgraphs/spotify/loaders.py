"""Per-request loaders. Catalogue objects: deduplicated, order-preserving, read through
Redis, batched upstream to the Web API's limits (tracks 50, artists 50, albums 20). Cover art
and press kits: one SQL query per batch. The caller's linked account: once per request."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

from strawberry.dataloader import DataLoader

from shared.context import RequestContext
from shared.errors import Unauthenticated
from subgraphs.spotify.catalogue import (
    ALBUMS_PER_CALL,
    ARTISTS_PER_CALL,
    TRACKS_PER_CALL,
    SpotifyCatalogue,
    SpotifyObject,
)
from subgraphs.spotify.catalogue.cache import ObjectCache
from subgraphs.spotify.catalogue.library import LinkedAccount, fetch_linked_account
from subgraphs.spotify.repository import CoverArtRepository, PressKitRepository


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
        if batch is None:  # dispatched only once a batch is queued
            return
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
    catalogue: SpotifyCatalogue = context.runtime.services.catalogue
    cache: ObjectCache = context.runtime.services.object_cache
    fetch: Any = getattr(catalogue, method)

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


def _cover_art_loader(context: RequestContext) -> DataLoader[str, str | None]:
    async def load(playlist_ids: Sequence[str]) -> list[str | None]:
        tenant_id = context.principal.tenant_id
        if not tenant_id:
            return [None] * len(playlist_ids)
        found = await CoverArtRepository(await context.session(), tenant_id).asset_ids(playlist_ids)
        return [found.get(id) for id in playlist_ids]

    return DataLoader(load_fn=load)


def _press_kit_loader(context: RequestContext) -> DataLoader[str, list[str]]:
    async def load(artist_ids: Sequence[str]) -> list[list[str]]:
        tenant_id = context.principal.tenant_id
        if not tenant_id:
            return [[] for _ in artist_ids]
        found = await PressKitRepository(await context.session(), tenant_id).asset_ids(artist_ids)
        return [found.get(id, []) for id in artist_ids]

    return DataLoader(load_fn=load)


def cover_art_loader(context: RequestContext) -> DataLoader[str, str | None]:
    """The cover-art asset id of each playlist, in the caller's tenant."""
    return context.loader("spotify.cover_art", _cover_art_loader)


def press_kit_loader(context: RequestContext) -> DataLoader[str, list[str]]:
    """The press-kit asset ids of each artist, in order, in the caller's tenant."""
    return context.loader("spotify.press_kit", _press_kit_loader)


async def linked_account(context: RequestContext, *, refresh: bool = False) -> LinkedAccount | None:
    """Once per request: the caller's linked Spotify account, from accounts (`refresh`:
    again, for a new access token, because Spotify refused the one we had)."""
    if "spotify.linked" in context.loaders and not refresh:
        cached: LinkedAccount | None = context.loaders["spotify.linked"]
        return cached
    authorization = context.request.headers.get("authorization") if context.request is not None else None
    if not authorization:
        raise Unauthenticated("Authentication required")
    runtime = context.runtime
    account = await fetch_linked_account(
        runtime.services.accounts_http,
        runtime.config.accounts_base_url(runtime.settings),
        authorization,
        refresh=refresh,
    )
    context.loaders["spotify.linked"] = account
    return account
