"""Artist analytics reports rendered from plain data: PDF, PNG, CSV and JSON.

Importing this package is cheap: matplotlib is imported by `render` on the first PDF or PNG.
"""

from subgraphs.analytics.reports.model import (
    Band,
    Ranked,
    RenderedFile,
    ReportData,
    ReportFormat,
    Section,
    SeriesPoint,
    Total,
)
from subgraphs.analytics.reports.render import render

__all__ = [
    "Band",
    "Ranked",
    "RenderedFile",
    "ReportData",
    "ReportFormat",
    "Section",
    "SeriesPoint",
    "Total",
    "render",
]
