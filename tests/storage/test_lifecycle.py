"""Soft delete and restore; the scheduled jobs that clean abandoned uploads and purge
assets deleted long ago (bytes and rows)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col

from shared.db import utcnow
from subgraphs.storage.models import Asset
from subgraphs.storage.tasks import clean_abandoned_uploads, purge_deleted_assets
from tests.storage.conftest import ASSET, PNG
from tests.support.graphql import codes, sign_up

DELETE = "mutation($id: ID!) { deleteAsset(id: $id) { asset { id deletedAt url } } }"
RESTORE = "mutation($id: ID!) { restoreAsset(id: $id) { asset { id deletedAt status url } } }"


async def _row(storage, asset_id: str) -> Asset | None:
    async with storage.runtime.db.read() as session:
        return await session.get(Asset, asset_id)


async def _age(storage, asset_id: str, **columns) -> None:
    async with storage.runtime.db.write() as session:
        await session.execute(update(Asset).where(col(Asset.id) == asset_id).values(**columns))


def _job_context(storage) -> dict:
    return {
        "db": storage.runtime.db,
        "settings": storage.runtime.settings,
        "subgraph_settings": {"storage": storage.runtime.config},
        "storage_backend": storage.store,
    }


async def test_soft_delete_hides_and_restore_brings_back(storage):
    owner = await sign_up(storage.accounts)
    cover = await storage.upload(owner["token"], PNG)
    deleted = await storage.gql(DELETE, {"id": cover["id"]}, owner["token"])
    assert deleted["data"]["deleteAsset"]["asset"]["url"] is None
    assert codes(await storage.gql(ASSET, {"id": cover["id"]}, owner["token"])) == ["NOT_FOUND"]
    assert codes(await storage.gql(DELETE, {"id": cover["id"]}, owner["token"])) == ["NOT_FOUND"]

    restored = await storage.gql(RESTORE, {"id": cover["id"]}, owner["token"])
    asset = restored["data"]["restoreAsset"]["asset"]
    assert (asset["deletedAt"], asset["status"]) == (None, "READY")
    assert (await storage.http("GET", asset["url"])).content == PNG
    assert codes(await storage.gql(RESTORE, {"id": cover["id"]}, owner["token"])) == ["NOT_FOUND"]


async def test_purge_removes_bytes_and_rows_of_long_deleted_assets_only(storage):
    owner = await sign_up(storage.accounts)
    old = await storage.upload(owner["token"], PNG)
    recent = await storage.upload(owner["token"], PNG)
    for asset in (old, recent):
        await storage.gql(DELETE, {"id": asset["id"]}, owner["token"])
    days = storage.runtime.config.storage_purge_after_days
    await _age(storage, old["id"], deleted_at=utcnow() - timedelta(days=days + 1))
    old_key = (await _row(storage, old["id"])).object_key

    assert await purge_deleted_assets(_job_context(storage)) == {"purged": 1}
    assert await _row(storage, old["id"]) is None
    assert await storage.store.inspect(old_key) is None
    assert (await _row(storage, recent["id"])).deleted_at is not None
    assert await purge_deleted_assets(_job_context(storage)) == {"purged": 0}


async def test_abandoned_uploads_are_cleaned(storage):
    owner = await sign_up(storage.accounts)
    abandoned = await storage.create_upload(owner["token"], PNG)
    assert (await storage.put(abandoned["upload"], PNG)).status_code == 200
    fresh = await storage.create_upload(owner["token"], PNG)
    done = await storage.upload(owner["token"], PNG)
    await _age(storage, abandoned["asset"]["id"], upload_expires_at=utcnow() - timedelta(hours=1))
    key = (await _row(storage, abandoned["asset"]["id"])).object_key
    assert await storage.store.inspect(key) is not None

    assert await clean_abandoned_uploads(_job_context(storage)) == {"removed": 1}
    assert await _row(storage, abandoned["asset"]["id"]) is None
    assert await storage.store.inspect(key) is None
    assert (await _row(storage, fresh["asset"]["id"])).status == "pending"  # its window is still open
    assert (await _row(storage, done["id"])).status == "ready"


async def test_completion_after_the_window_closed_is_refused(storage):
    owner = await sign_up(storage.accounts)
    late = await storage.create_upload(owner["token"], PNG)
    assert (await storage.put(late["upload"], PNG)).status_code == 200
    await _age(storage, late["asset"]["id"], upload_expires_at=utcnow() - timedelta(seconds=1))
    refused = await storage.gql(
        "mutation($id: ID!) { completeUpload(id: $id) { asset { id } } }",
        {"id": late["asset"]["id"]},
        owner["token"],
    )
    assert codes(refused) == ["BAD_USER_INPUT"]
    assert (await _row(storage, late["asset"]["id"])).status == "pending"
