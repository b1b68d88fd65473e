"""Files on the local disk, served by the storage app's /files routes through signed URLs."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from shared.config import Settings
from shared.crypto import derive_key
from subgraphs.storage.backends.base import StoredObject, UploadSpec, UploadTarget
from subgraphs.storage.backends.signing import UrlSigner
from subgraphs.storage.models import SNIFF_BYTES

if TYPE_CHECKING:
    from subgraphs.storage.config import StorageSettings

FILES_PREFIX = "/files/"
UPLOAD_PARAMS = ("content_type", "max_size")
DOWNLOAD_PARAMS = ("filename",)


class UploadTooLarge(Exception):
    pass


def storage_signer(settings: Settings, config: StorageSettings) -> UrlSigner:
    key = config.storage_signing_key
    return UrlSigner(key.encode() if key else derive_key(settings, "storage-url-signing"))


class LocalBackend:
    name = "local"

    def __init__(self, settings: Settings, config: StorageSettings) -> None:
        self.root = config.root(settings).resolve()
        self.base_url = config.public_url(settings).rstrip("/")
        self.signer = storage_signer(settings, config)
        self.requests = 0
        """Storage operations (reads, writes, deletes of files) made by this process."""

    def path_of(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise ValueError("object key escapes the storage root")
        return path

    def _meta_path(self, key: str) -> Path:
        path = self.path_of(key)
        return path.with_name(path.name + ".meta.json")

    async def presign_upload(self, spec: UploadSpec, ttl: int) -> UploadTarget:
        params = {"content_type": spec.content_type, "max_size": str(spec.max_size)}
        url, expires = self.signer.sign(self.base_url, "PUT", FILES_PREFIX + spec.key, ttl, params)
        return UploadTarget(url=url, expires_at=expires, headers={"Content-Type": spec.content_type})

    async def download_url(self, key: str, ttl: int, filename: str | None = None) -> str:
        params = {"filename": filename} if filename else {}
        url, _ = self.signer.sign(self.base_url, "GET", FILES_PREFIX + key, ttl, params)
        return url

    async def write(self, key: str, content_type: str, chunks: AsyncIterator[bytes], max_size: int) -> None:
        """Streams an upload to disk; the file appears (atomically) only when complete."""
        self.requests += 1
        path = self.path_of(key)
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        digest, size = hashlib.sha256(), 0
        try:
            with partial.open("wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > max_size:
                        raise UploadTooLarge(key)
                    digest.update(chunk)
                    await asyncio.to_thread(out.write, chunk)
            meta = {"content_type": content_type, "size": size, "sha256": digest.hexdigest()}
            await asyncio.to_thread(self._finish, key, partial, meta)
        finally:
            partial.unlink(missing_ok=True)

    def _finish(self, key: str, partial: Path, meta: dict[str, object]) -> None:
        self._meta_path(key).write_text(json.dumps(meta))
        partial.replace(self.path_of(key))

    def _inspect(self, key: str) -> StoredObject | None:
        path, meta_path = self.path_of(key), self._meta_path(key)
        if not path.exists() or not meta_path.exists():
            return None
        meta = json.loads(meta_path.read_text())
        with path.open("rb") as stored:
            head = stored.read(SNIFF_BYTES)
        return StoredObject(
            size=path.stat().st_size, content_type=meta["content_type"], sha256=meta["sha256"], head=head
        )

    async def inspect(self, key: str) -> StoredObject | None:
        self.requests += 1
        return await asyncio.to_thread(self._inspect, key)

    async def content_type_of(self, key: str) -> str:
        meta = await asyncio.to_thread(self._meta_path(key).read_text)
        return str(json.loads(meta)["content_type"])

    async def delete(self, key: str) -> None:
        self.requests += 1

        def remove() -> None:
            self.path_of(key).unlink(missing_ok=True)
            self._meta_path(key).unlink(missing_ok=True)

        await asyncio.to_thread(remove)

    async def aclose(self) -> None:
        return None
