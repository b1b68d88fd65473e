"""What the storage subgraph runs with beyond the platform: its backend (local files, or S3
when STORAGE_BACKEND=s3)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.runtime import SubgraphRuntime
from subgraphs.storage.backends import StorageBackend, create_backend


@dataclass
class StorageServices:
    backend: StorageBackend


def build_services(runtime: SubgraphRuntime[None]) -> StorageServices:
    return StorageServices(backend=create_backend(runtime.settings))
