"""Search backends behind one protocol: the embedded engine by default, Meilisearch by URL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.config import Settings
from subgraphs.search.backends.base import SearchBackend

if TYPE_CHECKING:
    from subgraphs.search.config import SearchSettings


def create_backend(platform: Settings, settings: SearchSettings, *, writable: bool) -> SearchBackend:
    """`writable`: the worker's indexer (the embedded engine has one writer; any process may
    write to Meilisearch)."""
    if settings.meilisearch_url:
        from subgraphs.search.backends.meilisearch import MeilisearchBackend

        return MeilisearchBackend(
            settings.meilisearch_url,
            settings.meilisearch_key,
            max_total_hits=settings.search_max_depth,
            min_similarity=settings.search_semantic_min_similarity,
        )
    from subgraphs.search.backends.embedded import EmbeddedBackend

    return EmbeddedBackend(
        settings.index_dir(platform),
        writable=writable,
        min_similarity=settings.search_semantic_min_similarity,
    )


__all__ = ["SearchBackend", "create_backend"]
