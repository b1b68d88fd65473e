"""A local stand-in for Spotify's accounts service and Web API: replays responses of the
real API's shape and records what it was sent."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ME = {
    "id": "lunavega.music",
    "display_name": "Luna Vega",
    "country": "ES",
    "product": "premium",
    "type": "user",
    "uri": "spotify:user:lunavega.music",
    "href": "https://api.spotify.com/v1/users/lunavega.music",
    "external_urls": {"spotify": "https://open.spotify.com/user/lunavega.music"},
    "followers": {"href": None, "total": 12077},
    "images": [],
}


@dataclass
class SpotifyReplay:
    """`codes` maps an authorization code to the PKCE challenge it was issued for."""

    codes: dict[str, str] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    refresh_returns_new_token: bool = True

    def app(self) -> Starlette:
        async def token(request: Request) -> JSONResponse:
            form = {key: values[0] for key, values in parse_qs((await request.body()).decode()).items()}
            self.requests.append(
                {"path": "/api/token", "form": form, "auth": request.headers.get("authorization")}
            )
            if form.get("grant_type") == "authorization_code":
                challenge = self.codes.pop(str(form.get("code")), None)
                verifier = str(form.get("code_verifier", ""))
                computed = (
                    base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                )
                if challenge is None or challenge != computed:
                    return JSONResponse(
                        {"error": "invalid_grant", "error_description": "Invalid authorization code"},
                        status_code=400,
                    )
                return JSONResponse(
                    {
                        "access_token": "BQD-access-1",
                        "token_type": "Bearer",
                        "scope": "user-read-private user-top-read",
                        "expires_in": 3600,
                        "refresh_token": "AQD-refresh-1",
                    }
                )
            if form.get("grant_type") == "refresh_token":
                body = {
                    "access_token": "BQD-access-2",
                    "token_type": "Bearer",
                    "scope": "user-read-private",
                    "expires_in": 3600,
                }
                if self.refresh_returns_new_token:
                    body["refresh_token"] = "AQD-refresh-2"
                return JSONResponse(body)
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)

        async def me(request: Request) -> JSONResponse:
            self.requests.append({"path": "/v1/me", "auth": request.headers.get("authorization")})
            if request.headers.get("authorization") != "Bearer BQD-access-1":
                return JSONResponse(
                    {"error": {"status": 401, "message": "Invalid access token"}}, status_code=401
                )
            return JSONResponse(ME)

        return Starlette(routes=[Route("/api/token", token, methods=["POST"]), Route("/v1/me", me)])
