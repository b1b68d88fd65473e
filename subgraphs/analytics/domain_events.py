"""Domain events of analytics (on `events:analytics`): what other subgraphs (notifications)
may react to. Ids and what a message needs; never a listener."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shared.domain_events import EventPayload


@dataclass(frozen=True, kw_only=True)
class ReportReady(EventPayload):
    """A report was rendered and its files stored as assets (`asset_ids`, the storage
    subgraph's ids; the PDF or PNG first)."""

    TYPE: ClassVar[str] = "analytics.report.ready"
    report_id: str
    artist_id: str
    requested_by: str
    format: str
    artist_name: str = ""
    asset_ids: list[str]
    schedule_id: str | None


@dataclass(frozen=True, kw_only=True)
class ReportFailed(EventPayload):
    TYPE: ClassVar[str] = "analytics.report.failed"
    report_id: str
    artist_id: str
    requested_by: str
    reason: str
    artist_name: str = ""
