"""What each kind of asset may be: content types, size limit, and whether it is private
(readable by its owner and tenant admins only)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import puremagic

MB = 1024 * 1024


class AssetKind(enum.StrEnum):
    COVER_ART = "cover_art"
    AUDIO = "audio"
    STEM = "stem"
    DOCUMENT = "document"
    IMAGE = "image"


@dataclass(frozen=True)
class KindRule:
    content_types: frozenset[str]
    max_size: int
    private: bool = False


IMAGES = frozenset({"image/jpeg", "image/png", "image/webp"})
AUDIO = frozenset({"audio/mpeg", "audio/wav", "audio/flac", "audio/ogg", "audio/mp4"})
DOCUMENTS = frozenset({"application/pdf", "text/plain", "text/markdown"})

RULES: dict[AssetKind, KindRule] = {
    AssetKind.COVER_ART: KindRule(IMAGES, 10 * MB),
    AssetKind.IMAGE: KindRule(IMAGES | {"image/gif"}, 20 * MB),
    AssetKind.AUDIO: KindRule(AUDIO, 500 * MB),
    AssetKind.STEM: KindRule(AUDIO, 500 * MB, private=True),
    AssetKind.DOCUMENT: KindRule(DOCUMENTS, 50 * MB, private=True),
}

# Names the sniffer reports for the types we accept.
_ALIASES = {
    "audio/wav": {"audio/wav", "audio/wave", "audio/x-wav"},
    "audio/mpeg": {"audio/mpeg", "audio/mp3"},
    "audio/mp4": {"audio/mp4", "audio/x-m4a", "video/mp4"},
    "audio/ogg": {"audio/ogg", "application/ogg"},
    "audio/flac": {"audio/flac", "audio/x-flac"},
}
_TEXT = {"text/plain", "text/markdown"}
SNIFF_BYTES = 512


def content_matches(declared: str, head: bytes) -> bool:
    """Whether the first bytes of a file look like the declared type (a PNG called a PDF
    does not). Text has no signature: it must decode as UTF-8 and carry no binary magic."""
    try:
        found = {match.mime_type for match in puremagic.magic_string(head) if match.mime_type}
    except (puremagic.PureError, ValueError):
        found = set()
    if declared in _TEXT:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as error:
            if error.start < len(head) - 3:  # a multi-byte character cut at the end is fine
                return False
        return not found or found <= {"text/plain"}
    return bool(found & _ALIASES.get(declared, {declared}))
