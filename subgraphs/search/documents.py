"""Documents projected from other domains' events: what each source object becomes in the
index, and how a document is stored in `search_document` and read back."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from subgraphs.search.backends.base import Document, DocumentType, Visibility

MAX_DESCRIPTION = 2_000
"""Characters of a project's text that are indexed."""


def catalogue_documents(kind: str, items: list[Mapping[str, Any]]) -> list[Document]:
    """`spotify.catalogue.upserted` items: Spotify's own objects, found by everyone."""
    documents: list[Document] = []
    for item in items:
        artists = item.get("artists") or []
        album = item.get("album") or {}
        documents.append(
            Document(
                type=DocumentType(kind),
                entity_id=item["id"],
                name=item["name"],
                visibility=Visibility.PUBLIC,
                artists=tuple(artist["name"] for artist in artists),
                artist_ids=tuple(artist["id"] for artist in artists)
                + ((item["id"],) if kind == "artist" else ()),
                album=album.get("name") if kind == "track" else None,
                genres=tuple(item.get("genres") or ()),
                description=item.get("description"),
                year=item.get("year"),
                explicit=item.get("explicit"),
                popularity=item.get("popularity"),
            )
        )
    return documents


def playlist_document(tenant_id: str, payload: Mapping[str, Any]) -> Document:
    """A platform playlist: public ones are found in their tenant, private ones by their owner."""
    return Document(
        type=DocumentType.PLAYLIST,
        entity_id=payload["playlist_id"],
        name=payload["name"],
        visibility=Visibility.TENANT if payload["public"] else Visibility.OWNER,
        description=payload.get("description"),
        tenant_id=tenant_id,
        owner_id=payload["owner_id"],
    )


def project_document(tenant_id: str, payload: Mapping[str, Any]) -> Document:
    """A workspace project: found by the members of its workspace."""
    return Document(
        type=DocumentType.PROJECT,
        entity_id=payload["project_id"],
        name=payload["title"],
        visibility=Visibility.WORKSPACE,
        description=" ".join(_strings(payload.get("content") or {}))[:MAX_DESCRIPTION] or None,
        tenant_id=tenant_id,
        workspace_id=payload["workspace_id"],
    )


def _strings(value: Any) -> Iterator[str]:
    """The text in a project's JSON content (notes, titles, ...), in document order."""
    if isinstance(value, str):
        if value.strip():
            yield value.strip()
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def to_fields(document: Document) -> dict[str, Any]:
    return {
        name: list(value) if isinstance(value, tuple) else value
        for name, value in dataclasses.asdict(document).items()
    }


def from_fields(fields: Mapping[str, Any]) -> Document:
    values = dict(fields)
    values["type"] = DocumentType(values["type"])
    values["visibility"] = Visibility(values["visibility"])
    for name in ("artists", "artist_ids", "genres"):
        values[name] = tuple(values.get(name) or ())
    return Document(**values)


def content_hash(fields: Mapping[str, Any]) -> str:
    """Stable over the document's content: unchanged content is neither re-indexed nor re-embedded."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
