"""The offline sample's audience: synthetic listeners (`data/listening.py`: taste clusters by
genre, popularity skew, sessions, repeat listening, skips) whose plays are ingested like a
library sync's, with what a listening history knows of each (context, time played, device,
source of stream, country), so every consumer of `spotify.plays.ingested` (ai's recommender
and its evaluation) has listening to learn from offline."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime

from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlmodel import col

from shared.db import Database
from shared.domain_events import publish_pending
from subgraphs.spotify.catalogue.library import Play
from subgraphs.spotify.data.listening import generate_listening
from subgraphs.spotify.models import StreamEvent
from subgraphs.spotify.service.sync import ingest_plays

AUDIENCE_TENANT = "tnt_sample_audience"
"""The synthetic listeners' tenant (no account signs in to it)."""
LISTENERS_PER_TRANSACTION = 25
PLAYS_PER_INGESTION = 200
"""A listener's plays per event, about a month of them: what a library sync reads at once."""
PLAYS_PER_LISTENER_PER_DAY = 5.96
"""What the generator's listeners play a day on average (measured: 160,863 plays by 300 over
90 days); `listeners_for` sizes an audience to a number of plays with it."""


def listeners_for(plays: int, days: int) -> int:
    """How many synthetic listeners make about `plays` plays over `days`."""
    return max(1, round(plays / (days * PLAYS_PER_LISTENER_PER_DAY)))


async def seed_audience(
    db: Database,
    redis: Redis | None = None,
    *,
    listeners: int = 150,
    days: int = 365,
    seed: int = 7,
    end: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Ingests the audience's plays once (nothing when it already has some); returns how many.
    The window ends at `end` (default: today's midnight UTC), so "the last 28 days" have plays.
    Each listener's plays are ingested a month at a time (one `spotify.plays.ingested` each)."""
    async with db.read() as session:
        stored = await session.execute(
            select(func.count()).select_from(StreamEvent).where(col(StreamEvent.tenant_id) == AUDIENCE_TENANT)
        )
        if stored.scalar_one():
            return 0
    end = end or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    listening = generate_listening(listeners=listeners, days=days, seed=seed, end=end)
    country = {listener.id: listener.country for listener in listening.listeners}
    plays_of: dict[str, list[Play]] = defaultdict(list)
    for play in listening.plays:
        plays_of[play.user_id].append(
            Play(
                play.track_id,
                play.played_at,
                context_uri=play.context,
                ms_played=play.ms_played,
                device=play.device,
                source=play.source,
                country=play.country,
                city=play.city,
            )
        )
    total, users = 0, list(plays_of)
    for start in range(0, len(users), LISTENERS_PER_TRANSACTION):
        chunk = users[start : start + LISTENERS_PER_TRANSACTION]
        async with db.write() as session:
            for user_id in chunk:
                plays = plays_of[user_id]
                for start in range(0, len(plays), PLAYS_PER_INGESTION):
                    total += await ingest_plays(
                        session,
                        AUDIENCE_TENANT,
                        user_id,
                        plays[start : start + PLAYS_PER_INGESTION],
                        country[user_id],
                    )
        if redis is not None:
            await publish_pending(redis, db, session)
        if progress:
            progress(len(chunk))
    return total


async def most_played_artists(db: Database, count: int) -> list[str]:
    """The artists the sample audience streamed most (credited on the tracks played): the
    ones a demo shows analytics of."""
    from subgraphs.spotify.catalogue.offline import load_sample

    async with db.read() as session:
        rows = await session.execute(
            select(col(StreamEvent.track_id), func.count())
            .where(col(StreamEvent.tenant_id) == AUDIENCE_TENANT)
            .group_by(col(StreamEvent.track_id))
        )
        plays_of_track = dict(rows.all())
    plays_of_artist: dict[str, int] = defaultdict(int)
    for track in load_sample()["tracks"]:
        for artist in track["artists"]:
            plays_of_artist[artist["id"]] += plays_of_track.get(track["id"], 0)
    ranked = sorted(plays_of_artist, key=lambda artist: (-plays_of_artist[artist], artist))
    return [artist for artist in ranked[:count] if plays_of_artist[artist]]
