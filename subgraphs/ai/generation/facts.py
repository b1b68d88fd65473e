"""Grounding: the subject's real data, read through the platform's graph (the router) with a
service token acting for the requester's tenant, flattened into the `facts` the prompt and
the offline composer use. Each query touches one subgraph, so any endpoint that serves it
(the router, or that subgraph) answers it. What comes back is stored with the output."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx

from shared.errors import NotFound, Unavailable

SUBJECT_TYPES = ("artist", "track", "album", "playlist", "project")
OWNER = {
    "artist": "spotify",
    "track": "spotify",
    "album": "spotify",
    "playlist": "spotify",
    "project": "collaboration",
}

ARTIST = """query AiArtistFacts($id: ID!) { artist(id: $id) {
  name genres followers popularity
  topTracks { name album { name releaseDate } }
  albums(first: 10) { edges { node { name releaseDate totalTracks albumType } } } } }"""
TRACK = """query AiTrackFacts($id: ID!) { track(id: $id) {
  name durationMs popularity explicit
  artists { name genres } album { name releaseDate albumType } } }"""
ALBUM = """query AiAlbumFacts($id: ID!) { album(id: $id) {
  name releaseDate totalTracks albumType label
  artists { name genres } tracks(first: 50) { edges { node { name } } } } }"""
PLAYLIST = """query AiPlaylistFacts($id: ID!) { playlist(id: $id) {
  name description ownerName followers
  tracks(first: 30) { edges { node { name artists { name genres } } } } } }"""
PROJECT = """query AiProjectFacts($id: ID!) { project(id: $id) { title type content } }"""
MAX_PROJECT_TRACKS = 20
"""Tracks of a project named in its facts (one aliased field each: within the alias limit)."""


def track_names_query(count: int) -> str:
    variables = ", ".join(f"$t{n}: ID!" for n in range(count))
    fields = " ".join(f"t{n}: track(id: $t{n}) {{ name artists {{ name genres }} }}" for n in range(count))
    return f"query AiProjectTracks({variables}) {{ {fields} }}"


QUERIES = {"artist": ARTIST, "track": TRACK, "album": ALBUM, "playlist": PLAYLIST, "project": PROJECT}


class GraphClient:
    """POSTs GraphQL to the endpoint serving a subgraph's fields, with the headers of a service
    token acting for the tenant (`headers(tenant_id)`)."""

    def __init__(
        self,
        url_for: Callable[[str], str],
        headers: Callable[[str], Mapping[str, str]],
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.url_for = url_for
        self.headers = headers
        self.http = http or httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0))

    async def query(
        self, tenant_id: str, subgraph: str, query: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        try:
            response = await self.http.post(
                self.url_for(subgraph),
                json={"query": query, "variables": variables},
                headers=dict(self.headers(tenant_id)),
            )
        except httpx.HTTPError as error:
            raise Unavailable(f"The platform's graph did not answer ({type(error).__name__})") from error
        if response.status_code != 200:
            raise Unavailable(f"The platform's graph answered HTTP {response.status_code}")
        body: dict[str, Any] = response.json()
        errors = body.get("errors") or []
        if errors and not body.get("data"):
            codes = sorted({str((error.get("extensions") or {}).get("code", "INTERNAL")) for error in errors})
            raise Unavailable(f"The platform's graph refused the facts query ({', '.join(codes)})")
        return body.get("data") or {}

    async def aclose(self) -> None:
        await self.http.aclose()


def _names(objects: Any) -> list[str]:
    return [obj["name"] for obj in objects or [] if obj and obj.get("name")]


def _genres(artists: Any) -> list[str]:
    return sorted({genre for artist in artists or [] if artist for genre in artist.get("genres") or []})


def _edges(connection: Any) -> list[dict[str, Any]]:
    return [edge["node"] for edge in (connection or {}).get("edges") or [] if edge and edge.get("node")]


async def subject_facts(
    graph: GraphClient, tenant_id: str, subject_type: str, subject_id: str
) -> dict[str, Any]:
    """`{"subject": {...}}` for the composer and the prompt; NOT_FOUND when the graph has no
    such subject (or the tenant may not read it)."""
    data = await graph.query(tenant_id, OWNER[subject_type], QUERIES[subject_type], {"id": subject_id})
    found = data.get(subject_type)
    if not found:
        raise NotFound(f"No {subject_type} with this id is readable", id=subject_id)
    subject: dict[str, Any] = {"type": subject_type, "id": subject_id}
    if subject_type == "artist":
        subject |= {
            "name": found["name"],
            "genres": found.get("genres") or [],
            "followers": found.get("followers"),
            "popularity": found.get("popularity"),
            "topTracks": [
                {
                    "name": t["name"],
                    "album": (t.get("album") or {}).get("name"),
                    "releaseDate": (t.get("album") or {}).get("releaseDate"),
                }
                for t in found.get("topTracks") or []
            ],
            "albums": [
                {"name": a["name"], "releaseDate": a.get("releaseDate"), "totalTracks": a.get("totalTracks")}
                for a in _edges(found.get("albums"))
            ],
        }
    elif subject_type == "track":
        album = found.get("album") or {}
        subject |= {
            "name": found["name"],
            "artists": _names(found.get("artists")),
            "genres": _genres(found.get("artists")),
            "album": album.get("name"),
            "releaseDate": album.get("releaseDate"),
            "popularity": found.get("popularity"),
            "durationMs": found.get("durationMs"),
        }
    elif subject_type == "album":
        subject |= {
            "name": found["name"],
            "artists": _names(found.get("artists")),
            "genres": _genres(found.get("artists")),
            "releaseDate": found.get("releaseDate"),
            "totalTracks": found.get("totalTracks"),
            "tracks": _names(_edges(found.get("tracks"))),
        }
    elif subject_type == "playlist":
        listed = _edges(found.get("tracks"))
        subject |= {
            "name": found["name"],
            "description": found.get("description"),
            "owner": found.get("ownerName"),
            "tracks": [{"name": t["name"], "artists": _names(t.get("artists"))} for t in listed],
            "genres": _genres([artist for t in listed for artist in t.get("artists") or []]),
        }
    else:
        content = found.get("content") or {}
        track_ids = [str(id) for id in content.get("trackIds") or []][:MAX_PROJECT_TRACKS]
        tracks: list[dict[str, Any]] = []
        if track_ids:
            variables = {f"t{n}": id for n, id in enumerate(track_ids)}
            named = await graph.query(tenant_id, "spotify", track_names_query(len(track_ids)), variables)
            tracks = [named[f"t{n}"] for n in range(len(track_ids)) if named.get(f"t{n}")]
        subject |= {
            "title": found["title"],
            "projectType": str(found.get("type") or "").lower() or None,
            "description": content.get("description") or None,
            "releaseDate": content.get("releaseDate"),
            "tracks": [{"name": t["name"], "artists": _names(t.get("artists"))} for t in tracks],
            "genres": _genres([artist for t in tracks for artist in t.get("artists") or []]),
        }
    return {"subject": subject}
