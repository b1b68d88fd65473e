"""Casbin on assets: readable within the tenant; stems and documents only by their owner and
the tenant's admins; managed by the owner or an admin; invisible to other tenants."""

from __future__ import annotations

from tests.storage.conftest import ASSET, PDF, PNG, WAV
from tests.support.graphql import codes, gql, sign_up
from tests.support.secrets import remember_secret

INVITE = "mutation($input: CreateInvitationInput!) { createInvitation(input: $input) { code } }"
ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) { ... on Asset { id kind url } } }"""
LIST = "query($kind: AssetKind) { assets(kind: $kind, first: 50) { edges { node { id kind } } } }"
DELETE = "mutation($id: ID!) { deleteAsset(id: $id) { asset { id deletedAt } } }"


async def _join(storage, owner, role: str, name: str) -> dict:
    invite = await gql(storage.accounts, INVITE, {"input": {"role": role}}, token=owner["token"])
    code = invite["data"]["createInvitation"]["code"]
    remember_secret(code)
    return await sign_up(storage.accounts, invitation_code=code, display_name=name)


async def test_private_kinds_are_for_their_owner_and_admins(storage):
    owner = await sign_up(storage.accounts)  # the tenant's owner: an admin and more
    author = await _join(storage, owner, "MEMBER", "Author")
    bandmate = await _join(storage, owner, "MEMBER", "Bandmate")
    stem = await storage.upload(author["token"], WAV, kind="STEM", contentType="audio/wav")
    notes = await storage.upload(author["token"], PDF, kind="DOCUMENT", contentType="application/pdf")
    cover = await storage.upload(author["token"], PNG)

    for private in (stem, notes):
        for reader in (author, owner):
            seen = await storage.gql(ASSET, {"id": private["id"]}, reader["token"])
            assert seen["data"]["asset"]["url"], seen
        refused = await storage.gql(ASSET, {"id": private["id"]}, bandmate["token"])
        assert codes(refused) == ["FORBIDDEN"]
        assert refused["data"]["asset"] is None
    shared = await storage.gql(ASSET, {"id": cover["id"]}, bandmate["token"])
    assert shared["data"]["asset"]["url"]

    listed = await storage.gql(LIST, {}, bandmate["token"])
    assert [edge["node"]["id"] for edge in listed["data"]["assets"]["edges"]] == [cover["id"]]
    listed = await storage.gql(LIST, {}, author["token"])
    assert {edge["node"]["id"] for edge in listed["data"]["assets"]["edges"]} == {
        cover["id"],
        stem["id"],
        notes["id"],
    }

    reps = [{"__typename": "Asset", "id": cover["id"]}, {"__typename": "Asset", "id": stem["id"]}]
    joined = await storage.gql(ENTITIES, {"r": reps}, bandmate["token"])
    assert joined["data"]["_entities"][0]["id"] == cover["id"]
    assert joined["data"]["_entities"][1] is None
    assert codes(joined) == ["FORBIDDEN"]
    assert joined["errors"][0]["path"] == ["_entities", 1]


async def test_other_tenants_and_viewers(storage):
    owner = await sign_up(storage.accounts)
    cover = await storage.upload(owner["token"], PNG)
    outsider = await sign_up(storage.accounts, tenant_name="Other Label")
    assert codes(await storage.gql(ASSET, {"id": cover["id"]}, outsider["token"])) == ["NOT_FOUND"]
    reps = [{"__typename": "Asset", "id": cover["id"]}]
    assert (await storage.gql(ENTITIES, {"r": reps}, outsider["token"]))["data"]["_entities"] == [None]
    assert codes(await storage.gql(DELETE, {"id": cover["id"]}, outsider["token"])) == ["NOT_FOUND"]

    viewer = await _join(storage, owner, "VIEWER", "Viewer")
    assert (await storage.gql(ASSET, {"id": cover["id"]}, viewer["token"]))["data"]["asset"]["url"]
    body = {"kind": "COVER_ART", "contentType": "image/png", "size": 10, "checksum": "0" * 64}
    refused = await storage.gql(
        "mutation($i: CreateUploadInput!) { createUpload(input: $i) { asset { id } } }",
        {"i": body},
        viewer["token"],
    )
    assert codes(refused) == ["FORBIDDEN"]


async def test_only_the_owner_or_an_admin_deletes(storage):
    owner = await sign_up(storage.accounts)
    author = await _join(storage, owner, "MEMBER", "Author")
    bandmate = await _join(storage, owner, "MEMBER", "Bandmate")
    cover = await storage.upload(author["token"], PNG)
    assert codes(await storage.gql(DELETE, {"id": cover["id"]}, bandmate["token"])) == ["FORBIDDEN"]
    assert (await storage.gql(ASSET, {"id": cover["id"]}, bandmate["token"]))["data"]["asset"]["id"]
    deleted = await storage.gql(DELETE, {"id": cover["id"]}, owner["token"])
    assert deleted["data"]["deleteAsset"]["asset"]["deletedAt"]
