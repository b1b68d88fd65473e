"""Pure helpers: file names, numbers, dates and user text as the report prints them."""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from datetime import UTC, date, datetime

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SLUG_MAX = 60
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def slugify(name: str) -> str:
    """An ASCII file-name part: lower case, [a-z0-9-] only, never empty, never a path.

    Accents fold to their base letter ("Björk & Sigur Rós" -> "bjork-sigur-ros"); a name with
    nothing left (e.g. only CJK or emoji) becomes "artist-" and 8 hex digits of its hash, so two
    such artists do not share a file name.
    """
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:_SLUG_MAX].rstrip("-")
    if not slug:
        slug = "artist-" + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return slug


def clean_text(text: str, limit: int) -> str:
    """User text made safe for one line of a chart: control characters become spaces, runs of
    spaces collapse, and anything over `limit` characters ends with an ellipsis."""
    text = " ".join(_CONTROL.sub(" ", text).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def day_label(d: date) -> str:
    """ "1 Jan 2025", independent of the process locale."""
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def short_day(d: date) -> str:
    """ "1 Jun"."""
    return f"{d.day} {_MONTHS[d.month - 1]}"


def range_label(start: date, end: date) -> str:
    days = (end - start).days + 1
    return f"{day_label(start)} \N{EN DASH} {day_label(end)} · {days} day{'s' if days != 1 else ''}"


def generated_label(at: datetime) -> str:
    """The generation time in UTC; a naive datetime is taken as UTC."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return f"Generated {day_label(at.date())}, {at:%H:%M} UTC"


def integer(value: float) -> str:
    """ "1,234,567"; values are rounded to whole units, non-finite ones print as a dash."""
    if not math.isfinite(value):
        return "—"
    return f"{round(value):,}"


def compact(value: float) -> str:
    """A short axis label: 950, 12k, 1.2M, 3.4B."""
    if not math.isfinite(value):
        return ""
    magnitude = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if round(magnitude / limit, 1) >= 1:
            text = f"{value / limit:.1f}".removesuffix(".0")
            return text + suffix
    return f"{value:.1f}".removesuffix(".0")


def percent(ratio: float | None, signed: bool = False) -> str:
    """0.123 -> "12.3 %" (or "+12.3 %" when signed); None or non-finite -> "—"."""
    if ratio is None or not math.isfinite(ratio):
        return "—"
    shown = round(ratio * 100, 1) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f"{shown:{'+' if signed else ''}.1f} %"


def plain_number(value: float | None) -> int | float | None:
    """A number for CSV/JSON: whole values as int, others rounded to 2 decimals, NaN/inf as None."""
    if value is None or not math.isfinite(value):
        return None
    if float(value).is_integer():
        return int(value)
    return round(float(value), 2)
