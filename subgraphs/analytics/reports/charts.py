"""The PDF report and the PNG dashboard, drawn with matplotlib.

matplotlib is imported inside the functions, never at module import (the web app imports this
package). No pyplot: figures are plain `matplotlib.figure.Figure` objects, so nothing global
(figure managers, the current figure) is shared between threads. matplotlib is still not
thread-safe (shared font caches, rcParams), so one lock serialises the drawing; the work is
CPU-bound under the GIL anyway. The style is applied with `rc_context` inside that lock and
restored afterwards, so the rest of the process keeps its own rcParams.

Layout is explicit, in inches: the report is a column of blocks (header, sections) poured into
A4 pages; a block that does not fit the rest of a page starts the next one.
"""

from __future__ import annotations

import io
import math
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date
from functools import partial
from typing import TYPE_CHECKING, Any

from subgraphs.analytics.reports.formatting import (
    clean_text,
    compact,
    generated_label,
    integer,
    percent,
    range_label,
    short_day,
)
from subgraphs.analytics.reports.model import Ranked, ReportData, Section
from subgraphs.analytics.reports.tabular import Forecast, by_day, days_of, forecast_by_day, has_plays

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

EMPTY_MESSAGE = "No plays in this period"
NO_DATA_MESSAGE = "No data for this period"
HEADINGS = {
    Section.TOTALS: "Totals",
    Section.STREAMS: "Streams over time",
    Section.LISTENERS: "Listeners over time",
    Section.TOP_TRACKS: "Top tracks",
    Section.COUNTRIES: "Top countries",
    Section.SOURCES: "Sources of stream",
}
MAX_BARS = 15
"""Ranked sections chart their first 15 items (the JSON export keeps them all)."""
PNG_DPI = 150

A4 = (8.27, 11.69)
_PAGE_MARGIN_X = 0.75
_PAGE_MARGIN_TOP = 0.65
_PAGE_MARGIN_BOTTOM = 0.75
_BLOCK_GAP = 0.32
_HEADING = 0.42

INK = "#1F2328"
MUTED = "#6E7781"
RULE = "#D0D7DE"
GRID = "#EAEEF2"
ACCENT = "#1F6FB2"
SECONDARY = "#6F42C1"
FORECAST = "#D9822B"
UP = "#1A7F37"
DOWN = "#CF222E"
EMPTY_FILL = "#F6F8FA"

STYLE: dict[RcKeyType, Any] = {
    "font.family": "DejaVu Sans",  # bundled with matplotlib: nothing to download
    "font.size": 9,
    "text.color": INK,
    "text.parse_math": False,  # names like "Ke$ha" are text, not TeX
    "axes.edgecolor": RULE,
    "axes.labelcolor": INK,
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.spines.left": False,
    "axes.unicode_minus": True,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "xtick.major.size": 3,
    "ytick.major.size": 0,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "pdf.fonttype": 42,  # TrueType subsets: real, extractable text (pdftotext), small files
    "path.simplify": True,
}

_LOCK = threading.Lock()


def _load_matplotlib() -> None:
    """Import matplotlib on first use and select Agg (headless) unless pyplot is already in use
    elsewhere in the process; this module never imports pyplot itself."""
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")


@dataclass(frozen=True)
class Box:
    """A rectangle in inches from the figure's bottom-left corner."""

    x: float
    y: float
    w: float
    h: float

    def top(self, offset: float) -> Box:
        """The part of this box below its top `offset` inches."""
        return Box(self.x, self.y, self.w, self.h - offset)


@dataclass(frozen=True)
class Prepared:
    """The report data aligned on days, computed once for all charts."""

    data: ReportData
    days: list[date]
    streams: list[float]
    listeners: list[float]
    monthly_listeners: list[float]
    forecast: list[tuple[date, Forecast]]
    has_plays: bool
    name: str

    @classmethod
    def of(cls, data: ReportData) -> Prepared:
        days = days_of(data.start, data.end)

        def align(points: Any) -> list[float]:
            values = by_day(points, data.start, data.end)
            return [values.get(d, 0.0) for d in days]

        return cls(
            data=data,
            days=days,
            streams=align(data.streams),
            listeners=align(data.listeners),
            monthly_listeners=align(data.monthly_listeners),
            forecast=sorted(forecast_by_day(data.streams_forecast).items()),
            has_plays=has_plays(data),
            name=clean_text(data.artist_name, 120) or "Unnamed artist",
        )


