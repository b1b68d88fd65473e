"""What the spotify subgraph runs with beyond the platform: the catalogue (live when
SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET are set, else offline), its Redis object cache,
the users' libraries, the client that asks accounts for linked accounts, the job queue."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from arq.connections import ArqRedis
from redis.asyncio import Redis

from shared.runtime import SubgraphRuntime
from subgraphs.spotify.cache import ObjectCache
from subgraphs.spotify.catalog import SpotifyCatalog
from subgraphs.spotify.catalog.live import LiveCatalog
from subgraphs.spotify.catalog.offline import OfflineCatalog
from subgraphs.spotify.library import LiveLibrary, OfflineLibrary


@dataclass
class SpotifyServices:
    catalog: SpotifyCatalog
    object_cache: ObjectCache
    offline_library: OfflineLibrary
    live_library: LiveLibrary
    accounts_http: httpx.AsyncClient
    """Asks accounts for the caller's linked Spotify account (its internal endpoint)."""
    job_queue: ArqRedis | None = None
    """Connected when the app starts (arq binds to the running loop)."""


def build_services(runtime: SubgraphRuntime[None]) -> SpotifyServices:
    settings = runtime.settings
    live = settings.spotify_client_id and settings.spotify_client_secret
    return SpotifyServices(
        catalog=LiveCatalog(settings) if live else OfflineCatalog(runtime.db),
        object_cache=ObjectCache(Redis.from_url(runtime.redis_url, decode_responses=False)),
        offline_library=OfflineLibrary(runtime.db),
        live_library=LiveLibrary(settings.spotify_api_url),
        accounts_http=httpx.AsyncClient(timeout=10),
    )


async def connect_job_queue(runtime: SubgraphRuntime[SpotifyServices]) -> None:
    if runtime.services.job_queue is None:
        runtime.services.job_queue = ArqRedis.from_url(runtime.redis_url)
