"""What the search subgraph runs with beyond the platform: its settings (the embedded engine's
directory, or Meilisearch when MEILISEARCH_URL is set; page and query limits) and its backend."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import Field

from shared.config import Settings, SubgraphSettings
from shared.runtime import SubgraphRuntime
from subgraphs.search.backends import SearchBackend, create_backend


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
    search_index_batch: int = 500

    def index_dir(self, platform: Settings) -> Path:
        return self.search_index_dir or platform.data_dir / "search-index"


@dataclass
class SearchServices:
    backend: SearchBackend


def build_services(runtime: SubgraphRuntime[SearchSettings, None]) -> SearchServices:
    return SearchServices(backend=create_backend(runtime.settings, runtime.config, writable=False))
