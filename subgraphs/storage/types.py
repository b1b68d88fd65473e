"""GraphQL types of storage: `Asset`, the entity other subgraphs refer to by id."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry
from strawberry.types import Info

from shared.context import RequestContext
from shared.errors import BadUserInput, Forbidden
from shared.schema import reference_only
from subgraphs.storage.access import can_read
from subgraphs.storage.backends import StorageBackend
from subgraphs.storage.config import StorageServices, StorageSettings
from subgraphs.storage.kinds import AssetKind
from subgraphs.storage.loaders import asset_loader
from subgraphs.storage.models import Asset as AssetRow

StorageInfo = Info[RequestContext[StorageSettings, StorageServices], None]
MIN_URL_TTL, MAX_URL_TTL = 60, 7 * 24 * 3600

strawberry.enum(AssetKind, description="What an asset holds (stems and documents are private).")


@strawberry.enum(description="Where an asset stands: waiting for its upload, or ready to read.")
class AssetStatus(enum.Enum):
    PENDING = "pending"
    READY = "ready"


def backend(info: StorageInfo) -> StorageBackend:
    storage: StorageBackend = info.context.runtime.services.backend
    return storage


@strawberry.federation.type(keys=reference_only(), description="A person with an account.")
class User:
    id: strawberry.ID


@strawberry.federation.type(keys=["id"], description="A stored file: cover art, audio, a stem, a document.")
class Asset:
    id: strawberry.ID
    kind: AssetKind
    content_type: str
    size: int = strawberry.field(description="Bytes.")
    checksum: str = strawberry.field(description="Hex SHA-256 of the content.")
    filename: str | None
    status: AssetStatus
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    deleted_at: datetime | None
    owner_id: strawberry.Private[str]
    object_key: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: AssetRow) -> Asset:
        return cls(
            id=strawberry.ID(row.id),
            kind=AssetKind(row.kind),
            content_type=row.content_type,
            size=row.size,
            checksum=row.checksum,
            filename=row.filename,
            status=AssetStatus(row.status),
            created_at=row.created_at,
            updated_at=row.updated_at,
            completed_at=row.completed_at,
            deleted_at=row.deleted_at,
            owner_id=row.owner_id,
            object_key=row.object_key,
        )

    @classmethod
    async def resolve_references(cls, info: StorageInfo, ids: list[str]) -> list[Asset | Exception | None]:
        rows = await asset_loader(info.context).load_many(ids)
        return [visible(info, row) for row in rows]

    @strawberry.field(description="Who uploaded it.")
    def owner(self) -> User:
        return User(id=strawberry.ID(self.owner_id))

    @strawberry.field(
        description="A signed URL to read the content, valid for `ttlSeconds` (null until ready)."
    )
    async def url(self, info: StorageInfo, ttl_seconds: int | None = None) -> str | None:
        ttl = info.context.runtime.config.storage_url_ttl_seconds if ttl_seconds is None else ttl_seconds
        if not MIN_URL_TTL <= ttl <= MAX_URL_TTL:
            raise BadUserInput(f"ttlSeconds must be {MIN_URL_TTL} to {MAX_URL_TTL}", field="ttlSeconds")
        if self.status is not AssetStatus.READY or self.deleted_at is not None:
            return None
        return await backend(info).download_url(self.object_key, ttl, self.filename)


def visible(info: StorageInfo, row: AssetRow | None) -> Asset | Exception | None:
    """An asset the caller may not read is an error at its place, not a silent gap."""
    if row is None:
        return None
    if not can_read(info.context, row):
        return Forbidden("This asset is private to its owner and the tenant's admins", id=row.id)
    return Asset.from_row(row)
