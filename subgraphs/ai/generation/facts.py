"""Grounding: the subject's real data, read through the platform's graph (the router) with a
service token acting for the requester's tenant, flattened into the `facts` the prompt and
the offline composer use. Each query touches one subgraph, so any endpoint that serves it
(the router, or that subgraph) answers it. What comes back is stored with the output."""

from __future__ import annotations

from typing import Any

from shared.errors import NotFound
from shared.graph import GraphClient

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
