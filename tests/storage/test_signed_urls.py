"""Signed URLs: tampering with any part, or waiting past the expiry, is refused; a CDN in
front of S3 gets token-signed URLs computed without any S3 request."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from subgraphs.storage.backends.s3 import S3Backend
from subgraphs.storage.backends.signing import SignatureError, UrlSigner
from subgraphs.storage.config import StorageSettings
from tests.storage.conftest import PNG
from tests.support.graphql import sign_up


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    return parts._replace(query=urlencode({**query, **changes})).geturl()


@pytest.mark.parametrize("storage", ["local"], indirect=True)
async def test_local_urls_refuse_tampering_and_expiry(storage):
    owner = await sign_up(storage.accounts)
    first = await storage.upload(owner["token"], PNG)
    second = await storage.upload(owner["token"], PNG)
    url = first["url"]
    query = {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
    flipped = query["signature"][:-1] + ("0" if query["signature"][-1] != "0" else "1")
    other_path = url.replace(first["id"], second["id"])
    tampered = [
        _with_query(url, signature=flipped),
        _with_query(url, expires=str(int(query["expires"]) + 3600)),
        _with_query(url, filename="evil.html"),
        other_path,
        url.split("?")[0],
    ]
    for bad in tampered:
        refused = await storage.http("GET", bad)
        assert refused.status_code == 403, bad
        assert refused.json()["error"]["code"] == "FORBIDDEN"
    assert (await storage.http("GET", url)).status_code == 200

    store = storage.store
    key = urlsplit(url).path.split("/files/", 1)[1]
    expired, _ = store.signer.sign(store.base_url, "GET", "/files/" + key, -1)
    refused = await storage.http("GET", expired)
    assert refused.status_code == 403
    assert "expired" in refused.json()["error"]["message"]


@pytest.mark.parametrize("storage", ["local"], indirect=True)
async def test_local_upload_urls_hold_their_terms(storage):
    owner = await sign_up(storage.accounts)
    created = await storage.create_upload(owner["token"], PNG)
    upload = created["upload"]
    wrong_type = await storage.http("PUT", upload["url"], content=PNG, headers={"Content-Type": "text/html"})
    assert wrong_type.status_code == 403
    forged = _with_query(upload["url"], max_size=str(10**12))
    assert (
        await storage.http("PUT", forged, content=PNG, headers={"Content-Type": "image/png"})
    ).status_code == 403
    big = PNG + b"\x00" * (11 * 1024 * 1024)
    too_big = await storage.http("PUT", upload["url"], content=big, headers={"Content-Type": "image/png"})
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "BAD_USER_INPUT"
    assert (await storage.put(upload, PNG)).status_code == 200


def test_signer_checks_every_signed_part():
    signer = UrlSigner(b"k" * 32)
    url, expires = signer.sign("https://files.test", "GET", "/files/t/a", 60, {"filename": "a.pdf"})
    query = {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
    signer.verify("GET", "/files/t/a", query, ("filename",))
    assert expires > time.time()
    for method, path, changed in (
        ("PUT", "/files/t/a", {}),
        ("GET", "/files/t/b", {}),
        ("GET", "/files/t/a", {"filename": "b.pdf"}),
        ("GET", "/files/t/a", {"signature": "0" * 64}),
    ):
        with pytest.raises(SignatureError):
            signer.verify(method, path, {**query, **changed}, ("filename",))
    with pytest.raises(SignatureError):
        UrlSigner(b"other" * 8).verify("GET", "/files/t/a", query, ("filename",))


async def test_cdn_urls_are_signed_locally(s3_server, tmp_path):
    settings = StorageSettings(
        storage_backend="s3",
        s3_endpoint_url=s3_server.url,
        s3_access_key_id="k",
        s3_secret_access_key="s",
        cdn_base_url="https://cdn.example.test",
        cdn_signing_key="cdn-token-key",
    )
    backend = S3Backend(settings)
    try:
        url = await backend.download_url("ten_1/ast_1", 300, "notes.pdf")
        assert url.startswith("https://cdn.example.test/ten_1/ast_1?")
        query = {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
        UrlSigner(b"cdn-token-key").verify("GET", "/ten_1/ast_1", query, ("filename",))
        assert backend.requests == 0
    finally:
        await backend.aclose()
