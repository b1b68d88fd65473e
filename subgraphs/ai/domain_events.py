"""Domain events of ai (on `events:ai`): models entering production or leaving it, drift
reports that cross a threshold (notifications picks the alerts up for platform admins), and
content generations that ended."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shared.domain_events import EventPayload


@dataclass(frozen=True, kw_only=True)
class ModelRegistered(EventPayload):
    TYPE: ClassVar[str] = "ai.model.registered"
    model_id: str
    name: str
    version: str
    kind: str


@dataclass(frozen=True, kw_only=True)
class ModelPromoted(EventPayload):
    """`version` is in production now; `previous` was (None: the first one); `reason` is
    `manual`, `rollback` or `auto` (a candidate that beat production on the evaluation)."""

    TYPE: ClassVar[str] = "ai.model.promoted"
    model_id: str
    name: str
    version: str
    previous: str | None
    reason: str


@dataclass(frozen=True, kw_only=True)
class DriftDetected(EventPayload):
    """A drift check crossed a threshold (`level`: `warning` at PSI >= 0.1, `alert` at >= 0.25):
    platform admins should look (notifications picks it up)."""

    TYPE: ClassVar[str] = "ai.model.drift_detected"
    report_id: str
    name: str
    version: str
    signal: str
    level: str
    psi: float


@dataclass(frozen=True, kw_only=True)
class GenerationFinished(EventPayload):
    """A content generation job ended (`status`: `succeeded` or `failed`), for the person who
    asked (notifications tells them)."""

    TYPE: ClassVar[str] = "ai.generation.finished"
    generation_id: str
    user_id: str
    kind: str
    """What was written (`artist_bio`, `release_pitch`, ...)."""
    status: str
