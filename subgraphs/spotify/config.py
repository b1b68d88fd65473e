"""What the spotify subgraph runs with beyond the platform: the catalogue (live when
SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET are set, else offline), its Redis object cache,
the users' libraries, the client that asks accounts for linked accounts, the job queue."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from arq.connections import ArqRedis
from pydantic import Field
from redis.asyncio import Redis

from shared.config import Settings, SubgraphSettings
from shared.runtime import SubgraphRuntime
from subgraphs.spotify.catalogue import SpotifyCatalogue
from subgraphs.spotify.catalogue.cache import ObjectCache
from subgraphs.spotify.catalogue.library import LiveLibrary, OfflineLibrary
from subgraphs.spotify.catalogue.live import LiveCatalogue
from subgraphs.spotify.catalogue.offline import OfflineCatalogue


class SpotifySettings(SubgraphSettings):
    spotify_client_id: str | None = None
    """With the secret: the live Web API (client credentials); unset: the offline catalogue."""
    spotify_client_secret: str | None = Field(default=None, repr=False)
    spotify_accounts_url: str = "https://accounts.spotify.com"
    spotify_api_url: str = "https://api.spotify.com/v1"
    accounts_internal_url: str | None = None
    """Where accounts' internal endpoints are; default: the accounts mount of the dev host."""

    @property
    def live(self) -> bool:
        return bool(self.spotify_client_id and self.spotify_client_secret)

    def accounts_base_url(self, platform: Settings) -> str:
        return self.accounts_internal_url or f"{platform.subgraph_base_url}/accounts"


@dataclass
class SpotifyServices:
    catalogue: SpotifyCatalogue
    object_cache: ObjectCache
    offline_library: OfflineLibrary
    live_library: LiveLibrary
    accounts_http: httpx.AsyncClient
    """Asks accounts for the caller's linked Spotify account (its internal endpoint)."""
    job_queue: ArqRedis | None = None
    """Connected when the app starts (arq binds to the running loop)."""


def build_services(runtime: SubgraphRuntime[SpotifySettings, None]) -> SpotifyServices:
    config = runtime.config
    return SpotifyServices(
        catalogue=LiveCatalogue(config) if config.live else OfflineCatalogue(runtime.db),
        object_cache=ObjectCache(Redis.from_url(runtime.redis_url, decode_responses=False)),
        offline_library=OfflineLibrary(runtime.db),
        live_library=LiveLibrary(config.spotify_api_url),
        accounts_http=httpx.AsyncClient(timeout=10),
    )


async def connect_job_queue(runtime: SubgraphRuntime[SpotifySettings, SpotifyServices]) -> None:
    if runtime.services.job_queue is None:
        runtime.services.job_queue = ArqRedis.from_url(runtime.redis_url)
