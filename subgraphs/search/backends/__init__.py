"""Search backends behind one protocol: the embedded engine by default, Meilisearch by URL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.config import Settings
from subgraphs.search.backends.base import SearchBackend

if TYPE_CHECKING:
    from subgraphs.search.config import SearchSettings


def create_backend(platform: Settings, settings: SearchSettings, *, writable: bool) -> SearchBackend:
    """`writable`: the worker's indexer (the embedded engine has one writer)."""
    from subgraphs.search.backends.embedded import EmbeddedBackend

    return EmbeddedBackend(settings.index_dir(platform), writable=writable)


__all__ = ["SearchBackend", "create_backend"]
