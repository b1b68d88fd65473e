"""What the accounts subgraph runs with beyond the platform."""

from __future__ import annotations

from dataclasses import dataclass

HEARTBEAT_SECONDS = 15.0


@dataclass
class AccountsServices:
    heartbeat_seconds: float = HEARTBEAT_SECONDS
    """How long `accountEvents` stays silent before it sends a heartbeat."""
