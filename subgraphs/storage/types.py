"""GraphQL types of storage: `Asset`, the entity other subgraphs refer to by id."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from shared.context import RequestContext
from shared.errors import BadUserInput, Forbidden
from shared.references import User
from shared.schema import described, described_enum
from subgraphs.storage.access import can_read
from subgraphs.storage.backends import StorageBackend
from subgraphs.storage.config import StorageServices, StorageSettings
from subgraphs.storage.loaders import asset_loader
from subgraphs.storage.models import Asset as AssetRow
from subgraphs.storage.models import AssetKind

StorageInfo = Info[RequestContext[StorageSettings, StorageServices], None]
MIN_URL_TTL, MAX_URL_TTL = 60, 7 * 24 * 3600

described_enum(
    AssetKind,
    "What an asset holds (stems and documents are private).",
    {
        AssetKind.COVER_ART: "Cover art for a release or playlist: JPEG, PNG or WebP, up to 10 MB.",
        AssetKind.AUDIO: "A finished audio file: MP3, WAV, FLAC, Ogg or MP4 audio, up to 500 MB.",
        AssetKind.STEM: "One stem of a mix, formats as AUDIO; private to its owner and tenant admins.",
        AssetKind.DOCUMENT: "PDF, text or Markdown, up to 50 MB; private to its owner and tenant admins.",
        AssetKind.IMAGE: "Any other picture (press photos): JPEG, PNG, WebP or GIF, up to 20 MB.",
        AssetKind.REPORT: "An analytics report: PDF, PNG, CSV or JSON, up to 50 MB; the tenant reads it.",
    },
)


@strawberry.enum(description="Where an asset stands: waiting for its upload, or ready to read.")
class AssetStatus(enum.Enum):
    PENDING = described("pending", "Created; the bytes are not uploaded and checked yet (`completeUpload`).")
    READY = described("ready", "Uploaded and checked; `url` gives its content.")


def backend(info: StorageInfo) -> StorageBackend:
    storage: StorageBackend = info.context.runtime.services.backend
    return storage


@strawberry.federation.type(keys=["id"], description="A stored file: cover art, audio, a stem, a document.")
class Asset:
    id: strawberry.ID = strawberry.field(description="Storage asset id (opaque).")
    kind: AssetKind = strawberry.field(
        description="What the asset holds; decides allowed types, size limit and who may read it."
    )
    content_type: str = strawberry.field(
        description="MIME type declared at upload and checked against the bytes, e.g. `image/png`."
    )
    size: int = strawberry.field(description="Bytes.")
    checksum: str = strawberry.field(description="Hex SHA-256 of the content.")
    filename: str | None = strawberry.field(
        description="File name given at upload, used for downloads; null when none was given."
    )
    status: AssetStatus = strawberry.field(description="Whether the content is uploaded and checked.")
    created_at: datetime = strawberry.field(description="When the upload was started (UTC).")
    updated_at: datetime = strawberry.field(description="When the asset last changed (UTC).")
    completed_at: datetime | None = strawberry.field(
        description="When the upload was checked and became READY (UTC); null while PENDING."
    )
    deleted_at: datetime | None = strawberry.field(
        description="When it was soft-deleted (UTC); null unless deleted. Deleted assets have no `url`."
    )
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

    @strawberry.field(description="The user who uploaded it (joined from accounts).")
    def owner(self) -> User:
        return User(id=strawberry.ID(self.owner_id))

    @strawberry.field(
        description="A signed URL to read the content, valid for `ttlSeconds` (null until ready)."
    )
    async def url(
        self,
        info: StorageInfo,
        ttl_seconds: Annotated[
            int | None,
            strawberry.argument(
                description="Seconds the URL stays valid, 60 to 604800; null for the default (15 minutes)."
            ),
        ] = None,
    ) -> str | None:
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
