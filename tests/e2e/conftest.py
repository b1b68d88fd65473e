"""The real platform once per session: subgraph host under uvicorn, the Node router on a
supergraph composed from the subgraphs' SDL."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gateway.composition import write_supergraph
from gateway.host import definitions
from gateway.router_process import RouterProcess
from gateway.subgraphs import SUBGRAPHS
from shared.config import Settings
from shared.redis import EmbeddedRedis, free_port
from subgraphs.storage.config import StorageSettings
from tests.support.hosting import served_together


@dataclass
class Platform:
    router_url: str
    subgraph_url: str
    supergraph: Path
    settings: Settings
    fetches: Counter[str]
    """Requests the router made to each subgraph's /graphql."""
    storage: Any = None
    """The storage subgraph's backend (S3 on moto): `requests` counts its S3 calls."""
    storage_settings: Any = None
    """The storage subgraph's own settings (S3 on moto)."""


class FetchCounter:
    """ASGI middleware around the subgraph host: counts the router's subgraph fetches."""

    def __init__(self, app: Any, counts: Counter[str]) -> None:
        self.app = app
        self.counts = counts

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/graphql") and scope["method"] == "POST":
            self.counts[scope["path"].strip("/").split("/")[0]] += 1
        await self.app(scope, receive, send)


@pytest.fixture(scope="session")
def platform(
    tmp_path_factory: pytest.TempPathFactory, redis_server: EmbeddedRedis, sqlite_factory, s3_server
) -> Iterator[Platform]:
    data = tmp_path_factory.mktemp("platform")
    subgraph_port = free_port()
    settings = Settings(
        env="dev",
        data_dir=data,
        database_url=sqlite_factory.new(),
        subgraph_port=subgraph_port,
        router_port=free_port(),
    )
    storage = StorageSettings(
        storage_backend="s3",
        s3_endpoint_url=s3_server.url,
        s3_access_key_id="e2e-key",
        s3_secret_access_key="e2e-secret",
        s3_bucket="e2e-assets",
    )
    s3_server.create_bucket(storage.s3_bucket)
    fetches: Counter[str] = Counter()
    with served_together(
        SUBGRAPHS,
        settings,
        redis_server.url,
        configs={"storage": storage},
        port=subgraph_port,
        wrap=lambda app: FetchCounter(app, fetches),
    ) as (runtimes, host):
        runtimes["accounts"].services.heartbeat_seconds = 0.5
        supergraph = data / "supergraph.graphql"
        write_supergraph(definitions(settings, SUBGRAPHS), supergraph)
        router = RouterProcess(
            str(supergraph),
            port=settings.router_port,
            log_path=Path(f"/tmp/spotify-agent-router-{os.getpid()}.log"),
        )
        router.start()
        try:
            yield Platform(
                router_url=f"http://127.0.0.1:{settings.router_port}",
                subgraph_url=host.url,
                supergraph=supergraph,
                settings=settings,
                fetches=fetches,
                storage=runtimes["storage"].services.backend,
                storage_settings=storage,
            )
        finally:
            router.stop()
