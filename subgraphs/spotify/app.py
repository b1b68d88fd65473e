"""Builds the spotify subgraph's ASGI app; the catalogue is offline unless SPOTIFY_CLIENT_ID."""

from __future__ import annotations

from pathlib import Path

import httpx
from arq.connections import ArqRedis
from redis.asyncio import Redis
from starlette.applications import Starlette

from shared.app import create_subgraph_app
from shared.config import Settings
from shared.db import Database
from shared.runtime import SubgraphRuntime, build_runtime
from subgraphs.spotify.cache import ObjectCache
from subgraphs.spotify.catalog.live import LiveCatalog
from subgraphs.spotify.catalog.offline import OfflineCatalog
from subgraphs.spotify.library import LiveLibrary, OfflineLibrary
from subgraphs.spotify.schema import create_schema

NAME = "spotify"
POLICY_FILE = Path(__file__).with_name("policy.csv")

__all__ = ["create_app", "create_runtime", "create_schema"]


def create_runtime(settings: Settings, redis_url: str, database: Database | None = None) -> SubgraphRuntime:
    runtime = build_runtime(
        NAME,
        settings,
        policy_files=[POLICY_FILE],
        redis_url=redis_url,
        database=database,
    )
    live = settings.spotify_client_id and settings.spotify_client_secret
    runtime.services["catalog"] = LiveCatalog(settings) if live else OfflineCatalog(runtime.db)
    runtime.services["object_cache"] = ObjectCache(Redis.from_url(redis_url, decode_responses=False))
    runtime.services["offline_library"] = OfflineLibrary(runtime.db)
    runtime.services["live_library"] = LiveLibrary(settings.spotify_api_url)
    runtime.services["accounts_http"] = httpx.AsyncClient(timeout=10)
    return runtime


def create_app(runtime: SubgraphRuntime, *, close_runtime: bool = True) -> Starlette:
    async def connect_job_queue() -> None:
        runtime.services.setdefault("arq", ArqRedis.from_url(runtime.redis_url))

    return create_subgraph_app(
        runtime, create_schema(runtime.settings), on_startup=[connect_job_queue], close_runtime=close_runtime
    )
