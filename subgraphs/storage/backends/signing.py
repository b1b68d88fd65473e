"""HMAC-signed, expiring URLs: the local backend's file routes and CDN token auth. The
signature covers the method, the path, the expiry and every signed parameter, so changing
any of them (or waiting) invalidates the URL. Computed locally: no network call."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from urllib.parse import quote, urlencode


class SignatureError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UrlSigner:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _signature(self, method: str, path: str, expires: int, params: Mapping[str, str]) -> str:
        canonical = "\n".join(
            [method.upper(), path, str(expires), *(f"{k}={params[k]}" for k in sorted(params))]
        )
        return hmac.new(self._key, canonical.encode(), hashlib.sha256).hexdigest()

    def sign(
        self, base_url: str, method: str, path: str, ttl: int, params: Mapping[str, str] | None = None
    ) -> tuple[str, int]:
        """Returns (url, expires at as a Unix time)."""
        params = dict(params or {})
        expires = int(time.time()) + ttl
        signature = self._signature(method, path, expires, params)
        query = urlencode({**params, "expires": expires, "signature": signature})
        return f"{base_url}{quote(path)}?{query}", expires

    def verify(self, method: str, path: str, query: Mapping[str, str], signed: tuple[str, ...] = ()) -> None:
        try:
            expires = int(query["expires"])
            given = query["signature"]
        except (KeyError, ValueError) as exc:
            raise SignatureError("missing signature") from exc
        params = {name: query[name] for name in signed if name in query}
        if not hmac.compare_digest(given, self._signature(method, path, expires, params)):
            raise SignatureError("bad signature")
        if expires < time.time():
            raise SignatureError("expired")
