"""Storage's table, and what each kind of asset may be: content types, size limit, and
whether it is private (readable by its owner and tenant admins only)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, Index
from sqlmodel import Field

from shared.db.mixins import SoftDeleteMixin, TenantMixin, TimestampMixin, UTCDateTime

MB = 1024 * 1024


class AssetKind(enum.StrEnum):
    COVER_ART = "cover_art"
    AUDIO = "audio"
    STEM = "stem"
    DOCUMENT = "document"
    IMAGE = "image"
    REPORT = "report"


@dataclass(frozen=True)
class KindRule:
    content_types: frozenset[str]
    max_size: int
    private: bool = False


IMAGES = frozenset({"image/jpeg", "image/png", "image/webp"})
AUDIO = frozenset({"audio/mpeg", "audio/wav", "audio/flac", "audio/ogg", "audio/mp4"})
DOCUMENTS = frozenset({"application/pdf", "text/plain", "text/markdown"})
REPORTS = frozenset({"application/pdf", "image/png", "text/csv", "application/json"})

RULES: dict[AssetKind, KindRule] = {
    AssetKind.COVER_ART: KindRule(IMAGES, 10 * MB),
    AssetKind.IMAGE: KindRule(IMAGES | {"image/gif"}, 20 * MB),
    AssetKind.AUDIO: KindRule(AUDIO, 500 * MB),
    AssetKind.STEM: KindRule(AUDIO, 500 * MB, private=True),
    AssetKind.DOCUMENT: KindRule(DOCUMENTS, 50 * MB, private=True),
    AssetKind.REPORT: KindRule(REPORTS, 50 * MB),
}

SNIFF_BYTES = 512
"""How much of a stored object the completion check reads to tell its type."""


class Asset(TenantMixin, TimestampMixin, SoftDeleteMixin, table=True):
    """A stored file's metadata. The bytes live in the backend under `object_key`; a row is
    `pending` from createUpload until completeUpload has checked what was stored."""

    __tablename__ = "storage_asset"
    __table_args__ = (
        Index("ix_storage_asset_status_upload_expires_at", "status", "upload_expires_at"),
        Index("ix_storage_asset_deleted_at", "deleted_at"),
    )

    id: str = Field(primary_key=True, max_length=64)
    owner_id: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=16)
    content_type: str = Field(max_length=128)
    size: int = Field(sa_type=BigInteger)
    checksum: str = Field(max_length=64)
    """Lowercase hex SHA-256 of the content, as declared by the uploader and then verified."""
    filename: str | None = Field(default=None, max_length=255)
    status: str = Field(default="pending", max_length=16)
    object_key: str = Field(max_length=255)
    upload_expires_at: datetime = Field(sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
