"""The narrow internal call behind `User.spotify*` fields: the spotify subgraph presents the
user's own access token and gets that user's Spotify access token (never in the graph).
Access tokens are cached in Redis (encrypted) until shortly before they expire."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse

from shared.app import client_address
from shared.crypto import load_secret_box
from shared.errors import DomainError
from shared.runtime import SubgraphRuntime
from subgraphs.accounts.repository import SpotifyLinkRepository
from subgraphs.accounts.spotify_accounts import oauth

EARLY_EXPIRY_SECONDS = 60
FORCED_REFRESH_INTERVAL_SECONDS = 30


@dataclass(frozen=True)
class LinkedToken:
    spotify_user_id: str
    display_name: str | None
    country: str | None
    product: str | None
    offline: bool
    access_token: str | None


def _cache_key(user_id: str) -> str:
    return f"accounts:spotify-access:{user_id}"


async def _may_force_refresh(runtime: SubgraphRuntime, user_id: str) -> bool:
    """A caller whose token Spotify refused may ask for a new one, at most once per interval
    (a stuck client must not turn into a storm on Spotify's token endpoint)."""
    key = f"accounts:spotify-forced-refresh:{user_id}"
    return bool(await runtime.redis.set(key, "1", nx=True, ex=FORCED_REFRESH_INTERVAL_SECONDS))


async def token_for(
    runtime: SubgraphRuntime, user_id: str, tenant_id: str, *, refresh: bool = False
) -> LinkedToken | None:
    """The user's Spotify access token: cached, or refreshed from the stored refresh token.
    `refresh` drops the cached one first (Spotify answered 401 to it)."""
    box = load_secret_box(runtime.settings)
    async with runtime.db.read() as session:
        link = await SpotifyLinkRepository(session, tenant_id).for_user(user_id)
    if link is None:
        return None
    base = LinkedToken(
        link.spotify_user_id, link.display_name, link.country, link.product, link.is_sample, None
    )
    if link.is_sample:
        return base
    if refresh and await _may_force_refresh(runtime, user_id):
        await runtime.redis.delete(_cache_key(user_id))
    cached = await runtime.redis.get(_cache_key(user_id))
    if cached:
        return LinkedToken(**{**asdict(base), "access_token": box.decrypt(cached)})
    async with httpx.AsyncClient(timeout=10) as http:
        tokens = await oauth.refresh_access_token(
            runtime.config, box.decrypt(link.refresh_token_encrypted), http
        )
    ttl = max(tokens.expires_in - EARLY_EXPIRY_SECONDS, 1)
    await runtime.redis.set(_cache_key(user_id), box.encrypt(tokens.access_token), ex=ttl)
    if tokens.refresh_token and box.decrypt(link.refresh_token_encrypted) != tokens.refresh_token:
        async with runtime.db.write() as session:
            stored = await SpotifyLinkRepository(session, tenant_id).for_user(user_id)
            if stored is not None:
                stored.refresh_token_encrypted = box.encrypt(tokens.refresh_token)
                session.add(stored)
    return LinkedToken(**{**asdict(base), "access_token": tokens.access_token})


def internal_token_endpoint(runtime: SubgraphRuntime):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> JSONResponse:
        try:
            principal = await runtime.authenticator.authenticate(
                request.headers.get("authorization"), client_address(request)
            )
        except DomainError as error:
            return JSONResponse({"error": error.code.value}, status_code=401)
        if not principal.user_id or not principal.tenant_id or principal.kind != "user":
            return JSONResponse({"error": "UNAUTHENTICATED"}, status_code=401)
        refresh = request.query_params.get("refresh") == "1"
        linked = await token_for(runtime, principal.user_id, principal.tenant_id, refresh=refresh)
        if linked is None:
            return JSONResponse({"linked": False})
        return JSONResponse(
            {"linked": True, **asdict(linked)},
            headers={"Cache-Control": "no-store"},
        )

    return endpoint


__all__ = ["LinkedToken", "internal_token_endpoint", "token_for"]
