"""Domain events of search (on `events:search`): a sample of the query vectors people search
with, anonymous (no user, no text), so the models trained on the platform can be checked for
drift against what is being asked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shared.domain_events import EventPayload


@dataclass(frozen=True, kw_only=True)
class QuerySampled(EventPayload):
    """One SEMANTIC or HYBRID query's MiniLM vector (`model_version`), a `SEARCH_QUERY_SAMPLE_RATE`
    share of them. The tenant is kept for isolation; the user and the words are not."""

    TYPE: ClassVar[str] = "search.query.sampled"
    model_version: str
    vector: list[float]
