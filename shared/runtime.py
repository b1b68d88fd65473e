"""Process-level services of one subgraph: settings, database, Redis, policies, identity,
and the subgraph's own typed services."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
from redis.asyncio import Redis

from shared.auth.authenticate import ApiKeyResolver, Authenticator
from shared.auth.keys import SigningKey, jwks, load_signing_keys
from shared.auth.tokens import TokenVerifier
from shared.config import Settings
from shared.db.engine import Database
from shared.permissions.enforcer import PolicyEngine
from shared.redis import create_redis

ConfigT = TypeVar("ConfigT")
ServicesT = TypeVar("ServicesT")


@dataclass
class NoServices:
    """The services of a subgraph that needs none beyond the platform's."""


@dataclass
class NoSettings:
    """The settings of a subgraph that reads none beyond the platform's."""


@dataclass
class SubgraphRuntime(Generic[ConfigT, ServicesT]):
    name: str
    settings: Settings
    """The platform's settings (database, Redis, keys, host, limits)."""
    config: ConfigT
    """This subgraph's own settings (`subgraphs/<name>/config.py`)."""
    db: Database
    redis: Redis
    policies: PolicyEngine
    authenticator: Authenticator
    services: ServicesT
    """What this subgraph needs beyond the platform (catalogue client, stream hub, ...),
    typed by the subgraph and built by its declaration."""
    redis_url: str = ""
    signing_key: SigningKey | None = None
    """The key that signs new tokens (accounts), the first of `key_ring`."""
    key_ring: list[SigningKey] = field(default_factory=list)
    """Every key whose tokens are still accepted: what the JWKS publishes."""
    schema: Any = None
    """The subgraph's executable schema, built once with the runtime."""

    async def close_services(self) -> None:
        """Closes every service that has an `aclose` (clients, pools, hubs)."""
        if not dataclasses.is_dataclass(self.services):
            return
        for entry in dataclasses.fields(self.services):
            closer = getattr(getattr(self.services, entry.name), "aclose", None)
            if closer is not None:
                await closer()

    async def close(self) -> None:
        await self.close_services()
        await self.redis.aclose()
        await self.db.dispose()


def _jwks_provider(settings: Settings, ring: list[SigningKey]) -> Callable[[], dict[str, Any]]:
    if settings.jwks_url:
        url = settings.jwks_url
        return lambda: httpx.get(url, timeout=5).raise_for_status().json()
    if not ring:
        raise RuntimeError("no JWKS_URL and no local signing key")
    return lambda: jwks(ring)


def build_runtime(
    name: str,
    settings: Settings,
    *,
    policy_files: Iterable[Path],
    redis_url: str,
    database: Database | None = None,
    api_keys: ApiKeyResolver | None = None,
    signs_tokens: bool = False,
    policy_defaults: Iterable[list[str]] = (),
) -> SubgraphRuntime[None, None]:
    """The platform part of a runtime; `Subgraph.runtime` adds the subgraph's own parts."""
    ring = load_signing_keys(settings) if signs_tokens or not settings.jwks_url else []
    verifier = TokenVerifier(
        _jwks_provider(settings, ring), issuer=settings.jwt_issuer, audience=settings.jwt_audience
    )
    redis = create_redis(redis_url)
    return SubgraphRuntime(
        name=name,
        settings=settings,
        config=None,
        db=database or Database(settings.resolved_database_url),
        redis=redis,
        policies=PolicyEngine(policy_files, policy_defaults),
        authenticator=Authenticator(verifier, redis, api_keys),
        services=None,
        redis_url=redis_url,
        signing_key=ring[0] if ring else None,
        key_ring=ring,
    )
