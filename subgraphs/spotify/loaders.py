"""Per-request DataLoaders for catalogue objects: deduplicated, order-preserving, batched
to the Web API's limits (tracks 50, artists 50, albums 20), read through Redis."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from shared.context import RequestContext
from subgraphs.spotify.cache import ObjectCache
from subgraphs.spotify.catalog import (
    ALBUMS_PER_CALL,
    ARTISTS_PER_CALL,
    TRACKS_PER_CALL,
    SpotifyCatalog,
    SpotifyObject,
)

ObjectLoader = DataLoader[str, SpotifyObject | None]

_KINDS: dict[str, tuple[int, str]] = {
    "track": (TRACKS_PER_CALL, "tracks"),
    "artist": (ARTISTS_PER_CALL, "artists"),
    "album": (ALBUMS_PER_CALL, "albums"),
}


def _loader(context: RequestContext, kind: str) -> ObjectLoader:
    batch_size, method = _KINDS[kind]
    catalog: SpotifyCatalog = context.runtime.services["catalog"]
    cache: ObjectCache = context.runtime.services["object_cache"]

    async def load(ids: Sequence[str]) -> list[SpotifyObject | None]:
        fetch: Any = getattr(catalog, method)
        return await cache.read_through(kind, list(ids), fetch)

    # The DataLoader dedupes keys and splits a tick's keys into batches of `batch_size`:
    # one batch is one MGET and at most one upstream call.
    return DataLoader(load_fn=load, max_batch_size=batch_size)


def object_loader(context: RequestContext, kind: str) -> ObjectLoader:
    key = _LOADER_KEYS[kind]
    loader = context.loaders.get(key)
    if loader is None:
        loader = context.loaders[key] = _loader(context, kind)
    return loader  # type: ignore[no-any-return]


_LOADER_KEYS = {kind: f"spotify.{kind}" for kind in _KINDS}
