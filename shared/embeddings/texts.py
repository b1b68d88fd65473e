"""The one way a catalogue object becomes the text the sentence model reads. Search and ai
both embed through it, so the same object has the same text, the same content hash and one
cached vector (`embedding_cache`), whoever asks first."""

from __future__ import annotations

from collections.abc import Sequence


def catalogue_text(
    name: str,
    *,
    artists: Sequence[str] = (),
    album: str | None = None,
    genres: Sequence[str] = (),
    year: int | None = None,
    description: str | None = None,
) -> str:
    """Name, who made it, where it is from, what it is: `Night Drive. by Ada Costa. from
    Neon Tides. amapiano, deep house. 2021`."""
    parts = [name]
    if artists:
        parts.append("by " + ", ".join(artists))
    if album:
        parts.append(f"from {album}")
    if genres:
        parts.append(", ".join(genres))
    if year:
        parts.append(str(year))
    if description:
        parts.append(description)
    return ". ".join(parts)
