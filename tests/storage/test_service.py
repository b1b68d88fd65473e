"""The storage upload rules called directly (no GraphQL), on a real session, against a
recording backend: what each kind accepts, the size, checksum and file-name limits, how a
declaration is normalised, and what completion checks. Nothing refused reaches the backend
or writes a row."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from shared.auth.principal import Principal
from shared.db import Database, utcnow
from shared.domain_events.models import OutboxEvent
from shared.errors import BadUserInput, DomainError, Forbidden, Unauthenticated
from shared.mutations import UnitOfWork
from subgraphs.storage import domain_events as de
from subgraphs.storage import service
from subgraphs.storage.backends import StoredObject, UploadTarget
from subgraphs.storage.backends.base import UploadSpec
from subgraphs.storage.config import StorageSettings
from subgraphs.storage.models import MB, RULES, Asset, AssetKind
from subgraphs.storage.service import content_matches
from tests.storage.conftest import PDF, PNG

CONFIG = StorageSettings()
TENANT = "tnt_storage_rules"
ALICE = Principal(kind="user", user_id="usr_alice", tenant_id=TENANT, roles=("member",))
BOB = Principal(kind="user", user_id="usr_bob", tenant_id=TENANT, roles=("member",))


@dataclass
class RecordingBackend:
    """Presigns without signing anything, serves `stored` to inspect, records deletes."""

    name: str = "recording"
    requests: int = 0
    stored: dict[str, StoredObject] = field(default_factory=dict)
    presigned: list[UploadSpec] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    async def presign_upload(self, spec: UploadSpec, ttl: int) -> UploadTarget:
        self.requests += 1
        self.presigned.append(spec)
        return UploadTarget(url=f"http://storage.test/{spec.key}", expires_at=ttl)

    async def inspect(self, key: str) -> StoredObject | None:
        self.requests += 1
        return self.stored.get(key)

    async def delete(self, key: str) -> None:
        self.requests += 1
        self.deleted.append(key)
        self.stored.pop(key, None)

    async def download_url(self, key: str, ttl: int, filename: str | None = None) -> str:
        return f"http://storage.test/{key}"

    async def aclose(self) -> None:
        return None


def _request(body: bytes = PNG, **overrides: Any) -> service.UploadRequest:
    fields: dict[str, Any] = {
        "kind": AssetKind.COVER_ART,
        "content_type": "image/png",
        "size": len(body),
        "checksum": hashlib.sha256(body).hexdigest(),
    }
    return service.UploadRequest(**(fields | overrides))


def _stored(body: bytes, content_type: str | None = "image/png") -> StoredObject:
    return StoredObject(len(body), content_type, hashlib.sha256(body).hexdigest(), body[:512])


async def _count(database: Database, model: Any, *where: Any) -> int:
    async with database.read() as session:
        return int(
            (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()
        )


async def _create(
    database: Database,
    backend: RecordingBackend,
    request: service.UploadRequest,
    principal: Principal = ALICE,
) -> Asset:
    async with database.write() as session:
        asset, _ = await service.create_upload(UnitOfWork(session), principal, backend, CONFIG, request)
    return asset


async def _complete(
    database: Database, backend: RecordingBackend, asset_id: str, principal: Principal = ALICE
) -> Asset:
    async with database.write() as session:
        return await service.complete_upload(UnitOfWork(session), database, principal, backend, asset_id)


# Declarations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"content_type": "image/gif"}, "contentType"),  # GIF is an IMAGE, not COVER_ART
        ({"kind": AssetKind.STEM, "content_type": "image/png"}, "contentType"),
        ({"content_type": "image/svg+xml"}, "contentType"),
        ({"size": 0}, "size"),
        ({"size": -1}, "size"),
        ({"size": 10 * MB + 1}, "size"),
        ({"checksum": "a" * 63}, "checksum"),
        ({"checksum": "g" * 64}, "checksum"),
        ({"checksum": hashlib.md5(PNG).hexdigest()}, "checksum"),
        ({"filename": "../cover.png"}, "filename"),
        ({"filename": "a\\b.png"}, "filename"),
        ({"filename": 'say "cheese".png'}, "filename"),
        ({"filename": "line\nbreak.png"}, "filename"),
        ({"filename": ""}, "filename"),
        ({"filename": "x" * 256}, "filename"),
    ],
)
async def test_a_refused_declaration_writes_nothing_and_calls_no_backend(database, overrides, field) -> None:
    backend = RecordingBackend()
    with pytest.raises(BadUserInput) as refused:
        await _create(database, backend, _request(**overrides))
    assert refused.value.extensions["field"] == field
    assert backend.requests == 0
    assert await _count(database, Asset) == 0
    assert await _count(database, OutboxEvent) == 0


async def test_the_size_refusal_names_the_limit_of_the_kind(database) -> None:
    for kind in AssetKind:
        content_type = sorted(RULES[kind].content_types)[0]
        request = _request(kind=kind, content_type=content_type, size=RULES[kind].max_size + 1)
        with pytest.raises(BadUserInput) as refused:
            await _create(database, RecordingBackend(), request)
        assert refused.value.extensions == {"field": "size", "limit": RULES[kind].max_size}


async def test_a_declaration_is_normalised_and_presigned_at_its_limits(database) -> None:
    backend = RecordingBackend()
    checksum = hashlib.sha256(PNG).hexdigest()
    asset = await _create(
        database,
        backend,
        _request(
            content_type=" Image/PNG; charset=binary ",
            checksum=f" {checksum.upper()} ",
            size=10 * MB,
            filename="x" * 251 + ".png",
        ),
    )
    assert (asset.content_type, asset.checksum, asset.size) == ("image/png", checksum, 10 * MB)
    assert (asset.status, asset.owner_id, asset.object_key) == (
        "pending",
        "usr_alice",
        f"{TENANT}/{asset.id}",
    )
    assert backend.presigned == [
        UploadSpec(
            key=asset.object_key, content_type="image/png", size=10 * MB, checksum=checksum, max_size=10 * MB
        )
    ]
    window = asset.upload_expires_at - utcnow()
    assert (
        timedelta(seconds=CONFIG.storage_upload_ttl_seconds - 60)
        < window
        <= timedelta(seconds=CONFIG.storage_upload_ttl_seconds)
    )
    async with database.read() as session:
        events = (await session.execute(select(col(OutboxEvent.type)))).scalars().all()
    assert events == [de.AssetUploadStarted.TYPE]


async def test_an_api_key_or_a_tenants_service_owns_its_uploads_and_nobody_else_uploads(database) -> None:
    """Which services may upload is Casbin's (only `service:analytics`, for its reports); the
    rule here is who owns what: a service acting for a tenant, never one acting for none."""
    key = Principal(kind="api_key", user_id=None, api_key_id="key_ci", tenant_id=TENANT, roles=("member",))
    assert (await _create(database, RecordingBackend(), _request(), key)).owner_id == "key_ci"
    service = Principal(kind="service", service="analytics", tenant_id=TENANT)
    assert (await _create(database, RecordingBackend(), _request(), service)).owner_id == "service:analytics"
    with pytest.raises(Forbidden):
        await _create(
            database, RecordingBackend(), _request(), Principal(kind="service", service="analytics")
        )
    with pytest.raises(Forbidden):
        await _create(database, RecordingBackend(), _request(), Principal(kind="user", user_id="usr_x"))
    with pytest.raises(Unauthenticated):
        await _create(database, RecordingBackend(), _request(), Principal(kind="anonymous"))
    assert await _count(database, Asset) == 2


# Completion ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "mismatches"),
    [
        (_stored(PNG[:-1]), ["size", "checksum"]),
        (_stored(PNG[:-1] + b"\x00"), ["checksum"]),
        (_stored(PNG, "image/jpeg"), ["contentType"]),
        (_stored(PNG, None), ["contentType"]),
        (StoredObject(len(PNG), "image/png", hashlib.sha256(PNG).hexdigest(), PDF[:512]), ["contentType"]),
    ],
    ids=["truncated", "altered", "other-type", "no-type", "pdf-bytes"],
)
async def test_a_mismatching_object_is_removed_and_the_asset_stays_pending(
    database, stored, mismatches
) -> None:
    backend = RecordingBackend()
    asset = await _create(database, backend, _request())
    backend.stored[asset.object_key] = stored
    with pytest.raises(BadUserInput) as refused:
        await _complete(database, backend, asset.id)
    assert refused.value.extensions == {"field": mismatches[0], "mismatches": mismatches}
    assert backend.deleted == [asset.object_key]
    assert await _count(database, Asset, col(Asset.status) == "pending") == 1
    # The window is still open: a corrected upload completes.
    backend.stored[asset.object_key] = _stored(PNG, "image/png; charset=binary")
    assert (await _complete(database, backend, asset.id)).status == "ready"


async def test_completion_is_the_uploaders_idempotent_and_within_the_window(database) -> None:
    backend = RecordingBackend()
    asset = await _create(database, backend, _request())
    with pytest.raises(BadUserInput, match="Nothing was uploaded"):
        await _complete(database, backend, asset.id)
    backend.stored[asset.object_key] = _stored(PNG)
    with pytest.raises(Forbidden):
        await _complete(database, backend, asset.id, BOB)
    assert (await _complete(database, backend, asset.id)).status == "ready"
    inspected = backend.requests
    assert (await _complete(database, backend, asset.id)).status == "ready"
    assert backend.requests == inspected  # a ready asset is not inspected again
    async with database.read() as session:
        completed = (
            await session.execute(select(func.count()).where(col(OutboxEvent.type) == de.AssetCompleted.TYPE))
        ).scalar_one()
    assert completed == 1

    late = await _create(database, backend, _request())
    backend.stored[late.object_key] = _stored(PNG)
    async with database.write() as session:
        row = await session.get(Asset, late.id)
        assert row is not None
        row.upload_expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
    with pytest.raises(BadUserInput) as refused:
        await _complete(database, backend, late.id)
    assert refused.value.extensions == {"field": "id"}
    assert backend.deleted == []


async def test_another_tenants_asset_is_not_found(database) -> None:
    backend = RecordingBackend()
    asset = await _create(database, backend, _request())
    stranger = Principal(kind="user", user_id="usr_alice", tenant_id="tnt_other", roles=("owner",))
    with pytest.raises(DomainError) as refused:
        await _complete(database, backend, asset.id, stranger)
    assert refused.value.code == "NOT_FOUND"
    assert backend.requests == 1  # the presign only


# Content sniffing ---------------------------------------------------------------------------


def test_text_has_no_signature_but_must_be_utf8_without_binary_magic() -> None:
    assert content_matches("text/plain", b"Lyrics, verse one")
    assert content_matches("text/markdown", "# Notes — é".encode()[:-1])  # a character cut at the end
    assert not content_matches("text/plain", b"\xff\xfe binary " + b"x" * 20)
    assert not content_matches("text/plain", PNG)
    assert not content_matches("application/pdf", PNG)
    assert content_matches("application/pdf", PDF)
