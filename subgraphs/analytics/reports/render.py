"""`render`: report data in, files out. Synchronous CPU work: run it in a thread from async code."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from subgraphs.analytics.reports.formatting import slugify
from subgraphs.analytics.reports.model import RenderedFile, ReportData, ReportFormat, Section
from subgraphs.analytics.reports.tabular import to_csv, to_json

log = logging.getLogger("subgraphs.analytics.reports")

CONTENT_TYPES = {
    ReportFormat.PDF: "application/pdf",
    ReportFormat.PNG: "image/png",
    ReportFormat.CSV: "text/csv; charset=utf-8",
    ReportFormat.JSON: "application/json",
}


def filename(data: ReportData, report_format: ReportFormat) -> str:
    """`{artist-slug}-{start}-{end}.{ext}`: ASCII, no path separators, whatever the name holds."""
    return (
        f"{slugify(data.artist_name)}-{data.start.isoformat()}-{data.end.isoformat()}.{report_format.value}"
    )


def _file(data: ReportData, report_format: ReportFormat, content: bytes) -> RenderedFile:
    return RenderedFile(report_format, filename(data, report_format), CONTENT_TYPES[report_format], content)


def render(data: ReportData, sections: Sequence[Section], report_format: ReportFormat) -> list[RenderedFile]:
    """Render the selected sections of a report.

    PDF -> [PDF, CSV of the daily series]; PNG -> [PNG, CSV]; CSV -> [CSV]; JSON -> [JSON].
    Sections render in `Section` order whatever the order given; duplicates are ignored. PDF and
    PNG need at least one section. The CSV is the daily series whatever the sections.
    """
    chosen = [s for s in Section if s in set(sections)]
    if report_format in (ReportFormat.PDF, ReportFormat.PNG) and not chosen:
        raise ValueError("select at least one section to render a PDF or PNG report")
    started = time.perf_counter()
    files: list[RenderedFile] = []
    if report_format is ReportFormat.PDF:
        from subgraphs.analytics.reports.charts import render_pdf

        files.append(_file(data, ReportFormat.PDF, render_pdf(data, chosen)))
    elif report_format is ReportFormat.PNG:
        from subgraphs.analytics.reports.charts import render_png

        files.append(_file(data, ReportFormat.PNG, render_png(data, chosen)))
    elif report_format is ReportFormat.JSON:
        files.append(_file(data, ReportFormat.JSON, to_json(data, chosen)))
    if report_format is not ReportFormat.JSON:
        files.append(_file(data, ReportFormat.CSV, to_csv(data)))
    log.info(
        "analytics report rendered",
        extra={
            "report_format": report_format.value,
            "sections": [s.value for s in chosen],
            "days": (data.end - data.start).days + 1,
            "bytes": {f.format.value: len(f.content) for f in files},
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return files
