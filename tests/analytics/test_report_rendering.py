"""Analytics reports rendered from plain data: the PDF read back by poppler (pdftoppm/pdftotext),
the PNG, CSV and JSON exports, the empty state, section selection and file names."""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
import math
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from subgraphs.analytics.reports import (
    Band,
    Ranked,
    RenderedFile,
    ReportData,
    ReportFormat,
    Section,
    SeriesPoint,
    Total,
    render,
)
from subgraphs.analytics.reports.charts import EMPTY_MESSAGE, HEADINGS
from subgraphs.analytics.reports.formatting import slugify
from subgraphs.analytics.reports.tabular import CSV_COLUMNS

START, END = date(2025, 1, 1), date(2025, 12, 31)
DAYS = 365
HORIZON = 30
NAME = "Björk & Sigur Rós"
GENERATED = datetime(2026, 1, 2, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True, scope="module")
def _quiet_matplotlib() -> Iterator[None]:
    """The suite logs at DEBUG; matplotlib's font search and PIL's chunk reader are noise there."""
    loggers = [logging.getLogger(name) for name in ("matplotlib", "PIL")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.INFO)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


@pytest.fixture(scope="module")
def poppler() -> None:
    missing = [tool for tool in ("pdftoppm", "pdftotext") if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} not found: these tests read the rendered PDF back with poppler. "
            "Install poppler-utils (`apt-get install -y poppler-utils`, part of `make system-deps`)."
        )


def realistic_report(name: str = NAME, seed: int = 7) -> ReportData:
    """A year of seeded-random daily data: growth, a weekly rhythm, noise, a release spike,
    and a 30-day forecast whose intervals widen with the horizon."""
    rng = random.Random(seed)
    days = [START + timedelta(days=i) for i in range(DAYS)]
    streams: list[float] = []
    for i, day in enumerate(days):
        level = 1800 * (1 + 0.9 * i / DAYS) * (1.15 if day.weekday() >= 4 else 0.95)
        spike = 2500 * math.exp(-max(i - 200, 0) / 6) if i >= 200 else 0.0
        streams.append(round(max(level * rng.gauss(1, 0.12) + spike, 0)))
    listeners = [round(s * rng.uniform(0.55, 0.65)) for s in streams]
    monthly = [round(sum(listeners[max(0, i - 27) : i + 1]) * 0.42) for i in range(DAYS)]
    recent = sum(streams[-28:]) / 28
    forecast_days = [END + timedelta(days=h) for h in range(1, HORIZON + 1)]
    point = [recent * (1 + 0.002 * h) for h in range(1, HORIZON + 1)]
    spread = [0.08 * recent * math.sqrt(h) for h in range(1, HORIZON + 1)]
    band = Band(
        days=forecast_days,
        point=point,
        lower80=[p - 1.28 * s for p, s in zip(point, spread, strict=True)],
        upper80=[p + 1.28 * s for p, s in zip(point, spread, strict=True)],
        lower95=[p - 1.96 * s for p, s in zip(point, spread, strict=True)],
        upper95=[p + 1.96 * s for p, s in zip(point, spread, strict=True)],
    )
    tracks = [
        "Jóga",
        "Hoppípolla",
        "Army of Me",
        "Svefn-g-englar",
        "Human Behaviour",
        "Bachelorette",
        "Glósóli",
        "All Is Full of Love",
        "Ke$ha Remix / 2025 (feat. A$AP)",
        "An Extremely Long Track Title That Goes On And On (Extended Deluxe Remaster 2025)",
    ]
    track_values = sorted((rng.uniform(5_000, 90_000) for _ in tracks), reverse=True)
    total = sum(streams)
    countries = [
        "Iceland",
        "United States",
        "Germany",
        "United Kingdom",
        "France",
        "Japan",
        "Brazil",
        "Sweden",
        "Mexico",
        "Canada",
        "Australia",
        "Spain",
    ]
    country_values = sorted((rng.uniform(10_000, 200_000) for _ in countries), reverse=True)
    sources = {
        "Playlists": 0.41,
        "Artist profile": 0.22,
        "Search": 0.15,
        "Album": 0.12,
        "Radio": 0.07,
        "Other": 0.03,
    }
    return ReportData(
        artist_name=name,
        start=START,
        end=END,
        generated_at=GENERATED,
        streams=[SeriesPoint(d, v) for d, v in zip(days, streams, strict=True)],
        listeners=[SeriesPoint(d, v) for d, v in zip(days, listeners, strict=True)],
        monthly_listeners=[SeriesPoint(d, v) for d, v in zip(days, monthly, strict=True)],
        streams_forecast=band,
        totals=[
            Total("Streams", total, total / 1.18, 0.18),
            Total("Listeners", sum(listeners) * 0.3, sum(listeners) * 0.31, -0.0323),
            Total("Monthly listeners", monthly[-1], None, None),
        ],
        top_tracks=[Ranked(t, v) for t, v in zip(tracks, track_values, strict=True)],
        countries=[
            Ranked(c, v, v / sum(country_values)) for c, v in zip(countries, country_values, strict=True)
        ],
        sources=[Ranked(label, round(share * total), share) for label, share in sources.items()],
    )


