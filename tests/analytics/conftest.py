"""Feeding analytics as spotify's events do: the sample catalogue's artists and tracks, and
synthetic listening as `spotify.plays.ingested` batches, applied by analytics' own consumers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

from shared.db import Database
from subgraphs.analytics.tasks import project_catalogue, project_plays
from subgraphs.spotify.catalogue import projection
from subgraphs.spotify.catalogue.offline import load_sample
from subgraphs.spotify.data.listening import SyntheticPlay
from tests.support.domain_events import apply, event

AUDIENCE_TENANT = "tnt_audience"
PLAYS_PER_EVENT = 500


async def project_sample_catalogue(database: Database) -> None:
    sample = load_sample()
    genres = projection.artist_genres(sample["artists"])
    for kind in ("artist", "track"):
        items = [projection.item(kind, obj, genres) for obj in sample[f"{kind}s"]]
        for start in range(0, len(items), 200):
            await apply(
                database,
                project_catalogue,
                event("spotify.catalogue.upserted", {"kind": kind, "items": items[start : start + 200]}),
            )


def entry(play: SyntheticPlay) -> dict[str, Any]:
    return {
        "track_id": play.track_id,
        "played_at": play.played_at.isoformat(),
        "ms_played": play.ms_played,
        "device": play.device,
        "source": play.source,
        "country": play.country,
        "city": play.city,
        **({"context_uri": play.context} if play.context else {}),
    }


async def project_plays_of(
    database: Database, plays: Sequence[SyntheticPlay], tenant_id: str = AUDIENCE_TENANT
) -> int:
    """The plays as `spotify.plays.ingested` events, a listener's at a time; returns how many."""
    count = 0
    ordered = sorted(plays, key=lambda play: (play.user_id, play.played_at))
    for user_id, of_user in groupby(ordered, key=lambda play: play.user_id):
        batch = [entry(play) for play in of_user]
        for start in range(0, len(batch), PLAYS_PER_EVENT):
            chunk = batch[start : start + PLAYS_PER_EVENT]
            payload = {"user_id": user_id, "country": None, "new": len(chunk), "plays": chunk}
            await apply(database, project_plays, event("spotify.plays.ingested", payload, tenant_id, count))
            count += len(chunk)
    return count


def day_end(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)
