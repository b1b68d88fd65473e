"""Session-wide real services: embedded Redis, a throwaway PostgreSQL, fresh databases,
and a capture of every log line the suite writes (checked for secrets at the end)."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

os.environ.setdefault("ENV", "test")

from shared.config import Settings
from shared.db import Database
from shared.logging import JsonFormatter, RedactionFilter
from shared.redis import EmbeddedRedis
from tests.support.databases import PostgresFactory, SqliteFactory
from tests.support.postgres import PostgresCluster
from tests.support.servers import S3Server

LOG_CAPTURE = (
    Path(os.environ.get("TEST_LOG_CAPTURE", "/tmp")) / f"spotify-agent-test-logs-{os.getpid()}.jsonl"
)


def pytest_configure(config: pytest.Config) -> None:
    handler = logging.FileHandler(LOG_CAPTURE, mode="w")
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactionFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for noisy in ("asyncio", "aiosqlite", "httpcore", "websockets", "hpack", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.INFO)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The log audit must see the logs of every other test: run it last.
    items.sort(key=lambda item: item.get_closest_marker("log_audit") is not None)


@pytest.fixture(scope="session", autouse=True)
def embeddings_once_per_session() -> Iterator[None]:
    """The sentence model is deterministic: a text the session has embedded (for search's
    catalogue, for ai's) is not run through the model again for another test database."""
    from shared.embeddings.encoder import SentenceEncoder

    encode = SentenceEncoder.encode
    memo: dict[str, Any] = {}

    def memoised(self: SentenceEncoder, texts: Sequence[str], batch_size: int = 64) -> Any:
        import numpy as np

        missing = list(dict.fromkeys(text for text in texts if text not in memo))
        if missing:
            memo.update(zip(missing, encode(self, missing, batch_size), strict=True))
        if not texts:
            return encode(self, texts, batch_size)
        return np.stack([memo[text] for text in texts]).astype(np.float32, copy=False)

    SentenceEncoder.encode = memoised  # type: ignore[method-assign, assignment]
    yield
    SentenceEncoder.encode = encode  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = S3Server().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tmp_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def sqlite_factory(tmp_path_factory: pytest.TempPathFactory) -> SqliteFactory:
    return SqliteFactory(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def postgres_factory(postgres_cluster: PostgresCluster) -> PostgresFactory:
    return PostgresFactory(postgres_cluster)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    factory = request.getfixturevalue("sqlite_factory" if request.param == "sqlite" else "postgres_factory")
    return str(factory.new())


@pytest.fixture
def settings(tmp_data: Path, database_url: str) -> Settings:
    return Settings(
        env="test",
        data_dir=tmp_data,
        database_url=database_url,
        log_json=True,
    )


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    db = Database(settings.resolved_database_url)
    yield db
    await db.dispose()


@pytest.fixture
async def accounts(
    settings: Settings, redis_server: EmbeddedRedis, database: Database
) -> AsyncIterator[tuple[object, httpx.AsyncClient]]:
    """The accounts subgraph app (lifespan run) and an HTTP client bound to it in-process."""
    from tests.support.hosting import hosted

    await _flush_redis(redis_server)
    async with hosted("accounts", settings, redis_server.url, database) as accounts:
        yield accounts.runtime, accounts.client


async def _flush_redis(server: EmbeddedRedis) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(server.url)
    await client.flushall()
    await client.aclose()
