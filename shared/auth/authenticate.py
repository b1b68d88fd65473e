"""Turns an Authorization value (HTTP header or WebSocket connection_init) into a Principal."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from weakref import WeakSet

from redis.asyncio import Redis

from shared.auth.principal import ANONYMOUS, Principal
from shared.auth.tokens import TokenVerifier
from shared.errors import Unauthenticated

API_KEY_PREFIX = "sak_"
ApiKeyResolver = Callable[[str], Awaitable[Principal]]


def revoked_session_key(session_id: str) -> str:
    return f"auth:revoked-session:{session_id}"


# How stale a "not revoked" answer may be for a live subscription: a logout ends the
# subscriptions of that session within this, at their next event.
REVOCATION_RECHECK_SECONDS = 5.0
# The same for requests: one Redis round trip per session every this many seconds, not one per
# request. A revocation made in this process (`note_revoked`) is seen at once; one made in
# another process within this.
REQUEST_REVOCATION_CACHE_SECONDS = 2.0

_authenticators: WeakSet[Authenticator] = WeakSet()


def forget_live_sessions() -> None:
    """Every authenticator of this process asks Redis on the next request of any session."""
    for authenticator in list(_authenticators):
        authenticator._request_checked.clear()


def note_revoked(session_id: str) -> None:
    """Every authenticator of this process forgets that `session_id` was live for requests."""
    for authenticator in list(_authenticators):
        authenticator.forget(session_id)


class Authenticator:
    def __init__(
        self,
        verifier: TokenVerifier,
        redis: Redis,
        api_keys: ApiKeyResolver | None = None,
    ) -> None:
        self.verifier = verifier
        self.redis = redis
        self.api_keys = api_keys
        self._session_checked: dict[str, float] = {}
        """Session id -> when it was last seen not revoked (monotonic), for subscriptions."""
        self._request_checked: dict[str, float] = {}
        """The same for requests."""
        _authenticators.add(self)

    def forget(self, session_id: str) -> None:
        """The next request of the session asks Redis. (Its subscriptions keep their own
        schedule: they deliver the revocation event, then end.)"""
        self._request_checked.pop(session_id, None)

    async def _revoked(self, session_id: str) -> bool:
        now = time.monotonic()
        checked = self._request_checked.get(session_id)
        if checked is not None and now - checked < REQUEST_REVOCATION_CACHE_SECONDS:
            return False
        if await self.redis.exists(revoked_session_key(session_id)):
            self._request_checked.pop(session_id, None)
            return True
        if len(self._request_checked) > 100_000:
            self._request_checked.clear()
        self._request_checked[session_id] = now
        return False

    async def ensure_current(self, principal: Principal) -> None:
        """For long-lived operations (subscriptions) authenticated once, at connection_init:
        the token must not have expired since, nor its session been revoked. Redis is asked
        at most once per session every few seconds, however many subscriptions it has."""
        if principal.expires_at is not None and principal.expires_at <= time.time():
            raise Unauthenticated("Token expired: subscribe again with a fresh token (resume with `after`)")
        session = principal.session_id
        if session is None:
            return
        checked = self._session_checked.get(session)
        now = time.monotonic()
        if checked is not None and now - checked < REVOCATION_RECHECK_SECONDS:
            return
        if len(self._session_checked) > 100_000:
            self._session_checked.clear()
        # Marked before asking: the other subscriptions receiving this same event do not ask too.
        self._session_checked[session] = now
        try:
            revoked = await self.redis.exists(revoked_session_key(session))
        except BaseException:
            self._session_checked.pop(session, None)
            raise
        if revoked:
            self._session_checked.pop(session, None)
            raise Unauthenticated("Session revoked")

    async def authenticate(self, authorization: str | None, address: str | None = None) -> Principal:
        if not authorization:
            return ANONYMOUS.with_address(address)
        scheme, _, credential = authorization.strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() not in {"bearer", "apikey"} or not credential:
            raise Unauthenticated("Unsupported authorization scheme")
        if credential.startswith(API_KEY_PREFIX):
            if self.api_keys is None:
                raise Unauthenticated("API keys are not accepted here")
            return (await self.api_keys(credential)).with_address(address)
        if self.verifier.needs_keys(credential):
            await asyncio.to_thread(self.verifier.refresh_keys)  # JWKS over HTTP: off the event loop
        principal = self.verifier.verify(credential)
        if principal.session_id and await self._revoked(principal.session_id):
            raise Unauthenticated("Session revoked")
        return principal.with_address(address)
