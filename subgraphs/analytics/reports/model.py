"""The plain data a report is rendered from, and what rendering returns.

Nothing here imports matplotlib (or numpy): the web app imports these types at start-up.

Conventions:
- Series are daily; a day of [start, end] that a series does not list counted nothing (0).
  A day listed twice keeps its last value. Points outside [start, end] are ignored.
- `Band` is the streams forecast: one value per day in `days`, for days after the last actual one.
- `Ranked.share` and `Total.change_ratio` are ratios (0.123 means 12.3 %).
- A naive `generated_at` is taken as UTC.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime


class Section(enum.Enum):
    """A part of the report; the PDF and PNG render the selected ones, in this order."""

    TOTALS = "totals"
    STREAMS = "streams"
    LISTENERS = "listeners"
    TOP_TRACKS = "top_tracks"
    COUNTRIES = "countries"
    SOURCES = "sources"


class ReportFormat(enum.Enum):
    PDF = "pdf"
    PNG = "png"
    CSV = "csv"
    JSON = "json"


@dataclass(frozen=True)
class SeriesPoint:
    day: date
    value: float


@dataclass(frozen=True)
class Band:
    """A forecast: the point estimate and its 80 % and 95 % intervals, one value per day."""

    days: list[date]
    point: list[float]
    lower80: list[float]
    upper80: list[float]
    lower95: list[float]
    upper95: list[float]

    def __post_init__(self) -> None:
        n = len(self.days)
        for name in ("point", "lower80", "upper80", "lower95", "upper95"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"Band.{name} has {len(getattr(self, name))} values for {n} days")
        if len(set(self.days)) != n:
            raise ValueError("Band.days repeats a day")


@dataclass(frozen=True)
class Ranked:
    label: str
    value: float
    share: float | None = None


@dataclass(frozen=True)
class Total:
    label: str
    value: float
    previous: float | None
    change_ratio: float | None


@dataclass(frozen=True)
class ReportData:
    artist_name: str
    start: date
    end: date
    generated_at: datetime
    streams: list[SeriesPoint]
    listeners: list[SeriesPoint]
    monthly_listeners: list[SeriesPoint]
    streams_forecast: Band | None
    totals: list[Total]
    top_tracks: list[Ranked]
    countries: list[Ranked]
    sources: list[Ranked]

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        if (self.end - self.start).days >= 3700:
            raise ValueError("a report covers at most ten years")


@dataclass(frozen=True)
class RenderedFile:
    format: ReportFormat
    filename: str
    content_type: str
    content: bytes
