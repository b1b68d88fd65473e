"""Where asset bytes live. Both backends hand out presigned upload targets and signed,
expiring download URLs computed locally; only upload checks and deletes touch storage."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.config import Settings
from subgraphs.storage.backends.base import StorageBackend, StoredObject, UploadTarget

__all__ = ["StorageBackend", "StoredObject", "UploadTarget", "create_backend"]


if TYPE_CHECKING:
    from subgraphs.storage.config import StorageSettings


def create_backend(settings: Settings, config: StorageSettings) -> StorageBackend:
    if config.storage_backend == "s3":
        from subgraphs.storage.backends.s3 import S3Backend

        return S3Backend(config)
    from subgraphs.storage.backends.local import LocalBackend

    return LocalBackend(settings, config)
