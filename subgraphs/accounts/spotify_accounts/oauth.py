"""Spotify's authorization-code flow with PKCE, and the offline sample accounts."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from shared.errors import BadUserInput
from subgraphs.accounts.config import AccountsSettings

SAMPLE_ACCOUNTS = Path(__file__).with_name("sample_spotify_accounts.json")


@dataclass(frozen=True)
class PendingAuthorization:
    url: str
    state: str
    code_verifier: str


@dataclass(frozen=True)
class SpotifyTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    scope: str


@dataclass(frozen=True)
class SpotifyProfile:
    id: str
    display_name: str | None
    country: str | None
    product: str | None


@dataclass(frozen=True)
class SampleAccount:
    profile: SpotifyProfile
    refresh_token: str


def code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_authorization(settings: AccountsSettings, scopes: Iterable[str]) -> PendingAuthorization:
    state = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(64)  # 86 characters: within PKCE's 43..128
    query = urlencode(
        {
            "client_id": settings.spotify_client_id,
            "response_type": "code",
            "redirect_uri": settings.spotify_redirect_uri,
            "state": state,
            "scope": " ".join(scopes),
            "code_challenge_method": "S256",
            "code_challenge": code_challenge(verifier),
        }
    )
    return PendingAuthorization(f"{settings.spotify_accounts_url}/authorize?{query}", state, verifier)


async def _token_request(
    settings: AccountsSettings, form: dict[str, str], http: httpx.AsyncClient
) -> dict[str, Any]:
    url = f"{settings.spotify_accounts_url}/api/token"
    if settings.spotify_client_secret:  # confidential client: HTTP Basic
        basic = httpx.BasicAuth(settings.spotify_client_id or "", settings.spotify_client_secret)
        response = await http.post(url, data=form, auth=basic)
    else:  # public client: PKCE alone, client id in the form
        response = await http.post(url, data={**form, "client_id": settings.spotify_client_id or ""})
    if response.status_code == 400:
        error = response.json().get("error", "invalid_request")
        raise BadUserInput(f"Spotify refused the authorization ({error})", field="code", spotifyError=error)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


async def exchange_code(
    settings: AccountsSettings, code: str, code_verifier: str, http: httpx.AsyncClient
) -> SpotifyTokens:
    body = await _token_request(
        settings,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": settings.spotify_redirect_uri,
            "code_verifier": code_verifier,
        },
        http,
    )
    return SpotifyTokens(
        body["access_token"], body["refresh_token"], int(body["expires_in"]), body.get("scope", "")
    )


async def refresh_access_token(
    settings: AccountsSettings, refresh_token: str, http: httpx.AsyncClient
) -> SpotifyTokens:
    body = await _token_request(
        settings, {"grant_type": "refresh_token", "refresh_token": refresh_token}, http
    )
    # Spotify may omit a new refresh token: the old one stays valid then.
    return SpotifyTokens(
        body["access_token"],
        body.get("refresh_token") or refresh_token,
        int(body["expires_in"]),
        body.get("scope", ""),
    )


async def fetch_profile(
    settings: AccountsSettings, access_token: str, http: httpx.AsyncClient
) -> SpotifyProfile:
    response = await http.get(
        f"{settings.spotify_api_url}/me", headers={"Authorization": f"Bearer {access_token}"}
    )
    response.raise_for_status()
    body = response.json()
    return SpotifyProfile(body["id"], body.get("display_name"), body.get("country"), body.get("product"))


@cache
def _samples() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(SAMPLE_ACCOUNTS.read_text())
    return data


def sample_account(seed: str) -> SampleAccount:
    """Offline mode: a deterministic sample account per user, with a marker token that no
    real Spotify would accept."""
    samples = _samples()
    chosen = samples[int(hashlib.sha256(seed.encode()).hexdigest(), 16) % len(samples)]
    profile = SpotifyProfile(
        chosen["id"], chosen.get("display_name"), chosen.get("country"), chosen.get("product")
    )
    return SampleAccount(profile, f"offline-sample:{chosen['id']}")
