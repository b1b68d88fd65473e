"""storage emits its domain events through real mutations: upload started, completed,
deleted, restored; never a signed URL."""

from __future__ import annotations

from tests.storage.conftest import PNG, sha256, storage  # noqa: F401
from tests.support.domain_events import assert_no_secrets, domain_stream
from tests.support.graphql import sign_up

DELETE = "mutation($id: ID!) { deleteAsset(id: $id) { asset { id } } }"
RESTORE = "mutation($id: ID!) { restoreAsset(id: $id) { asset { id } } }"


async def test_asset_lifecycle_emits_typed_events(storage):  # noqa: F811
    owner = await sign_up(storage.accounts)
    asset = await storage.upload(owner["token"], PNG, filename="cover.png")
    for mutation in (DELETE, RESTORE):
        body = await storage.gql(mutation, {"id": asset["id"]}, owner["token"])
        assert "errors" not in body, body

    events = await domain_stream(storage.runtime.redis, "storage")
    assert [event.type for event in events] == [
        "storage.asset.upload_started",
        "storage.asset.completed",
        "storage.asset.deleted",
        "storage.asset.restored",
    ]
    expected = {
        "asset_id": asset["id"],
        "owner_id": owner["user"]["id"],
        "kind": "cover_art",
        "content_type": "image/png",
        "size": len(PNG),
        "checksum": sha256(PNG),
        "filename": "cover.png",
    }
    assert all(event.payload == expected for event in events)
    assert all(event.actor_id == owner["user"]["id"] and event.tenant_id for event in events)
    raw = " ".join(str(fields) for _, fields in await storage.runtime.redis.xrange("events:storage"))
    assert "http" not in raw and "signature" not in raw.lower()  # no URL, signed or not
    await assert_no_secrets(storage.runtime.redis, "storage", [owner["token"], owner["refresh"]])
