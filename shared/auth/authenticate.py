"""Turns an Authorization value (HTTP header or WebSocket connection_init) into a Principal."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from shared.auth.principal import ANONYMOUS, Principal
from shared.auth.tokens import TokenVerifier
from shared.errors import Unauthenticated

API_KEY_PREFIX = "sak_"
ApiKeyResolver = Callable[[str], Awaitable[Principal]]


def revoked_session_key(session_id: str) -> str:
    return f"auth:revoked-session:{session_id}"


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
        if principal.session_id and await self.redis.exists(revoked_session_key(principal.session_id)):
            raise Unauthenticated("Session revoked")
        return principal.with_address(address)
