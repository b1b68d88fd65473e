"""What the storage subgraph runs with beyond the platform: its settings (local files, or S3
when STORAGE_BACKEND=s3; URL lifetimes; retention) and its backend."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field

from shared.config import Settings, SubgraphSettings
from shared.runtime import SubgraphRuntime
from subgraphs.storage.backends import StorageBackend, create_backend


class StorageSettings(SubgraphSettings):
    storage_backend: Literal["local", "s3"] = "local"
    storage_dir: Path | None = None
    """Local backend root; default: the data dir's `storage/`."""
    storage_public_url: str | None = None
    """Where clients reach the storage app's file routes; default: the subgraph host's /storage."""
    storage_signing_key: str | None = Field(default=None, repr=False)
    """HMAC key for local file URLs; default: derived from the encryption key ring."""
    storage_url_ttl_seconds: int = 15 * 60
    storage_upload_ttl_seconds: int = 30 * 60
    storage_purge_after_days: int = 30
    s3_bucket: str = "spotify-agent-assets"
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = Field(default=None, repr=False)
    s3_secret_access_key: str | None = Field(default=None, repr=False)
    s3_server_side_encryption: str = "AES256"
    cdn_base_url: str | None = None
    """When set, asset URLs point at this CDN, signed with `cdn_signing_key` (token auth)."""
    cdn_signing_key: str | None = Field(default=None, repr=False)

    def root(self, platform: Settings) -> Path:
        return self.storage_dir or platform.data_dir / "storage"

    def public_url(self, platform: Settings) -> str:
        return self.storage_public_url or f"{platform.subgraph_base_url}/storage"


@dataclass
class StorageServices:
    backend: StorageBackend


def build_services(runtime: SubgraphRuntime[StorageSettings, None]) -> StorageServices:
    return StorageServices(backend=create_backend(runtime.settings, runtime.config))
