"""Service tokens: how a subgraph calls other domains through the router as the platform.

    tokens = ServiceTokens.from_settings(settings)          # once per process
    headers = tokens.headers("search", ["collaboration:read"], tenant_id)
    await http.post(router_url, json={"query": ...}, headers=headers)

A token is RS256, signed by the first key of the platform's ring, `typ: service`, subject
`service:<name>`, with the scopes it needs and the tenant it acts for (none: non-tenant data
only). It lives 5 minutes and is reused until a minute before it expires. What it may read or
write is decided by Casbin lines for the subject `service:<name>` in each subgraph's policy."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from jose import jwt

from shared.auth.keys import SigningKey, load_signing_keys
from shared.auth.service_identity import (
    MAX_TTL_SECONDS,
    SERVICE_TOKEN_TYPE,
    SUBJECT_PREFIX,
    check_scopes,
    check_service,
)
from shared.auth.tokens import ALGORITHM
from shared.config import Settings

DEFAULT_TTL_SECONDS = 5 * 60
REFRESH_MARGIN_SECONDS = 60
"""A cached token is replaced this long before it expires (clock skew, slow calls)."""


def issue_service_token(
    key: SigningKey,
    *,
    issuer: str,
    audience: str,
    service: str,
    scopes: Iterable[str],
    tenant_id: str | None,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    now: float | None = None,
) -> str:
    if not 0 < ttl_seconds <= MAX_TTL_SECONDS:
        raise ValueError(f"a service token lives 1 to {MAX_TTL_SECONDS} seconds")
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": SUBJECT_PREFIX + check_service(service),
        "scp": list(check_scopes(scopes)),
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl_seconds,
        "jti": uuid.uuid4().hex,
        "typ": SERVICE_TOKEN_TYPE,
    }
    if tenant_id is not None:
        if not tenant_id:
            raise ValueError("tenant_id must be a tenant id or None")
        claims["tid"] = tenant_id
    return jwt.encode(claims, key.private_pem.decode(), algorithm=ALGORITHM, headers={"kid": key.kid})


class ServiceTokens:
    """Mints service tokens from the key ring and caches each (service, scopes, tenant)
    until shortly before it expires. Thread-safe; one per process is enough."""

    def __init__(
        self,
        ring: Sequence[SigningKey],
        issuer: str,
        audience: str,
        *,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
        max_cached: int = 10_000,
    ) -> None:
        if not ring:
            raise ValueError("service tokens need the platform's signing key (JWT_PRIVATE_KEY[_FILE])")
        if ttl_seconds <= REFRESH_MARGIN_SECONDS:
            raise ValueError(f"ttl_seconds must exceed the refresh margin ({REFRESH_MARGIN_SECONDS} s)")
        self._key = ring[0]
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._max_cached = max_cached
        self._cache: dict[tuple[str, tuple[str, ...], str | None], tuple[float, str]] = {}
        self._lock = threading.Lock()
        self.minted = 0

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> ServiceTokens:
        return cls(load_signing_keys(settings), settings.jwt_issuer, settings.jwt_audience, **kwargs)

    def token(self, service: str, scopes: Iterable[str], tenant_id: str | None = None) -> str:
        """A valid token for at least REFRESH_MARGIN_SECONDS more."""
        key = (check_service(service), check_scopes(scopes), tenant_id)
        now = self._clock()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and cached[0] - REFRESH_MARGIN_SECONDS > now:
                return cached[1]
            token = issue_service_token(
                self._key,
                issuer=self.issuer,
                audience=self.audience,
                service=key[0],
                scopes=key[1],
                tenant_id=tenant_id,
                ttl_seconds=self.ttl_seconds,
                now=now,
            )
            self.minted += 1
            if len(self._cache) >= self._max_cached:
                self._cache = {k: v for k, v in self._cache.items() if v[0] - REFRESH_MARGIN_SECONDS > now}
                if len(self._cache) >= self._max_cached:
                    self._cache.clear()
            self._cache[key] = (int(now) + self.ttl_seconds, token)
            return token

    def for_tenant(self, service: str, scopes: Iterable[str], tenant_id: str) -> str:
        """Acting for one tenant: reads and writes that tenant's data, as its policies allow."""
        if not tenant_id:
            raise ValueError("for_tenant needs a tenant id; use for_platform for non-tenant data")
        return self.token(service, scopes, tenant_id)

    def for_platform(self, service: str, scopes: Iterable[str]) -> str:
        """No tenant: the service may touch non-tenant data only (the catalogue)."""
        return self.token(service, scopes, None)

    def headers(self, service: str, scopes: Iterable[str], tenant_id: str | None = None) -> dict[str, str]:
        """The HTTP header to send to the router (or a subgraph)."""
        return {"Authorization": f"Bearer {self.token(service, scopes, tenant_id)}"}
