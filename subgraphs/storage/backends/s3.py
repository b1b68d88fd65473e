"""S3 (or any S3-compatible store) through aioboto3: SigV4 presigned PUT and GET, server-side
encryption, optional CDN in front of the bucket with token-signed URLs."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

import aioboto3
from botocore.config import Config
from botocore.exceptions import ClientError

from shared.metrics import count_upstream
from subgraphs.storage.backends.base import StoredObject, UploadSpec, UploadTarget
from subgraphs.storage.backends.signing import UrlSigner
from subgraphs.storage.models import SNIFF_BYTES

if TYPE_CHECKING:
    from subgraphs.storage.config import StorageSettings


def _b64_digest(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


class S3Backend:
    name = "s3"

    def __init__(self, settings: StorageSettings) -> None:
        self.settings = settings
        self.bucket = settings.s3_bucket
        self.sse = settings.s3_server_side_encryption
        self.requests = 0
        """S3 requests sent by this process (counted at botocore's send hook)."""
        self._session = aioboto3.Session(
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=settings.s3_secret_access_key,
            region_name=settings.s3_region,
        )
        self._client: Any = None
        self._stack: AsyncExitStack | None = None
        self._lock = asyncio.Lock()
        cdn_key = settings.cdn_signing_key
        self._cdn = UrlSigner(cdn_key.encode()) if settings.cdn_base_url and cdn_key else None

    async def client(self) -> Any:
        async with self._lock:
            if self._client is None:
                self._stack = AsyncExitStack()
                self._client = await self._stack.enter_async_context(
                    self._session.client(
                        "s3",
                        endpoint_url=self.settings.s3_endpoint_url,
                        config=Config(signature_version="s3v4", retries={"mode": "standard"}),
                    )
                )
                self._client.meta.events.register("before-send.s3", self._count)
                self._client.meta.events.register("after-call.s3", self._answered)
                self._client.meta.events.register("after-call-error.s3", self._unanswered)
        return self._client

    def _count(self, **_: Any) -> None:
        self.requests += 1

    def _answered(self, http_response: Any, **_: Any) -> None:
        count_upstream("s3", http_response.status_code)

    def _unanswered(self, **_: Any) -> None:
        count_upstream("s3", "error")

    async def presign_upload(self, spec: UploadSpec, ttl: int) -> UploadTarget:
        client = await self.client()
        checksum = _b64_digest(spec.checksum)
        params = {
            "Bucket": self.bucket,
            "Key": spec.key,
            "ContentType": spec.content_type,
            "ContentLength": spec.size,
            "ChecksumSHA256": checksum,
            "ServerSideEncryption": self.sse,
        }
        url = await client.generate_presigned_url("put_object", Params=params, ExpiresIn=ttl)
        headers = {
            "Content-Type": spec.content_type,
            "x-amz-checksum-sha256": checksum,
            "x-amz-server-side-encryption": self.sse,
        }
        return UploadTarget(url=url, expires_at=int(time.time()) + ttl, headers=headers)

    async def download_url(self, key: str, ttl: int, filename: str | None = None) -> str:
        if self._cdn is not None and self.settings.cdn_base_url:
            signed, _ = self._cdn.sign(
                self.settings.cdn_base_url.rstrip("/"),
                "GET",
                f"/{key}",
                ttl,
                {"filename": filename} if filename else {},
            )
            return signed
        client = await self.client()
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = f'inline; filename="{filename}"'
        url: str = await client.generate_presigned_url("get_object", Params=params, ExpiresIn=ttl)
        return url

    async def inspect(self, key: str) -> StoredObject | None:
        client = await self.client()
        try:
            head = await client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        stored_checksum = head.get("ChecksumSHA256")
        if stored_checksum and "-" not in stored_checksum:
            # The store verified the body against this digest on upload: read just the head.
            part = await client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{SNIFF_BYTES - 1}")
            first = await part["Body"].read()
            sha256 = base64.b64decode(stored_checksum).hex()
        else:
            first, sha256 = await self._hash_object(client, key)
        return StoredObject(
            size=int(head["ContentLength"]), content_type=head.get("ContentType"), sha256=sha256, head=first
        )

    async def _hash_object(self, client: Any, key: str) -> tuple[bytes, str]:
        """Stores that keep no checksum (some S3-compatible ones): stream and hash."""
        digest, first = hashlib.sha256(), b""
        body = (await client.get_object(Bucket=self.bucket, Key=key))["Body"]
        try:
            async for chunk in body.iter_chunks(1024 * 1024):
                if len(first) < SNIFF_BYTES:
                    first += chunk[: SNIFF_BYTES - len(first)]
                digest.update(chunk)
        finally:
            body.close()
        return first, digest.hexdigest()

    async def delete(self, key: str) -> None:
        client = await self.client()
        await client.delete_object(Bucket=self.bucket, Key=key)

    async def ensure_bucket(self) -> None:
        client = await self.client()
        try:
            await client.head_bucket(Bucket=self.bucket)
        except ClientError:
            await client.create_bucket(Bucket=self.bucket)

    async def aclose(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack, self._client = None, None
