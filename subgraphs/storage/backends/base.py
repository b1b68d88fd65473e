from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class UploadTarget:
    url: str
    expires_at: int
    method: str = "PUT"
    headers: dict[str, str] = field(default_factory=dict)
    """Headers the client must send with the upload (they are part of the signature)."""


@dataclass(frozen=True)
class StoredObject:
    size: int
    content_type: str | None
    sha256: str
    head: bytes
    """The first bytes, to check the content against the declared type."""


@dataclass(frozen=True)
class UploadSpec:
    key: str
    content_type: str
    size: int
    checksum: str
    max_size: int


class StorageBackend(Protocol):
    name: str
    requests: int
    """Storage requests made so far (S3 calls, file operations): budgets are asserted on it."""

    async def presign_upload(self, spec: UploadSpec, ttl: int) -> UploadTarget: ...

    async def inspect(self, key: str) -> StoredObject | None:
        """What is stored under `key` (None when nothing is)."""
        ...

    async def delete(self, key: str) -> None: ...

    async def download_url(self, key: str, ttl: int, filename: str | None = None) -> str:
        """A signed, expiring GET URL; no network call."""
        ...

    async def aclose(self) -> None: ...
