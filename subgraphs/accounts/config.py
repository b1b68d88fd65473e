"""What the accounts subgraph runs with beyond the platform: its settings (token lifetimes,
sign-in limits, the Spotify app it links accounts through) and its services."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from shared.config import SubgraphSettings

HEARTBEAT_SECONDS = 15.0


class AccountsSettings(SubgraphSettings):
    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    password_min_length: int = 10
    login_attempts_per_account: int = 5
    login_attempts_per_address: int = 20
    login_window_seconds: int = 300

    spotify_client_id: str | None = None
    """The Spotify app users link their accounts to; unset: the offline sample account."""
    spotify_client_secret: str | None = Field(default=None, repr=False)
    spotify_redirect_uri: str = "http://127.0.0.1:4000/spotify/callback"
    spotify_accounts_url: str = "https://accounts.spotify.com"
    spotify_api_url: str = "https://api.spotify.com/v1"


@dataclass
class AccountsServices:
    heartbeat_seconds: float = HEARTBEAT_SECONDS
    """How long `accountEvents` stays silent before it sends a heartbeat."""