def _axes(fig: Figure, box: Box, **kwargs: Any) -> Axes:
    width, height = fig.get_size_inches()
    return fig.add_axes((box.x / width, box.y / height, box.w / width, box.h / height), **kwargs)


def _fig_text(fig: Figure, x: float, y: float, text: str, **kwargs: Any) -> None:
    """Text at (x, y) inches on the figure."""
    width, height = fig.get_size_inches()
    fig.text(x / width, y / height, text, **kwargs)


def _fig_rule(fig: Figure, x0: float, x1: float, y: float, color: str = RULE) -> None:
    from matplotlib.lines import Line2D

    width, height = fig.get_size_inches()
    fig.add_artist(
        Line2D(
            [x0 / width, x1 / width],
            [y / height, y / height],
            color=color,
            linewidth=0.8,
            transform=fig.transFigure,
        )
    )


# -- blocks -------------------------------------------------------------------------------------------

HEADER_HEIGHT = 1.3
NOTICE_HEIGHT = 0.5


def _draw_header(fig: Figure, box: Box, prepared: Prepared) -> None:
    top = box.y + box.h
    name = prepared.name
    # DejaVu Sans Bold averages ~0.64 em per character: shrink long names to fit the width.
    size = max(11.0, min(22.0, box.w * 72 / (0.64 * max(len(name), 1))))
    name = clean_text(name, int(box.w * 72 / (0.64 * size)))
    _fig_text(fig, box.x, top, "ARTIST ANALYTICS REPORT", fontsize=8, color=MUTED, weight="bold", va="top")
    _fig_text(fig, box.x, top - 0.22, name, fontsize=size, weight="bold", va="top")
    _fig_text(
        fig, box.x, top - 0.72, range_label(prepared.data.start, prepared.data.end), fontsize=10.5, va="top"
    )
    _fig_text(
        fig,
        box.x,
        top - 0.95,
        generated_label(prepared.data.generated_at),
        fontsize=8.5,
        color=MUTED,
        va="top",
    )
    _fig_rule(fig, box.x, box.x + box.w, box.y + 0.05)


def _draw_notice(fig: Figure, box: Box, text: str) -> None:
    ax = _axes(fig, box)
    _empty(ax, text)


def _empty(ax: Axes, message: str) -> None:
    from matplotlib.patches import FancyBboxPatch

    ax.set_axis_off()
    ax.add_patch(
        FancyBboxPatch(
            (0, 0),
            1,
            1,
            boxstyle="round,pad=0,rounding_size=0.02",
            transform=ax.transAxes,
            facecolor=EMPTY_FILL,
            edgecolor=RULE,
            linewidth=0.8,
        )
    )
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center", fontsize=11, color=MUTED)


def _heading(fig: Figure, box: Box, section: Section, note: str = "") -> Box:
    top = box.y + box.h
    _fig_text(fig, box.x, top, HEADINGS[section], fontsize=12.5, weight="bold", va="top")
    if note:
        _fig_text(fig, box.x + box.w, top - 0.03, note, fontsize=8, color=MUTED, va="top", ha="right")
    return box.top(_HEADING)


def _ranked_items(prepared: Prepared, section: Section) -> list[Ranked]:
    data = prepared.data
    items = {
        Section.TOP_TRACKS: data.top_tracks,
        Section.COUNTRIES: data.countries,
        Section.SOURCES: data.sources,
    }[section]
    return sorted(items, key=lambda r: -r.value if math.isfinite(r.value) else 0.0)[:MAX_BARS]


def section_height(section: Section, prepared: Prepared, wide: bool = True) -> float:
    """The height in inches of a section block, its heading included."""
    if section is Section.TOTALS:
        rows = len(prepared.data.totals)
        return _HEADING + (0.28 * (rows + 1) + 0.1 if rows else 0.9)
    if not prepared.has_plays:
        return _HEADING + 0.9
    if section is Section.STREAMS:
        return _HEADING + (3.3 if wide else 3.0)
    if section is Section.LISTENERS:
        return _HEADING + (3.9 if wide else 3.5)
    bars = len(_ranked_items(prepared, section))
    return _HEADING + (0.27 * max(bars, 3) + 0.15 if bars else 0.9)


