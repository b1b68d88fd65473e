"""A local Spotify Web API for tests: serves the offline sample in the real API's shapes
and limits (ids per call, paging, nulls for unknown ids), counts requests, and plays
scripted faults (429 with Retry-After, 5xx, 401 for an expired token)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from subgraphs.spotify.catalogue.offline import load_sample

LIMITS = {"tracks": 50, "artists": 50, "albums": 20}
USER_TOKEN = "user-token-1"
"""The access token of the linked user (what accounts hands the spotify subgraph)."""


@dataclass
class Fault:
    path_prefix: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class SpotifyWebApi:
    faults: list[Fault] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    tokens_issued: int = 0
    expired_tokens: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        sample = load_sample()
        self.objects: dict[str, dict[str, dict[str, Any]]] = {
            kind: {item["id"]: item for item in sample[kind]}
            for kind in ("tracks", "artists", "albums", "playlists")
        }

    @property
    def current_token(self) -> str:
        return f"app-token-{self.tokens_issued}"

    def expire_current_token(self) -> None:
        self.expired_tokens.add(self.current_token)

    def _public(self, item: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in item.items() if key != "track_ids"}

    def _paging(self, request: Request, ids: list[str], kind: str, wrap: str | None = None) -> JSONResponse:
        limit = int(request.query_params.get("limit", 20))
        offset = int(request.query_params.get("offset", 0))
        chosen = [self._public(self.objects[kind][id]) for id in ids[offset : offset + limit]]
        items = [{wrap: item, "added_at": "2024-05-01T12:00:00Z"} for item in chosen] if wrap else chosen
        return JSONResponse(
            {
                "items": items,
                "total": len(ids),
                "limit": limit,
                "offset": offset,
                "next": None,
                "previous": None,
            }
        )

    def _me(self, request: Request, path: str) -> JSONResponse:
        """The linked user's library: every sample playlist, the first tracks as top and recent."""
        limit = int(request.query_params.get("limit", 20))
        offset = int(request.query_params.get("offset", 0))
        tracks = list(self.objects["tracks"].values())
        if path == "/me/playlists":
            playlists = list(self.objects["playlists"].values())
            items = [
                {**self._public(p), "tracks": {"href": p["href"] + "/tracks", "total": len(p["track_ids"])}}
                for p in playlists[offset : offset + limit]
            ]
            return JSONResponse({"items": items, "total": len(playlists), "limit": limit, "offset": offset})
        if path == "/me/top/tracks":
            return JSONResponse({"items": tracks[:limit], "total": len(tracks), "limit": limit, "offset": 0})
        plays = [
            {"track": track, "played_at": f"2026-11-20T10:{index:02d}:00.000Z", "context": None}
            for index, track in enumerate(tracks[:limit])
        ]
        return JSONResponse({"items": plays, "limit": limit, "cursors": None})

    def app(self) -> Starlette:
        async def token(request: Request) -> JSONResponse:
            self.requests["token"] += 1
            self.tokens_issued += 1
            return JSONResponse(
                {"access_token": self.current_token, "token_type": "Bearer", "expires_in": 3600}
            )

        async def api(request: Request) -> Response:
            path = request.url.path.removeprefix("/v1")
            for fault in list(self.faults):
                if path.startswith(fault.path_prefix):
                    self.faults.remove(fault)
                    self.requests["fault"] += 1
                    return JSONResponse(
                        {"error": {"status": fault.status, "message": "scripted"}},
                        status_code=fault.status,
                        headers=fault.headers,
                    )
            authorization = request.headers.get("authorization", "")
            token = authorization.removeprefix("Bearer ")
            if path.startswith("/me/"):
                if token != USER_TOKEN:
                    return JSONResponse(
                        {"error": {"status": 401, "message": "Invalid access token"}}, status_code=401
                    )
                self.requests[path.strip("/")] += 1
                return self._me(request, path)
            if not token.startswith("app-token-") or token in self.expired_tokens:
                return JSONResponse(
                    {"error": {"status": 401, "message": "The access token expired"}}, status_code=401
                )
            parts = path.strip("/").split("/")
            self.requests[
                parts[0] if len(parts) == 1 else f"{parts[0]}/{parts[2] if len(parts) > 2 else 'one'}"
            ] += 1
            if len(parts) == 1 and parts[0] in LIMITS:
                ids = request.query_params.get("ids", "").split(",")
                if len(ids) > LIMITS[parts[0]]:
                    return JSONResponse(
                        {"error": {"status": 400, "message": "Too many ids requested"}}, status_code=400
                    )
                found = self.objects[parts[0]]
                return JSONResponse(
                    {parts[0]: [self._public(found[id]) if id in found else None for id in ids]}
                )
            if parts[0] == "artists" and parts[2:] == ["albums"]:
                ids = [
                    a["id"]
                    for a in sorted(
                        self.objects["albums"].values(), key=lambda a: a["release_date"], reverse=True
                    )
                    if any(x["id"] == parts[1] for x in a["artists"])
                ]
                return self._paging(request, ids, "albums")
            if parts[0] == "artists" and parts[2:] == ["top-tracks"]:
                mine = [
                    t
                    for t in self.objects["tracks"].values()
                    if any(a["id"] == parts[1] for a in t["artists"])
                ]
                top = sorted(mine, key=lambda t: (-t["popularity"], t["id"]))[:10]
                return JSONResponse({"tracks": top})
            if parts[0] == "albums" and parts[2:] == ["tracks"]:
                return self._paging(request, self.objects["albums"][parts[1]]["track_ids"], "tracks")
            if parts[0] == "playlists":
                playlist = self.objects["playlists"].get(parts[1])
                if playlist is None:
                    return JSONResponse({"error": {"status": 404, "message": "Not found."}}, status_code=404)
                if parts[2:] in (["tracks"], ["items"]):  # `/items` (current) names it `item`
                    return self._paging(request, playlist["track_ids"], "tracks", wrap=parts[2].rstrip("s"))
                return JSONResponse(self._public(playlist))
            return JSONResponse({"error": {"status": 404, "message": "Service not found"}}, status_code=404)

        return Starlette(routes=[Route("/api/token", token, methods=["POST"]), Route("/v1/{path:path}", api)])
