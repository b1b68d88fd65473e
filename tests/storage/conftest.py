"""The storage subgraph on each backend: local files (served by the app itself) and S3
(moto's server). Every storage test runs on both."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from shared.runtime import SubgraphRuntime
from subgraphs.storage.config import StorageSettings
from tests.support.graphql import gql
from tests.support.hosting import hosted, runtime_of
from tests.support.secrets import remember_secret

APP_BASE = "http://storage.test"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 20
WAV = b"RIFF\x24\x08\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x02\x00" + b"\x00\x01" * 600

ASSET_FIELDS = "id kind contentType size checksum status filename deletedAt owner { id }"
CREATE_UPLOAD = f"""mutation($i: CreateUploadInput!) {{ createUpload(input: $i) {{
  asset {{ {ASSET_FIELDS} }} upload {{ url method expiresAt headers {{ name value }} }} }} }}"""
COMPLETE = f"mutation($id: ID!) {{ completeUpload(id: $id) {{ asset {{ {ASSET_FIELDS} url }} }} }}"
ASSET = f"query($id: ID!) {{ asset(id: $id) {{ {ASSET_FIELDS} url }} }}"


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@dataclass
class Storage:
    client: httpx.AsyncClient
    accounts: httpx.AsyncClient
    runtime: SubgraphRuntime
    backend: str

    @property
    def store(self) -> Any:
        return self.runtime.services.backend

    async def gql(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
        return await gql(self.client, query, variables, token=token)

    async def http(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Local URLs go to the app in-process; S3 URLs to moto over loopback. A URL's
        signature is a short-lived credential: the log audit checks it never got logged."""
        for name, values in parse_qs(urlsplit(url).query).items():
            if name.lower() in ("signature", "x-amz-signature"):
                remember_secret(values[0])
        if url.startswith(APP_BASE):
            return await self.client.request(method, url, **kwargs)
        async with httpx.AsyncClient() as client:
            return await client.request(method, url, **kwargs)

    async def create_upload(self, token: str, body: bytes, **declared: Any) -> dict[str, Any]:
        variables = {
            "kind": "COVER_ART",
            "contentType": "image/png",
            "size": len(body),
            "checksum": sha256(body),
        }
        result = await self.gql(CREATE_UPLOAD, {"i": {**variables, **declared}}, token)
        assert "errors" not in result, result
        return dict(result["data"]["createUpload"])

    async def put(self, upload: dict[str, Any], body: bytes) -> httpx.Response:
        headers = {header["name"]: header["value"] for header in upload["headers"]}
        return await self.http(upload["method"], upload["url"], content=body, headers=headers)

    async def upload(self, token: str, body: bytes, **declared: Any) -> dict[str, Any]:
        """createUpload, PUT, completeUpload: the asset as completeUpload returns it."""
        created = await self.create_upload(token, body, **declared)
        sent = await self.put(created["upload"], body)
        assert sent.status_code == 200, sent.text
        done = await self.gql(COMPLETE, {"id": created["asset"]["id"]}, token)
        assert "errors" not in done, done
        return dict(done["data"]["completeUpload"]["asset"])


@pytest.fixture(params=["local", "s3"])
async def storage(request, settings, redis_server, database, accounts, tmp_path) -> AsyncIterator[Storage]:
    overrides: dict[str, Any] = {"storage_dir": tmp_path / "objects", "storage_public_url": APP_BASE}
    if request.param == "s3":
        s3 = request.getfixturevalue("s3_server")
        overrides |= {
            "storage_backend": "s3",
            "s3_endpoint_url": s3.url,
            "s3_access_key_id": "test-key",
            "s3_secret_access_key": "test-secret",
            "s3_bucket": f"assets-{uuid.uuid4().hex[:12]}",
        }
    config = StorageSettings(**overrides)
    runtime = runtime_of("storage", settings, redis_server.url, database, config=config)
    if request.param == "s3":
        await runtime.services.backend.ensure_bucket()
    async with hosted(
        "storage", settings, redis_server.url, database, runtime=runtime, base_url=APP_BASE
    ) as storage:
        yield Storage(storage.client, accounts[1], runtime, request.param)
