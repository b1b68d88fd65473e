"""Access tokens: RS256 only, with key id, issuer and audience checked on every verify."""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from jose import jwt
from jose.exceptions import ExpiredSignatureError, JOSEError

from shared.auth.keys import SigningKey, public_key_objects
from shared.auth.principal import Principal
from shared.auth.service_identity import SERVICE_TOKEN_TYPE, SUBJECT_PREFIX, service_principal
from shared.errors import Unauthenticated

ALGORITHM = "RS256"


def issue_access_token(
    key: SigningKey,
    *,
    issuer: str,
    audience: str,
    ttl_seconds: int,
    user_id: str,
    tenant_id: str,
    roles: Iterable[str],
    consents: Iterable[str],
    session_id: str,
    scopes: Iterable[str] = ("*",),
    now: float | None = None,
) -> str:
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": user_id,
        "tid": tenant_id,
        "roles": sorted(roles),
        "scp": sorted(scopes),
        "cns": sorted(consents),
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl_seconds,
        "jti": uuid.uuid4().hex,
        "sid": session_id,
        "typ": "access",
    }
    return jwt.encode(claims, key.private_pem.decode(), algorithm=ALGORITHM, headers={"kid": key.kid})


JWKS_REFRESH_INTERVAL_SECONDS = 30


class TokenVerifier:
    """Verifies access tokens against a JWKS. Verified tokens are memoised until expiry
    (bounded LRU) so a client's repeated requests cost one signature check."""

    def __init__(
        self,
        jwks_provider: Callable[[], dict[str, Any]],
        *,
        issuer: str,
        audience: str,
        cache_size: int = 4096,
    ) -> None:
        self._jwks_provider = jwks_provider
        self._keys: dict[str, Any] = {}
        self.issuer = issuer
        self.audience = audience
        self._cache: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._cache_size = cache_size
        self._next_refresh = 0.0

    def needs_keys(self, token: str) -> bool:
        """Whether verifying `token` would fetch the JWKS first (an unknown key id) and a
        fetch is due: callers on an event loop run `refresh_keys` in a thread then."""
        if token in self._cache:
            return False
        try:
            kid = str(jwt.get_unverified_header(token).get("kid", ""))
        except JOSEError:
            return False
        return kid not in self._keys and time.monotonic() >= self._next_refresh

    def refresh_keys(self) -> None:
        """Fetches the JWKS (blocking). At most once per REFRESH_INTERVAL: tokens naming
        made-up key ids must not turn into a fetch each."""
        if time.monotonic() < self._next_refresh and self._keys:
            return
        self._next_refresh = time.monotonic() + JWKS_REFRESH_INTERVAL_SECONDS
        self._keys = public_key_objects(self._jwks_provider())

    def _key(self, kid: str) -> Any:
        if kid not in self._keys:
            self.refresh_keys()
        if kid not in self._keys:
            raise Unauthenticated("Unknown signing key")
        return self._keys[kid]

    def verify(self, token: str) -> Principal:
        now = time.time()
        cached = self._cache.get(token)
        if cached is not None:
            if cached[0] > now:
                self._cache.move_to_end(token)
                return cached[1]
            del self._cache[token]
        try:
            header = jwt.get_unverified_header(token)
        except JOSEError as exc:
            raise Unauthenticated("Malformed token") from exc
        if header.get("alg") != ALGORITHM:
            raise Unauthenticated("Token algorithm not accepted")
        try:
            claims = jwt.decode(
                token,
                self._key(str(header.get("kid", ""))),
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require_exp": True, "require_iat": True, "require_sub": True},
            )
        except ExpiredSignatureError as exc:
            raise Unauthenticated("Token expired") from exc
        except JOSEError as exc:
            raise Unauthenticated("Invalid token") from exc
        if claims.get("typ") == SERVICE_TOKEN_TYPE:
            principal = service_principal(claims)
        elif claims.get("typ") != "access" or str(claims["sub"]).startswith(SUBJECT_PREFIX):
            raise Unauthenticated("Not an access token")  # a user can never pass for a service
        else:
            principal = self._user(claims)
        self._cache[token] = (float(claims["exp"]), principal)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return principal

    def _user(self, claims: dict[str, Any]) -> Principal:
        return Principal(
            kind="user",
            user_id=claims["sub"],
            tenant_id=claims.get("tid"),
            roles=tuple(claims.get("roles", ())),
            scopes=frozenset(claims.get("scp", ())),
            consents=frozenset(claims.get("cns", ())),
            token_id=claims.get("jti"),
            session_id=claims.get("sid"),
            expires_at=float(claims["exp"]),
        )
