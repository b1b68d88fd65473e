"""Domain events of storage (on `events:storage`): assets declared, completed (verified and
ready), deleted and restored. Never a signed URL or an upload form: those grant access."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shared.domain_events import EventPayload
from subgraphs.storage.models import Asset


@dataclass(frozen=True, kw_only=True)
class AssetEvent(EventPayload):
    asset_id: str
    owner_id: str
    kind: str
    content_type: str
    size: int
    checksum: str
    filename: str | None


@dataclass(frozen=True, kw_only=True)
class AssetUploadStarted(AssetEvent):
    """createUpload: declared, bytes not yet checked (may never arrive)."""

    TYPE: ClassVar[str] = "storage.asset.upload_started"


@dataclass(frozen=True, kw_only=True)
class AssetCompleted(AssetEvent):
    """The stored bytes matched the declaration: the asset is ready."""

    TYPE: ClassVar[str] = "storage.asset.completed"


@dataclass(frozen=True, kw_only=True)
class AssetDeleted(AssetEvent):
    TYPE: ClassVar[str] = "storage.asset.deleted"


@dataclass(frozen=True, kw_only=True)
class AssetRestored(AssetEvent):
    TYPE: ClassVar[str] = "storage.asset.restored"


def of(event_type: type[AssetEvent], asset: Asset, actor_id: str | None) -> AssetEvent:
    return event_type(
        tenant_id=asset.tenant_id,
        actor_id=actor_id,
        asset_id=asset.id,
        owner_id=asset.owner_id,
        kind=asset.kind,
        content_type=asset.content_type,
        size=asset.size,
        checksum=asset.checksum,
        filename=asset.filename,
    )
