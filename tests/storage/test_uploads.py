"""Uploads end to end on both backends: declared, sent to the presigned URL, checked on
completion; a file that lies about itself is removed and the asset stays pending."""

from __future__ import annotations

from sqlalchemy import func, select

from subgraphs.storage.models import Asset
from tests.storage.conftest import ASSET, COMPLETE, CREATE_UPLOAD, PDF, PNG, sha256
from tests.support.graphql import codes, sign_up


async def _asset_count(database) -> int:
    async with database.read() as session:
        return int((await session.execute(select(func.count()).select_from(Asset))).scalar_one())


async def test_upload_complete_and_read_back(storage):
    owner = await sign_up(storage.accounts)
    created = await storage.create_upload(owner["token"], PNG, filename="cover.png")
    assert created["asset"]["status"] == "PENDING"
    assert created["upload"]["method"] == "PUT"
    pending = await storage.gql(ASSET, {"id": created["asset"]["id"]}, owner["token"])
    assert pending["data"]["asset"]["url"] is None  # nothing to read before completion

    assert (await storage.put(created["upload"], PNG)).status_code == 200
    done = await storage.gql(COMPLETE, {"id": created["asset"]["id"]}, owner["token"])
    asset = done["data"]["completeUpload"]["asset"]
    assert asset["status"] == "READY"
    assert (asset["size"], asset["checksum"], asset["owner"]["id"]) == (
        len(PNG),
        sha256(PNG),
        owner["user"]["id"],
    )

    fetched = await storage.http("GET", asset["url"])
    assert fetched.status_code == 200
    assert fetched.content == PNG
    assert fetched.headers["content-type"].startswith("image/png")
    again = await storage.gql(COMPLETE, {"id": asset["id"]}, owner["token"])
    assert again["data"]["completeUpload"]["asset"]["status"] == "READY"  # idempotent


async def test_a_file_that_is_not_what_it_claims_is_removed(storage):
    owner = await sign_up(storage.accounts)
    # Declared a PNG (and the header says so), but the bytes are a PDF.
    created = await storage.create_upload(owner["token"], PDF, contentType="image/png")
    assert (await storage.put(created["upload"], PDF)).status_code == 200
    refused = await storage.gql(COMPLETE, {"id": created["asset"]["id"]}, owner["token"])
    assert codes(refused) == ["BAD_USER_INPUT"]
    assert refused["errors"][0]["extensions"]["mismatches"] == ["contentType"]
    after = await storage.gql(ASSET, {"id": created["asset"]["id"]}, owner["token"])
    assert after["data"]["asset"]["status"] == "PENDING"
    assert await _stored(storage, created["asset"]["id"]) is None


async def _stored(storage, asset_id: str):
    async with storage.runtime.db.read() as session:
        row = await session.get(Asset, asset_id)
    return await storage.store.inspect(row.object_key)


async def test_lying_size_or_checksum_never_becomes_ready(storage):
    owner = await sign_up(storage.accounts)
    longer = PNG + b"trailing bytes the declaration did not mention"
    for declared, sent, mismatch in (
        (PNG, longer, "size"),
        (PNG, PNG[:-4] + b"\x00\x00\x00\x00", "checksum"),
    ):
        created = await storage.create_upload(owner["token"], declared)
        put = await storage.put(created["upload"], sent)
        if put.status_code != 200:
            # Real S3 refuses a body that breaks the signed length or checksum outright.
            assert put.status_code in (400, 403), put.text
        else:
            refused = await storage.gql(COMPLETE, {"id": created["asset"]["id"]}, owner["token"])
            assert codes(refused) == ["BAD_USER_INPUT"]
            assert mismatch in refused["errors"][0]["extensions"]["mismatches"]
            assert await _stored(storage, created["asset"]["id"]) is None
        state = await storage.gql(ASSET, {"id": created["asset"]["id"]}, owner["token"])
        assert state["data"]["asset"]["status"] == "PENDING"


async def test_completion_without_an_upload_and_by_someone_else(storage):
    owner = await sign_up(storage.accounts)
    created = await storage.create_upload(owner["token"], PNG)
    nothing = await storage.gql(COMPLETE, {"id": created["asset"]["id"]}, owner["token"])
    assert codes(nothing) == ["BAD_USER_INPUT"]
    stranger = await sign_up(storage.accounts)
    hidden = await storage.gql(COMPLETE, {"id": created["asset"]["id"]}, stranger["token"])
    assert codes(hidden) == ["NOT_FOUND"]  # another tenant's asset does not exist for them


async def test_bad_declarations_are_refused_and_create_nothing(storage, database):
    owner = await sign_up(storage.accounts)
    before = await _asset_count(database)
    base = {"kind": "COVER_ART", "contentType": "image/png", "size": 100, "checksum": sha256(b"x")}
    cases = [
        ({"contentType": "application/pdf"}, "contentType"),
        ({"contentType": "audio/mpeg"}, "contentType"),
        ({"size": 0}, "size"),
        ({"size": 11 * 1024 * 1024}, "size"),
        ({"kind": "DOCUMENT", "contentType": "text/html"}, "contentType"),
        ({"checksum": "not-a-digest"}, "checksum"),
        ({"filename": "../../etc/passwd"}, "filename"),
    ]
    for change, field in cases:
        body = await storage.gql(CREATE_UPLOAD, {"i": {**base, **change}}, owner["token"])
        assert codes(body) == ["BAD_USER_INPUT"], (change, body)
        assert body["errors"][0]["extensions"]["field"] == field
    invalid_kind = await storage.gql(CREATE_UPLOAD, {"i": {**base, "kind": "VIDEO"}}, owner["token"])
    assert codes(invalid_kind) == ["BAD_USER_INPUT"]
    assert await _asset_count(database) == before
    anonymous = await storage.gql(CREATE_UPLOAD, {"i": base})
    assert codes(anonymous) == ["UNAUTHENTICATED"]


async def test_the_stored_object_is_inspected_outside_the_write_transaction(storage, monkeypatch):
    """An S3 round trip must not hold SQLite's write lock or a PostgreSQL transaction."""
    owner = await sign_up(storage.accounts)
    created = await storage.create_upload(owner["token"], PNG)
    assert (await storage.put(created["upload"], PNG)).status_code == 200
    inspect = storage.store.inspect
    connections_held: list[int] = []

    async def watched_inspect(key: str):
        connections_held.append(storage.runtime.db.write_engine.pool.checkedout())
        return await inspect(key)

    monkeypatch.setattr(storage.store, "inspect", watched_inspect)
    done = await storage.gql(COMPLETE, {"id": created["asset"]["id"]}, owner["token"])
    assert done["data"]["completeUpload"]["asset"]["status"] == "READY"
    assert connections_held == [0]


async def test_an_upload_above_the_graphql_body_limit_goes_through_the_file_route(storage):
    owner = await sign_up(storage.accounts)
    body = PNG + bytes(3 * 1024 * 1024)  # 3 MiB: three times MAX_BODY_BYTES, within cover art's 10 MB
    asset = await storage.upload(owner["token"], body)
    assert asset["status"] == "READY" and asset["size"] == len(body)
