"""What the search subgraph runs with beyond the platform: its settings (the embedded engine's
directory, or Meilisearch when MEILISEARCH_URL is set; page and query limits) and its backend."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import Field
from redis.asyncio import Redis

from shared.config import Settings, SubgraphSettings
from shared.embeddings import sentence_encoder
from shared.runtime import SubgraphRuntime
from subgraphs.search.backends import SearchBackend, create_backend
from subgraphs.search.insights import SearchInsights
from subgraphs.search.query_vectors import QueryVectors


class SearchSettings(SubgraphSettings):
    search_index_dir: Path | None = None
    """The embedded engine's index; default: the data dir's `search-index/`."""
    meilisearch_url: str | None = None
    """Search on this Meilisearch server instead of the embedded engine."""
    meilisearch_key: str | None = Field(default=None, repr=False)
    search_max_query_length: int = 512
    """Longer queries are refused (BAD_USER_INPUT)."""
    search_max_page: int = 50
    search_max_depth: int = 1_000
    """How far pagination reaches into a result set (as Meilisearch's `maxTotalHits`)."""
    search_index_poll_seconds: float = 0.25
    """How often the worker's indexer looks for changed documents when it is idle."""
    search_index_batch: int = 200
    """Documents per indexer round: a round that embeds them takes ~1.2 s here (~170 texts/s),
    which bounds how long a tenant's change waits behind a catalogue being indexed."""
    search_semantic: bool = True
    """SEMANTIC and HYBRID by MiniLM embeddings: the worker embeds documents, serving processes
    load the model in the background at start. Off: every search is answered by keyword."""
    search_semantic_min_similarity: float = 0.33
    """Cosine below which a document is not a semantic match (the embedded engine)."""
    search_query_vector_ttl_seconds: int = 86_400
    search_query_sample_rate: float = 0.05
    """The share of SEMANTIC and HYBRID searches whose query vector is announced (anonymous:
    `search.query.sampled`) for the drift checks of the platform's models."""

    def index_dir(self, platform: Settings) -> Path:
        return self.search_index_dir or platform.data_dir / "search-index"


@dataclass
class SearchServices:
    backend: SearchBackend
    query_vectors: QueryVectors
    insights: SearchInsights


def build_services(runtime: SubgraphRuntime[SearchSettings, None]) -> SearchServices:
    config = runtime.config
    return SearchServices(
        backend=create_backend(runtime.settings, config, writable=False),
        query_vectors=QueryVectors(
            Redis.from_url(runtime.redis_url),
            sentence_encoder() if config.search_semantic else None,
            config.search_query_vector_ttl_seconds,
        ),
        insights=SearchInsights(runtime.redis),
    )
