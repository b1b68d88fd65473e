"""Where asset bytes live. Both backends hand out presigned upload targets and signed,
expiring download URLs computed locally; only upload checks and deletes touch storage."""

from __future__ import annotations

from shared.config import Settings
from subgraphs.storage.backends.base import StorageBackend, StoredObject, UploadTarget

__all__ = ["StorageBackend", "StoredObject", "UploadTarget", "create_backend"]


def create_backend(settings: Settings) -> StorageBackend:
    if settings.storage_backend == "s3":
        from subgraphs.storage.backends.s3 import S3Backend

        return S3Backend(settings)
    from subgraphs.storage.backends.local import LocalBackend

    return LocalBackend(settings)
