"""The daily series as rows, and the CSV and JSON documents built from them (no matplotlib).

Rows: one per day of [start, end], then one per forecast day outside it, in date order.
- Inside the range, streams / listeners / monthly_listeners are numbers; a day the series do not
  list counted nothing and reads 0. A range without plays is therefore all zeros, never empty.
- Outside the range (forecast days) the actual columns are empty (CSV) / null (JSON): unknown,
  not zero. The five forecast columns are filled only on forecast days.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from typing import Any

import orjson

from subgraphs.analytics.reports.formatting import plain_number
from subgraphs.analytics.reports.model import Band, Ranked, ReportData, Section, SeriesPoint

CSV_COLUMNS = (
    "date",
    "streams",
    "listeners",
    "monthly_listeners",
    "forecast_point",
    "forecast_lower80",
    "forecast_upper80",
    "forecast_lower95",
    "forecast_upper95",
)


@dataclass(frozen=True)
class Forecast:
    point: float
    lower80: float
    upper80: float
    lower95: float
    upper95: float


@dataclass(frozen=True)
class DailyRow:
    day: date
    streams: float | None
    listeners: float | None
    monthly_listeners: float | None
    forecast: Forecast | None

    def values(self) -> list[int | float | None]:
        f = self.forecast
        return [
            plain_number(v)
            for v in (
                self.streams,
                self.listeners,
                self.monthly_listeners,
                f.point if f else None,
                f.lower80 if f else None,
                f.upper80 if f else None,
                f.lower95 if f else None,
                f.upper95 if f else None,
            )
        ]


def days_of(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def by_day(points: Sequence[SeriesPoint], start: date, end: date) -> dict[date, float]:
    """The points inside [start, end]; a repeated day keeps its last value."""
    return {p.day: float(p.value) for p in points if start <= p.day <= end}


def forecast_by_day(band: Band | None) -> dict[date, Forecast]:
    if band is None:
        return {}
    return {
        day: Forecast(*values)
        for day, *values in zip(
            band.days, band.point, band.lower80, band.upper80, band.lower95, band.upper95, strict=True
        )
    }


def has_plays(data: ReportData) -> bool:
    """Whether any stream was counted in [start, end]: the empty state is its negation."""
    return any(v > 0 for v in by_day(data.streams, data.start, data.end).values())


def daily_rows(data: ReportData) -> list[DailyRow]:
    streams = by_day(data.streams, data.start, data.end)
    listeners = by_day(data.listeners, data.start, data.end)
    monthly = by_day(data.monthly_listeners, data.start, data.end)
    forecast = forecast_by_day(data.streams_forecast)
    rows = [
        DailyRow(d, streams.get(d, 0.0), listeners.get(d, 0.0), monthly.get(d, 0.0), forecast.get(d))
        for d in days_of(data.start, data.end)
    ]
    rows += [DailyRow(d, None, None, None, f) for d, f in forecast.items() if not data.start <= d <= data.end]
    rows.sort(key=lambda r: r.day)
    return rows


def to_csv(data: ReportData) -> bytes:
    """UTF-8 CSV (no BOM, RFC 4180 line ends) with a header row; empty cell = unknown."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in daily_rows(data):
        writer.writerow([row.day.isoformat(), *("" if v is None else v for v in row.values())])
    return buffer.getvalue().encode("utf-8")


def _ranked(items: Sequence[Ranked]) -> list[dict[str, Any]]:
    return [
        {"label": r.label, "value": plain_number(r.value), "share": plain_number_ratio(r.share)}
        for r in items
    ]


def plain_number_ratio(value: float | None) -> float | None:
    """A ratio for JSON: 4 decimals (0.1234 = 12.34 %), NaN/inf as None."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), 4)


def to_json(data: ReportData, sections: Sequence[Section]) -> bytes:
    """The same daily rows as the CSV (same keys, null for an empty cell), plus the selected
    ranked sections and totals. Dates ISO 8601, `generated_at` in UTC."""
    at = data.generated_at
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    document: dict[str, Any] = {
        "artist_name": data.artist_name,
        "start": data.start.isoformat(),
        "end": data.end.isoformat(),
        "generated_at": at.isoformat().replace("+00:00", "Z"),
        "sections": [s.value for s in sections],
        "has_plays": has_plays(data),
        "series": [
            dict(zip(CSV_COLUMNS, [row.day.isoformat(), *row.values()], strict=True))
            for row in daily_rows(data)
        ],
    }
    if Section.TOTALS in sections:
        document["totals"] = [
            {
                "label": t.label,
                "value": plain_number(t.value),
                "previous": plain_number(t.previous),
                "change_ratio": plain_number_ratio(t.change_ratio),
            }
            for t in data.totals
        ]
    for section, items in (
        (Section.TOP_TRACKS, data.top_tracks),
        (Section.COUNTRIES, data.countries),
        (Section.SOURCES, data.sources),
    ):
        if section in sections:
            document[section.value] = _ranked(items)
    return orjson.dumps(document)