def empty_report() -> ReportData:
    return ReportData(
        artist_name="Nobody Yet",
        start=date(2025, 3, 1),
        end=date(2025, 3, 31),
        generated_at=datetime(2025, 4, 1, 8, 0),  # naive: taken as UTC
        streams=[],
        listeners=[],
        monthly_listeners=[],
        streams_forecast=None,
        totals=[
            Total("Streams", 0, 0, None),
            Total("Listeners", 0, 0, None),
            Total("Monthly listeners", 0, None, None),
        ],
        top_tracks=[],
        countries=[],
        sources=[],
    )


def by_format(files: list[RenderedFile]) -> dict[ReportFormat, RenderedFile]:
    assert len({f.format for f in files}) == len(files)
    return {f.format: f for f in files}


def pdf_text(pdf: bytes, tmp_path: Path, first_page_only: bool = False) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    pages = ["-f", "1", "-l", "1"] if first_page_only else []
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", *pages, str(path), "-"], capture_output=True, check=True, timeout=30
    )
    return result.stdout.decode("utf-8")


def first_page_png(pdf: bytes, tmp_path: Path, dpi: int = 50) -> Path:
    path = tmp_path / "page.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", "1", str(path), str(tmp_path / "page")],
        check=True,
        capture_output=True,
        timeout=30,
    )
    (png,) = tmp_path.glob("page-*1.png")
    return png


def ink(png: Path) -> tuple[float, float]:
    """(standard deviation of the grey level, share of non-white pixels) of an image."""
    import matplotlib.image
    import numpy as np

    pixels = np.asarray(matplotlib.image.imread(str(png)), dtype=float)
    grey = pixels[..., :3].mean(axis=-1) if pixels.ndim == 3 else pixels
    if grey.max() > 1:
        grey = grey / 255
    return float(grey.std()), float((grey < 0.95).mean())


@pytest.fixture(scope="module")
def realistic_pdf() -> tuple[list[RenderedFile], float]:
    data = realistic_report()
    started = time.perf_counter()
    files = render(data, list(Section), ReportFormat.PDF)
    return files, time.perf_counter() - started


def test_realistic_pdf_renders_every_section_as_real_text(
    poppler: None, realistic_pdf: tuple[list[RenderedFile], float], tmp_path: Path
) -> None:
    files, seconds = realistic_pdf
    pdf = by_format(files)[ReportFormat.PDF]
    assert pdf.filename == "bjork-sigur-ros-2025-01-01-2025-12-31.pdf"
    assert pdf.content_type == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    print(
        f"realistic PDF: {len(pdf.content) / 1024:.1f} KiB in {seconds * 1000:.0f} ms (matplotlib import included)"
    )
    assert len(pdf.content) < 250_000, "charts should stay vector and small"
    assert seconds < 10

    first = pdf_text(pdf.content, tmp_path, first_page_only=True)
    assert NAME in first
    assert "1 Jan 2025 \N{EN DASH} 31 Dec 2025" in first
    assert "Generated 2 Jan 2026, 09:30 UTC" in first
    text = pdf_text(pdf.content, tmp_path)
    for heading in HEADINGS.values():
        assert heading in text
    for expected in (
        "Forecast",
        "80 % interval",
        "95 % interval",
        "Monthly listeners",
        "+18.0 %",
        "-3.2 %",
        "Hoppípolla",
        "Ke$ha Remix / 2025 (feat. A$AP)",
        "Iceland",
        "Playlists",
    ):
        assert expected in text, expected
    assert EMPTY_MESSAGE not in text