def _draw_section(fig: Figure, box: Box, section: Section, prepared: Prepared) -> None:
    note = ""
    if section is Section.TOP_TRACKS and len(prepared.data.top_tracks) > MAX_BARS:
        note = f"first {MAX_BARS} of {len(prepared.data.top_tracks)}"
    elif section is Section.COUNTRIES and len(prepared.data.countries) > MAX_BARS:
        note = f"first {MAX_BARS} of {len(prepared.data.countries)}"
    body = _heading(fig, box, section, note)
    if section is Section.TOTALS:
        _draw_totals(fig, body, prepared)
    elif not prepared.has_plays:
        _empty(_axes(fig, body), EMPTY_MESSAGE)
    elif section is Section.STREAMS:
        _draw_streams(fig, body, prepared)
    elif section is Section.LISTENERS:
        _draw_listeners(fig, body, prepared)
    else:
        _draw_bars(fig, body, _ranked_items(prepared, section))


def _draw_totals(fig: Figure, box: Box, prepared: Prepared) -> None:
    totals = prepared.data.totals
    ax = _axes(fig, box)
    if not totals:
        _empty(ax, NO_DATA_MESSAGE)
        return
    ax.set_axis_off()
    ax.set_xlim(0, box.w)
    ax.set_ylim(0, box.h)
    row = 0.28
    columns = (
        (0.0, "left", "Metric"),
        (box.w * 0.56, "right", "This period"),
        (box.w * 0.79, "right", "Previous period"),
        (box.w, "right", "Change"),
    )
    y = box.h - row / 2
    for x, align, title in columns:
        ax.text(x, y, title, ha=align, va="center", fontsize=8, color=MUTED, weight="bold")
    ax.plot([0, box.w], [box.h - row, box.h - row], color=RULE, linewidth=0.8)
    for i, total in enumerate(totals):
        y = box.h - row * (i + 1.5)
        ax.text(0, y, clean_text(total.label, 40), ha="left", va="center", fontsize=9.5)
        ax.text(columns[1][0], y, integer(total.value), ha="right", va="center", fontsize=9.5, weight="bold")
        previous = "—" if total.previous is None else integer(total.previous)
        ax.text(columns[2][0], y, previous, ha="right", va="center", fontsize=9.5, color=MUTED)
        ratio = total.change_ratio
        color, arrow = MUTED, ""
        if ratio is not None and ratio > 0.0005:
            color, arrow = UP, "▲ "
        elif ratio is not None and ratio < -0.0005:
            color, arrow = DOWN, "▼ "
        ax.text(
            box.w, y, arrow + percent(ratio, signed=True), ha="right", va="center", fontsize=9.5, color=color
        )
        if i < len(totals) - 1:
            ax.plot([0, box.w], [y - row / 2] * 2, color=GRID, linewidth=0.6)


