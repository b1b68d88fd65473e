"""Offset cursors of the spotify connections."""

from __future__ import annotations

import base64

from shared.errors import BadUserInput


def offset_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def decode_offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        if raw.startswith("o:") and int(raw[2:]) >= 0:
            return int(raw[2:]) + 1
    except (ValueError, UnicodeDecodeError):
        pass
    raise BadUserInput("Invalid cursor", field="after")