def test_first_page_is_not_blank(
    poppler: None, realistic_pdf: tuple[list[RenderedFile], float], tmp_path: Path
) -> None:
    files, _ = realistic_pdf
    png = first_page_png(by_format(files)[ReportFormat.PDF].content, tmp_path)
    deviation, inked = ink(png)
    assert deviation > 0.05 and inked > 0.02, (deviation, inked)


def test_pdf_comes_with_the_csv_of_the_series(realistic_pdf: tuple[list[RenderedFile], float]) -> None:
    files, _ = realistic_pdf
    assert [f.format for f in files] == [ReportFormat.PDF, ReportFormat.CSV]
    assert files[1].filename == "bjork-sigur-ros-2025-01-01-2025-12-31.csv"


def test_csv_has_a_row_per_day_then_the_forecast() -> None:
    data = realistic_report()
    (file,) = render(data, [], ReportFormat.CSV)
    assert file.content_type == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(file.content.decode("utf-8"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    body = rows[1:]
    assert len(body) == DAYS + HORIZON
    assert [r[0] for r in body] == [(START + timedelta(days=i)).isoformat() for i in range(DAYS + HORIZON)]
    actual, future = body[:DAYS], body[DAYS:]
    assert all(r[1:4] != ["", "", ""] and r[4:] == [""] * 5 for r in actual)
    assert all(r[1:4] == ["", "", ""] and all(r[4:]) for r in future)
    assert sum(int(r[1]) for r in actual) == sum(p.value for p in data.streams)
    assert data.streams_forecast is not None
    assert float(future[0][4]) == pytest.approx(data.streams_forecast.point[0], abs=0.01)
    assert all(float(r[7]) <= float(r[5]) <= float(r[4]) <= float(r[6]) <= float(r[8]) for r in future)


def test_json_is_the_same_data() -> None:
    data = realistic_report()
    (file,) = render(data, [Section.TOTALS, Section.TOP_TRACKS], ReportFormat.JSON)
    assert (file.filename, file.content_type) == (
        "bjork-sigur-ros-2025-01-01-2025-12-31.json",
        "application/json",
    )
    document = orjson.loads(file.content)
    assert document["artist_name"] == NAME
    assert (document["start"], document["end"]) == ("2025-01-01", "2025-12-31")
    assert document["generated_at"] == "2026-01-02T09:30:00Z"
    assert document["has_plays"] is True
    assert len(document["series"]) == DAYS + HORIZON
    assert list(document["series"][0]) == list(CSV_COLUMNS)
    assert document["series"][-1]["streams"] is None and document["series"][-1]["forecast_point"] > 0
    assert [t["label"] for t in document["totals"]] == ["Streams", "Listeners", "Monthly listeners"]
    assert document["top_tracks"][0]["label"] == "Jóga"
    assert "countries" not in document and "sources" not in document


def test_png_dashboard(realistic_pdf: tuple[list[RenderedFile], float], tmp_path: Path) -> None:
    files = by_format(render(realistic_report(), list(Section), ReportFormat.PNG))
    png = files[ReportFormat.PNG]
    assert set(files) == {ReportFormat.PNG, ReportFormat.CSV}
    assert (png.filename, png.content_type) == ("bjork-sigur-ros-2025-01-01-2025-12-31.png", "image/png")
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    width = int.from_bytes(png.content[16:20], "big")
    assert width == 13 * 150
    path = tmp_path / "dashboard.png"
    path.write_bytes(png.content)
    deviation, inked = ink(path)
    assert deviation > 0.05 and inked > 0.02


def test_empty_state_says_so_on_every_chart(poppler: None, tmp_path: Path) -> None:
    data = empty_report()
    files = by_format(render(data, list(Section), ReportFormat.PDF))
    first = pdf_text(files[ReportFormat.PDF].content, tmp_path, first_page_only=True)
    assert "Nobody Yet" in first and EMPTY_MESSAGE in first
    text = pdf_text(files[ReportFormat.PDF].content, tmp_path)
    # The notice under the header, then one per chart (the totals table shows its zeros).
    assert text.count(EMPTY_MESSAGE) == 1 + 5
    rows = list(csv.reader(io.StringIO(files[ReportFormat.CSV].content.decode("utf-8"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 1 + 31
    assert all(r[1:4] == ["0", "0", "0"] and r[4:] == [""] * 5 for r in rows[1:])
    png = render(data, list(Section), ReportFormat.PNG)[0]
    assert png.content.startswith(b"\x89PNG")
    document = orjson.loads(render(data, list(Section), ReportFormat.JSON)[0].content)
    assert document["has_plays"] is False and len(document["series"]) == 31


def test_only_the_selected_sections_are_rendered(poppler: None, tmp_path: Path) -> None:
    files = by_format(render(realistic_report(), [Section.TOP_TRACKS], ReportFormat.PDF))
    text = pdf_text(files[ReportFormat.PDF].content, tmp_path)
    assert "Top tracks" in text and "Jóga" in text
    for section in (Section.SOURCES, Section.STREAMS, Section.COUNTRIES, Section.TOTALS, Section.LISTENERS):
        assert HEADINGS[section] not in text


def test_rendering_is_deterministic_and_ignores_section_order(poppler: None) -> None:
    data = realistic_report()
    first = render(data, [Section.SOURCES, Section.TOP_TRACKS], ReportFormat.PDF)
    again = render(data, [Section.TOP_TRACKS, Section.SOURCES, Section.TOP_TRACKS], ReportFormat.PDF)
    assert first == again


def test_a_one_day_range(tmp_path: Path) -> None:
    data = realistic_report()
    day = date(2025, 6, 1)
    one = dataclasses.replace(data, start=day, end=day, streams_forecast=None, top_tracks=[])
    files = by_format(render(one, [Section.STREAMS, Section.LISTENERS, Section.TOP_TRACKS], ReportFormat.PNG))
    path = tmp_path / "one.png"
    path.write_bytes(files[ReportFormat.PNG].content)
    assert ink(path)[1] > 0.01
    rows = list(csv.reader(io.StringIO(files[ReportFormat.CSV].content.decode("utf-8"))))
    assert [r[0] for r in rows[1:]] == ["2025-06-01"]


def test_sections_need_choosing_for_charts() -> None:
    with pytest.raises(ValueError, match="at least one section"):
        render(realistic_report(), [], ReportFormat.PDF)


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Björk & Sigur Rós", "bjork-sigur-ros"),
        ("AC/DC", "ac-dc"),
        ("../../etc/passwd", "etc-passwd"),
        ("Ke$ha", "ke-ha"),
        ("  --Ümläut--  ", "umlaut"),
        ("x" * 200, "x" * 60),
    ],
)
def test_slugs_are_safe_file_names(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_names_without_ascii_get_a_stable_hashed_slug() -> None:
    assert slugify("宇多田ヒカル") == slugify("宇多田ヒカル")
    assert slugify("宇多田ヒカル").startswith("artist-") and slugify("宇多田ヒカル") != slugify("🎸")


def test_dollars_and_control_characters_are_plain_text(poppler: None, tmp_path: Path) -> None:
    """ "$...$" is not TeX, and control characters do not break the layout."""
    files = by_format(
        render(realistic_report("Ke$ha & A$AP $$\nLive\tat\x00Home"), [Section.TOTALS], ReportFormat.PDF)
    )
    pdf = files[ReportFormat.PDF]
    assert pdf.filename == "ke-ha-a-ap-live-at-home-2025-01-01-2025-12-31.pdf"
    assert "Ke$ha & A$AP $$ Live at Home" in pdf_text(pdf.content, tmp_path, first_page_only=True)


def test_long_and_non_latin_names_render(tmp_path: Path) -> None:
    """A very long name shrinks and is cut; a script DejaVu Sans lacks renders as missing glyphs
    (matplotlib warns) but does not fail, and its file name falls back to a hashed slug."""
    (png, _) = render(realistic_report("A" * 300), [Section.TOTALS], ReportFormat.PNG)
    assert png.filename.startswith("a" * 60 + "-2025")
    with pytest.warns(UserWarning, match="missing from font"):
        (png, _) = render(realistic_report("宇多田ヒカル"), [Section.TOTALS], ReportFormat.PNG)
    assert png.filename.startswith("artist-") and png.filename.isascii()
    path = tmp_path / "name.png"
    path.write_bytes(png.content)
    assert ink(path)[1] > 0.01


def test_importing_the_package_does_not_import_matplotlib() -> None:
    code = (
        "import sys, subgraphs.analytics.reports; print('matplotlib' in sys.modules, 'numpy' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.stdout.split() == ["False", "False"]