def _date_axis(ax: Axes, prepared: Prepared, with_forecast: bool = False) -> None:
    """Whole days from the range's first to its last (or last forecast) day, never matplotlib's
    default padding, which turns a one-day range into years; day ticks for short ranges."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, DayLocator, date2num, num2date
    from matplotlib.ticker import FuncFormatter

    first = prepared.days[0]
    last = prepared.days[-1]
    if with_forecast and prepared.forecast:
        last = max(last, prepared.forecast[-1][0])
    ax.set_xlim(float(date2num(first)) - 0.5, float(date2num(last)) + 0.5)
    span = (last - first).days + 1
    if span <= 21:
        ax.xaxis.set_major_locator(DayLocator(interval=max(1, span // 6)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: short_day(num2date(value).date())))
    else:
        locator = AutoDateLocator(minticks=4, maxticks=9)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator, show_offset=False))


def _line_style(prepared: Prepared) -> dict[str, Any]:
    """A line for a long series; dots on it when days are few enough to tell apart (one day
    would otherwise draw nothing)."""
    if len(prepared.days) <= 45:
        return {"linewidth": 1.2, "marker": "o", "markersize": 3}
    return {"linewidth": 1.0}


def _value_axis(ax: Axes) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5, min_n_ticks=3))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: compact(value)))
    ax.yaxis.grid(True, color=GRID, linewidth=0.7)
    ax.set_axisbelow(True)


def _draw_streams(fig: Figure, box: Box, prepared: Prepared) -> None:
    from matplotlib.dates import date2num

    ax = _axes(fig, Box(box.x + 0.4, box.y + 0.25, box.w - 0.4, box.h - 0.55))
    ax.plot(
        date2num(prepared.days),
        prepared.streams,
        color=ACCENT,
        label="Daily streams",
        **_line_style(prepared),
    )
    if prepared.forecast:
        x = date2num([day for day, _ in prepared.forecast])
        values = [f for _, f in prepared.forecast]
        for low, high, alpha, label in (
            ([f.lower95 for f in values], [f.upper95 for f in values], 0.16, "95 % interval"),
            ([f.lower80 for f in values], [f.upper80 for f in values], 0.34, "80 % interval"),
        ):
            ax.fill_between(x, low, high, color=FORECAST, alpha=alpha, linewidth=0, label=label)
        ax.plot(
            x,
            [f.point for f in values],
            color=FORECAST,
            linewidth=1.3,
            linestyle=(0, (4, 2)),
            label="Forecast",
        )
        last_actual = prepared.days[-1]
        if prepared.forecast[0][0] > last_actual:
            # A dotted rule between the last actual day and the first forecast day.
            ax.axvline(float(date2num(last_actual)) + 0.5, color=MUTED, linewidth=0.7, linestyle=":")
    _value_axis(ax)
    _date_axis(ax, prepared, with_forecast=True)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=4, borderaxespad=0.2, handlelength=1.6)


def _draw_listeners(fig: Figure, box: Box, prepared: Prepared) -> None:
    from matplotlib.dates import date2num

    inner = Box(box.x + 0.4, box.y + 0.25, box.w - 0.4, box.h - 0.3)
    gap = 0.35
    panel = (inner.h - gap) / 2
    top = _axes(fig, Box(inner.x, inner.y + panel + gap, inner.w, panel - 0.2))
    bottom = _axes(fig, Box(inner.x, inner.y, inner.w, panel - 0.2), sharex=top)
    for ax, values, color, title in (
        (top, prepared.listeners, ACCENT, "Daily listeners"),
        (bottom, prepared.monthly_listeners, SECONDARY, "Monthly listeners"),
    ):
        ax.plot(date2num(prepared.days), values, color=color, **_line_style(prepared))
        ax.set_title(title, loc="left", fontsize=9, color=INK, pad=6)
        _value_axis(ax)
    _date_axis(bottom, prepared)
    top.tick_params(labelbottom=False)


def _draw_bars(fig: Figure, box: Box, items: Sequence[Ranked]) -> None:
    if not items:
        _empty(_axes(fig, box), NO_DATA_MESSAGE)
        return
    label_width = min(2.5, box.w * 0.42)
    chars = int(label_width * 72 / (0.55 * 8.5))
    ax = _axes(fig, Box(box.x + label_width, box.y + 0.1, box.w - label_width, box.h - 0.1))
    positions = list(range(len(items)))
    values = [item.value if math.isfinite(item.value) and item.value > 0 else 0.0 for item in items]
    ax.barh(positions, values, height=0.64, color=ACCENT)
    ax.set_yticks(positions, [clean_text(item.label, chars) for item in items], fontsize=8.5, color=INK)
    ax.set_ylim(len(items) - 0.5, -0.5)  # first item on top; fixed row pitch even for few bars
    if len(items) < 3:
        ax.set_ylim(2.5, -0.5)
    labels = [
        integer(item.value) + ("" if item.share is None else f"  ·  {percent(item.share)}") for item in items
    ]
    # Leave room right of the longest bar for its label (DejaVu Sans at 8 pt: ~0.6 em a character).
    peak = max(values) or 1.0
    label_share = (max(len(label) for label in labels) * 8 * 0.6 / 72 + 0.12) / (box.w - label_width)
    ax.set_xlim(0, peak / max(1 - label_share, 0.3))
    ax.set_xticks([])
    ax.spines["bottom"].set_visible(False)
    for position, value, label in zip(positions, values, labels, strict=True):
        ax.text(value + peak * 0.015, position, label, va="center", fontsize=8, color=MUTED)


def _draw_footer(fig: Figure, prepared: Prepared, page: int, pages: int) -> None:
    width, _ = fig.get_size_inches()
    y = _PAGE_MARGIN_BOTTOM - 0.4
    text = f"{clean_text(prepared.name, 60)} · {range_label(prepared.data.start, prepared.data.end)}"
    _fig_text(fig, _PAGE_MARGIN_X, y, text, fontsize=7.5, color=MUTED, va="bottom")
    _fig_text(
        fig,
        width - _PAGE_MARGIN_X,
        y,
        f"Page {page} of {pages}",
        fontsize=7.5,
        color=MUTED,
        va="bottom",
        ha="right",
    )


# -- documents ----------------------------------------------------------------------------------------

Draw = Callable[["Figure", Box], None]


def _blocks(prepared: Prepared, sections: Sequence[Section]) -> list[tuple[float, Draw]]:
    blocks: list[tuple[float, Draw]] = [(HEADER_HEIGHT, partial(_draw_header, prepared=prepared))]
    if not prepared.has_plays:
        blocks.append((NOTICE_HEIGHT, partial(_draw_notice, text=EMPTY_MESSAGE + ".")))
    for section in sections:
        blocks.append(
            (section_height(section, prepared), partial(_draw_section, section=section, prepared=prepared))
        )
    return blocks


def render_pdf(data: ReportData, sections: Sequence[Section]) -> bytes:
    """An A4 portrait PDF: a header on page 1, then the sections, vector charts throughout."""
    _load_matplotlib()
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    prepared = Prepared.of(data)
    usable_w = A4[0] - 2 * _PAGE_MARGIN_X
    usable_h = A4[1] - _PAGE_MARGIN_TOP - _PAGE_MARGIN_BOTTOM
    pages: list[list[tuple[float, float, Draw]]] = [[]]
    cursor = usable_h
    for height, draw in _blocks(prepared, sections):
        if pages[-1] and height > cursor:
            pages.append([])
            cursor = usable_h
        pages[-1].append((cursor, height, draw))
        cursor -= height + _BLOCK_GAP

    at = data.generated_at
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    metadata = {
        "Title": f"{prepared.name} · analytics report",
        "Subject": range_label(data.start, data.end),
        "Creator": "spotify-agent analytics reports",
        "CreationDate": at,
        "ModDate": at,
    }
    buffer = io.BytesIO()
    with _LOCK, matplotlib.rc_context(STYLE), PdfPages(buffer, metadata=metadata) as pdf:
        for number, blocks in enumerate(pages, start=1):
            fig = Figure(figsize=A4)
            for top, height, draw in blocks:
                draw(fig, Box(_PAGE_MARGIN_X, _PAGE_MARGIN_BOTTOM + top - height, usable_w, height))
            _draw_footer(fig, prepared, number, len(pages))
            pdf.savefig(fig)
    return buffer.getvalue()


def render_png(data: ReportData, sections: Sequence[Section]) -> bytes:
    """One dashboard image: the header across the top, then the sections two to a row."""
    _load_matplotlib()
    import matplotlib
    from matplotlib.figure import Figure

    prepared = Prepared.of(data)
    width, margin, gap = 13.0, 0.5, 0.6
    column = (width - 2 * margin - gap) / 2
    rows = [list(sections[i : i + 2]) for i in range(0, len(sections), 2)]
    heights = [max(section_height(s, prepared, wide=False) for s in row) for row in rows]
    top_part = margin + HEADER_HEIGHT + (NOTICE_HEIGHT + _BLOCK_GAP if not prepared.has_plays else 0)
    height = top_part + sum(h + _BLOCK_GAP for h in heights) + margin
    buffer = io.BytesIO()
    with _LOCK, matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(width, height))
        cursor = height - margin
        _draw_header(fig, Box(margin, cursor - HEADER_HEIGHT, width - 2 * margin, HEADER_HEIGHT), prepared)
        cursor -= HEADER_HEIGHT + _BLOCK_GAP
        if not prepared.has_plays:
            _draw_notice(
                fig,
                Box(margin, cursor - NOTICE_HEIGHT, width - 2 * margin, NOTICE_HEIGHT),
                EMPTY_MESSAGE + ".",
            )
            cursor -= NOTICE_HEIGHT + _BLOCK_GAP
        for row, row_height in zip(rows, heights, strict=True):
            for i, section in enumerate(row):
                h = section_height(section, prepared, wide=False)
                box = Box(margin + i * (column + gap), cursor - h, column, h)
                _draw_section(fig, box, section, prepared)
            cursor -= row_height + _BLOCK_GAP
        fig.savefig(buffer, format="png", dpi=PNG_DPI, metadata={"Title": f"{prepared.name} · analytics"})
    return buffer.getvalue()
