"""Uploads, completion checks, soft delete and restore: the rules, apart from GraphQL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import puremagic

from shared.auth.principal import Principal, tenant_of
from shared.db import Database, new_id, utcnow
from shared.db.repository import changed_copy
from shared.errors import BadUserInput, Forbidden, NotFound
from shared.mutations import UnitOfWork
from subgraphs.storage import domain_events as de
from subgraphs.storage.backends import StorageBackend, StoredObject, UploadTarget
from subgraphs.storage.backends.base import UploadSpec
from subgraphs.storage.config import StorageSettings
from subgraphs.storage.models import RULES, Asset, AssetKind
from subgraphs.storage.repository import AssetRepository

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
FILENAME = re.compile(r"^[^/\\\x00-\x1f\"]{1,255}$")

# Names the sniffer reports for the types we accept.
_ALIASES = {
    "audio/wav": {"audio/wav", "audio/wave", "audio/x-wav"},
    "audio/mpeg": {"audio/mpeg", "audio/mp3"},
    "audio/mp4": {"audio/mp4", "audio/x-m4a", "video/mp4"},
    "audio/ogg": {"audio/ogg", "application/ogg"},
    "audio/flac": {"audio/flac", "audio/x-flac"},
}
_TEXT = {"text/plain", "text/markdown", "text/csv", "application/json"}


def content_matches(declared: str, head: bytes) -> bool:
    """Whether the first bytes of a file look like the declared type (a PNG called a PDF
    does not). Text has no signature: it must decode as UTF-8 and carry no binary magic."""
    try:
        found = {match.mime_type for match in puremagic.magic_string(head) if match.mime_type}
    except (puremagic.PureError, ValueError):
        found = set()
    if declared in _TEXT:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as error:
            if error.start < len(head) - 3:  # a multi-byte character cut at the end is fine
                return False
        return not found or found <= {"text/plain"}
    return bool(found & _ALIASES.get(declared, {declared}))


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
    """A user, an API key, or a service acting for the tenant (`service:<name>`: the files
    analytics renders) owns an asset."""
    tenant_of(principal)
    owner = principal.user_id or principal.api_key_id
    if not owner and principal.kind == "service" and principal.service:
        owner = f"service:{principal.service}"
    if not owner:
        raise Forbidden("Only a user, an API key or a service acting for a tenant owns an asset")
    return owner


async def create_upload(
    uow: UnitOfWork,
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
    uow.target_id = asset_id
    AssetRepository(uow.session, tenant_id).add(asset)
    await uow.session.flush()
    uow.emit(de.of(de.AssetUploadStarted, asset, _owner(principal)))
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
    uow: UnitOfWork, reading: Database, principal: Principal, backend: StorageBackend, asset_id: str
) -> Asset:
    """Checks the stored object against the declaration. A mismatch removes the object and
    leaves the asset pending (the client may upload again until the window closes).

    The object is inspected before `uow.session` runs its first statement, i.e. before the write
    transaction begins: an S3 round trip must not hold SQLite's write lock (or a PostgreSQL
    transaction) open."""
    uow.target_id = asset_id
    tenant_id = tenant_of(principal)
    session = uow.session
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
        uow.emit(de.of(de.AssetCompleted, asset, _owner(principal)))
    return asset


async def set_asset_deleted(uow: UnitOfWork, principal: Principal, asset: Asset, deleted: bool) -> Asset:
    """Soft-delete (restorable until purged), or restore a soft-deleted asset."""
    uow.target_id = asset.id
    by = _owner(principal)
    at = utcnow() if deleted else None
    if not await AssetRepository(uow.session, asset.tenant_id).set_deleted(
        asset.id, by if deleted else None, at
    ):
        raise NotFound("No deleted asset with this id" if not deleted else "Asset not found", id=asset.id)
    changed = changed_copy(asset, deleted_at=at, deleted_by=by if deleted else None, updated_at=utcnow())
    uow.emit(de.of(de.AssetDeleted if deleted else de.AssetRestored, changed, by))
    return changed
