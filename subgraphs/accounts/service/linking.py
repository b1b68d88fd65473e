"""Linking a Spotify account: PKCE state kept in Redis for ten minutes, the refresh token
encrypted at rest. Offline (no SPOTIFY_CLIENT_ID) a sample account is attached."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.principal import Principal, acting_user
from shared.crypto import load_secret_box
from shared.db import new_id
from shared.errors import BadUserInput, Unauthenticated
from shared.runtime import SubgraphRuntime
from subgraphs.accounts.models import SpotifyLink
from subgraphs.accounts.repository import SpotifyLinkRepository
from subgraphs.accounts.spotify_accounts import oauth
from subgraphs.accounts.types import SpotifyAccount

STATE_TTL_SECONDS = 600
SCOPES = (
    "user-read-private",
    "user-read-email",
    "user-read-recently-played",
    "user-top-read",
    "playlist-read-private",
    "playlist-modify-private",
    "playlist-modify-public",
)


def _state_key(state: str) -> str:
    return f"accounts:spotify-state:{state}"


@dataclass(frozen=True)
class Started:
    url: str
    state: str
    offline: bool


async def start(runtime: SubgraphRuntime, principal: Principal) -> Started:
    if not principal.user_id:
        raise Unauthenticated("Authentication required")
    config = runtime.config
    if config.spotify_client_id:
        pending = oauth.new_authorization(config, SCOPES)
        url, state, verifier = pending.url, pending.state, pending.code_verifier
    else:
        state, verifier = secrets.token_urlsafe(24), ""
        url = f"{config.spotify_redirect_uri}?code=offline&state={state}"
    record = json.dumps({"user": principal.user_id, "verifier": verifier})
    await runtime.redis.set(_state_key(state), record, ex=STATE_TTL_SECONDS)
    return Started(url=url, state=state, offline=not config.spotify_client_id)


async def finish(
    session: AsyncSession, runtime: SubgraphRuntime, principal: Principal, code: str, state: str
) -> SpotifyAccount:
    tenant_id, user_id = acting_user(principal)
    raw = await runtime.redis.getdel(_state_key(state))
    pending = json.loads(raw) if raw else None
    if pending is None or pending["user"] != user_id:
        raise BadUserInput("Unknown or expired authorization state", field="state")
    config = runtime.config
    box = load_secret_box(runtime.settings)
    if config.spotify_client_id:
        async with httpx.AsyncClient(timeout=10) as http:
            tokens = await oauth.exchange_code(config, code, pending["verifier"], http)
            profile = await oauth.fetch_profile(config, tokens.access_token, http)
        refresh_token, scopes, is_sample = tokens.refresh_token, tokens.scope, False
    else:
        sample = oauth.sample_account(user_id)
        profile, refresh_token, scopes, is_sample = (
            sample.profile,
            sample.refresh_token,
            " ".join(SCOPES),
            True,
        )
    links = SpotifyLinkRepository(session, tenant_id)
    link = await links.for_user(user_id) or SpotifyLink(
        id=new_id("spl"),
        tenant_id=tenant_id,
        user_id=user_id,
        spotify_user_id="",
        refresh_token_encrypted="",
    )
    link.spotify_user_id = profile.id
    link.display_name = profile.display_name
    link.country = profile.country
    link.product = profile.product
    link.refresh_token_encrypted = box.encrypt(refresh_token)
    link.scopes = scopes or ""
    link.is_sample = is_sample
    links.add(link)
    await session.flush()
    return SpotifyAccount(
        spotify_user_id=link.spotify_user_id,
        display_name=link.display_name,
        country=link.country,
        product=link.product,
        is_sample=link.is_sample,
        linked_at=link.created_at,
    )
