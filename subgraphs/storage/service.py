"""Uploads, completion checks, soft delete and restore: the rules, apart from GraphQL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.principal import Principal, tenant_of
from shared.db import Database, new_id, utcnow
from shared.domain_events import emit
from shared.errors import BadUserInput, Forbidden, NotFound
from subgraphs.storage import domain_events as de
from subgraphs.storage.backends import StorageBackend, StoredObject, UploadTarget
from subgraphs.storage.backends.base import UploadSpec
from subgraphs.storage.config import StorageSettings
from subgraphs.storage.kinds import RULES, AssetKind, content_matches
from subgraphs.storage.models import Asset
from subgraphs.storage.repository import AssetRepository

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
FILENAME = re.compile(r"^[^/\\\x00-\x1f\"]{1,255}$")


@dataclass(frozen=True)
class UploadRequest:
    kind: AssetKind
    content_type: str
    size: int
    checksum: str
    filename: str | None = None


def _checked(request: UploadRequest) -> UploadRequest:
    rule = RULES[request.kind]
    content_type = request.content_type.split(";", 1)[0].strip().lower()
    if content_type not in rule.content_types:
        raise BadUserInput(
            f"{request.kind.value} accepts {', '.join(sorted(rule.content_types))}",
            field="contentType",
            allowed=sorted(rule.content_types),
        )
    if not 1 <= request.size <= rule.max_size:
        raise BadUserInput(
            f"{request.kind.value} must be 1 to {rule.max_size} bytes", field="size", limit=rule.max_size
        )
    checksum = request.checksum.strip().lower()
    if not SHA256_HEX.match(checksum):
        raise BadUserInput("checksum must be the hex SHA-256 of the content", field="checksum")
    if request.filename is not None and not FILENAME.match(request.filename):
        raise BadUserInput("Invalid file name", field="filename")
    return UploadRequest(request.kind, content_type, request.size, checksum, request.filename)


def _owner(principal: Principal) -> str:
    tenant_of(principal)
    owner = principal.user_id or principal.api_key_id
    if not owner:
        raise Forbidden("Only a user or an API key owns an asset")
    return owner


async def create_upload(
    session: AsyncSession,
    principal: Principal,
    backend: StorageBackend,
    config: StorageSettings,
    request: UploadRequest,
) -> tuple[Asset, UploadTarget]:
    request = _checked(request)
    asset_id = new_id("ast")
    tenant_id = tenant_of(principal)
    ttl = config.storage_upload_ttl_seconds
    asset = Asset(
        id=asset_id,
        tenant_id=tenant_id,
        owner_id=_owner(principal),
        kind=request.kind.value,
        content_type=request.content_type,
        size=request.size,
        checksum=request.checksum,
        filename=request.filename,
        object_key=f"{tenant_id}/{asset_id}",
        upload_expires_at=utcnow() + timedelta(seconds=ttl),
    )
    AssetRepository(session, tenant_id).add(asset)
    await session.flush()
    emit(session, de.of(de.AssetUploadStarted, asset, _owner(principal)))
    spec = UploadSpec(
        key=asset.object_key,
        content_type=asset.content_type,
        size=asset.size,
        checksum=asset.checksum,
        max_size=RULES[request.kind].max_size,
    )
    return asset, await backend.presign_upload(spec, ttl)


def mismatches(asset: Asset, stored: StoredObject) -> list[str]:
    found = []
    if stored.size != asset.size:
        found.append("size")
    if stored.sha256 != asset.checksum:
        found.append("checksum")
    stored_type = (stored.content_type or "").split(";", 1)[0].strip().lower()
    if stored_type != asset.content_type or not content_matches(asset.content_type, stored.head):
        found.append("contentType")
    return found


async def complete_upload(
    session: AsyncSession, reading: Database, principal: Principal, backend: StorageBackend, asset_id: str
) -> Asset:
    """Checks the stored object against the declaration. A mismatch removes the object and
    leaves the asset pending (the client may upload again until the window closes).

    The object is inspected before `session` runs its first statement, i.e. before the write
    transaction begins: an S3 round trip must not hold SQLite's write lock (or a PostgreSQL
    transaction) open."""
    tenant_id = tenant_of(principal)
    async with reading.read() as read_session:
        declared = await AssetRepository(read_session, tenant_id).require(asset_id)
    if declared.owner_id != _owner(principal):
        raise Forbidden("Only the uploader completes an upload")
    if declared.status == "ready":
        return await AssetRepository(session, tenant_id).require(asset_id)
    if declared.upload_expires_at < utcnow():
        raise BadUserInput("The upload window has closed; create a new upload", field="id")
    stored = await backend.inspect(declared.object_key)
    if stored is None:
        raise BadUserInput("Nothing was uploaded for this asset", field="id")
    wrong = mismatches(declared, stored)
    if wrong:
        await backend.delete(declared.object_key)
        raise BadUserInput(
            "The uploaded file does not match its declaration; it was removed",
            field=wrong[0],
            mismatches=wrong,
        )
    asset = await AssetRepository(session, tenant_id).require(asset_id)
    if asset.status == "pending":  # a concurrent completion of the same upload may have won
        asset.status = "ready"
        asset.completed_at = asset.updated_at = utcnow()
        session.add(asset)
        await session.flush()
        emit(session, de.of(de.AssetCompleted, asset, _owner(principal)))
    return asset


async def delete_asset(session: AsyncSession, principal: Principal, asset: Asset) -> Asset:
    await AssetRepository(session, tenant_of(principal)).soft_delete(asset, by=_owner(principal))
    emit(session, de.of(de.AssetDeleted, asset, _owner(principal)))
    return asset


async def deleted_asset(session: AsyncSession, tenant_id: str, asset_id: str) -> Asset:
    asset = await AssetRepository(session, tenant_id).get(asset_id, include_deleted=True)
    if asset is None or asset.deleted_at is None:
        raise NotFound("No deleted asset with this id", id=asset_id)
    return asset


async def restore_asset(session: AsyncSession, principal: Principal, asset: Asset) -> Asset:
    await AssetRepository(session, tenant_of(principal)).restore(asset)
    emit(session, de.of(de.AssetRestored, asset, _owner(principal)))
    return asset
