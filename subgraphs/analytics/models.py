"""The analytics subgraph's tables: plays as facts (from spotify's `spotify.plays.ingested`),
the catalogue it needs to credit a play to its artists, which tenant has claimed which artist,
and the rollups every query reads. Tables start with `analytics_` (its migration branch);
nothing here is read from another subgraph's tables.

Plays are the platform's listening, not one tenant's: an artist's audience is every listener
of its tracks, whichever tenant they came through. What a tenant sees of it is decided by its
claims, and only in aggregate: no query returns a listener."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Column, Date, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.db.mixins import TenantMixin, UTCDateTime, utcnow

CLUSTERED = {"sqlite_with_rowid": False}
"""Rollup tables are read by ranges of their primary key (an artist's days): on SQLite they
are stored in key order (WITHOUT ROWID), so a range is one contiguous read and the key is not
stored twice (an index beside a rowid table)."""


class AnalyticsPlay(SQLModel, table=True):
    """One play: once per (tenant, user, track, time), the event's natural key. `listener` is
    a 64-bit digest of (tenant, user), what distinct counts count. Empty strings stand for an
    unknown country, city, source or device, so they group like any other value."""

    __tablename__ = "analytics_play"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "track_id", "played_at", name="uq_analytics_play"),
        Index("ix_analytics_play_day", "day"),
        # Cover what a track's or a playlist's listeners read: their distinct counts are
        # answered from the index alone (5 ms, not 25, for a year of a top track at 1M plays).
        Index("ix_analytics_play_track_listeners", "track_id", "day", "stream", "listener"),
        Index("ix_analytics_play_context_listeners", "context_uri", "day", "track_id", "stream", "listener"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(max_length=64)
    user_id: str = Field(max_length=64)
    track_id: str = Field(max_length=64)
    played_at: datetime = Field(sa_type=UTCDateTime)
    day: date = Field(sa_type=Date)
    listener: int = Field(sa_type=BigInteger)
    ms_played: int | None = None
    stream: bool
    """A play of 30 s or more (Spotify's rule); the others are skips."""
    country: str = Field(default="", max_length=2)
    city: str = Field(default="", max_length=80)
    source: str = Field(default="", max_length=32)
    device: str = Field(default="", max_length=32)
    context_uri: str | None = Field(default=None, max_length=120)


class AnalyticsTrack(SQLModel, table=True):
    """A catalogue track (from `spotify.catalogue.upserted`)."""

    __tablename__ = "analytics_track"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=300)
    album_name: str | None = Field(default=None, max_length=300)
    year: int | None = None
    artist_ids: list = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]


class AnalyticsTrackArtist(SQLModel, table=True):
    """Each artist credited on a track: a stream counts for every one of them."""

    __tablename__ = "analytics_track_artist"
    __table_args__ = (Index("ix_analytics_track_artist_artist", "artist_id"), CLUSTERED)

    track_id: str = Field(primary_key=True, max_length=64)
    artist_id: str = Field(primary_key=True, max_length=64)


class AnalyticsArtist(SQLModel, table=True):
    """A catalogue artist: its name for reports, its followers where the catalogue says."""

    __tablename__ = "analytics_artist"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=300)
    followers: int | None = None
    popularity: int | None = None


class AnalyticsArtistClaim(TenantMixin, table=True):
    """A tenant's claim on an artist: its analytics are visible to the tenant once verified
    (by a platform admin, or recorded verified by the platform itself: the sample account's
    artists offline)."""

    __tablename__ = "analytics_artist_claim"
    __table_args__ = (UniqueConstraint("tenant_id", "artist_id", name="uq_analytics_artist_claim"),)

    id: str = Field(primary_key=True, max_length=64)
    artist_id: str = Field(max_length=64, index=True)
    status: str = Field(max_length=16)
    """`PENDING` or `VERIFIED`."""
    claimed_by: str = Field(max_length=64)
    verified_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AnalyticsRollup(SQLModel, table=True):
    """The daily rollup at its finest grain: (artist, track, day, country, source, device).
    A day's rows are replaced whole when the day is rolled again."""

    __tablename__ = "analytics_rollup"
    __table_args__ = (Index("ix_analytics_rollup_day", "day"), CLUSTERED)

    artist_id: str = Field(primary_key=True, max_length=64)
    day: date = Field(primary_key=True, sa_type=Date)
    track_id: str = Field(primary_key=True, max_length=64)
    country: str = Field(primary_key=True, max_length=2)
    source: str = Field(primary_key=True, max_length=32)
    device: str = Field(primary_key=True, max_length=32)
    streams: int
    skips: int
    listeners: int
    """Distinct listeners who streamed in this cell."""


class AnalyticsBreakdownDay(SQLModel, table=True):
    """One artist's streams, skips and distinct listeners a day by one dimension (`track`,
    `country`, `city`, `source`, `device`): what breakdowns over a range sum, a few hundred
    rows a year instead of the finest grain's many thousands."""

    __tablename__ = "analytics_breakdown_day"
    __table_args__ = (Index("ix_analytics_breakdown_day_day", "day"), CLUSTERED)

    artist_id: str = Field(primary_key=True, max_length=64)
    dimension: str = Field(primary_key=True, max_length=16)
    day: date = Field(primary_key=True, sa_type=Date)
    value: str = Field(primary_key=True, max_length=80)
    streams: int
    skips: int
    listeners: int


class AnalyticsBreakdownMonth(SQLModel, table=True):
    """`AnalyticsBreakdownDay` summed over calendar months (`month`: its first day): a year's
    breakdowns read a dozen rows per value instead of a row per day."""

    __tablename__ = "analytics_breakdown_month"
    __table_args__ = (CLUSTERED,)

    artist_id: str = Field(primary_key=True, max_length=64)
    dimension: str = Field(primary_key=True, max_length=16)
    month: date = Field(primary_key=True, sa_type=Date)
    value: str = Field(primary_key=True, max_length=80)
    streams: int
    skips: int
    listeners: int


class AnalyticsTrackDay(SQLModel, table=True):
    """A track's day: streams, skips, distinct listeners."""

    __tablename__ = "analytics_track_day"
    __table_args__ = (Index("ix_analytics_track_day_day", "day"), CLUSTERED)

    track_id: str = Field(primary_key=True, max_length=64)
    day: date = Field(primary_key=True, sa_type=Date)
    streams: int
    skips: int
    listeners: int


class AnalyticsArtistDay(SQLModel, table=True):
    """An artist's day: streams, skips, distinct listeners that day and monthly listeners
    (distinct over the 28 days ending that day, exact). A day with monthly listeners has a
    row even without a play."""

    __tablename__ = "analytics_artist_day"
    __table_args__ = (Index("ix_analytics_artist_day_day", "day"), CLUSTERED)

    artist_id: str = Field(primary_key=True, max_length=64)
    day: date = Field(primary_key=True, sa_type=Date)
    streams: int
    skips: int
    listeners: int
    monthly_listeners: int


class AnalyticsListener(SQLModel, table=True):
    """A listener digest's ordinal: small dense integers, so that a day's listeners of an
    artist are a compact roaring bitmap."""

    __tablename__ = "analytics_listener"

    ordinal: int | None = Field(default=None, primary_key=True)
    listener: int = Field(sa_type=BigInteger, unique=True)


class AnalyticsArtistAudience(SQLModel, table=True):
    """Who streamed an artist on a day: a serialized roaring bitmap of listener ordinals (no
    user id). Distinct listeners over any range are the size of a union of these, exact."""

    __tablename__ = "analytics_artist_audience"
    __table_args__ = (Index("ix_analytics_artist_audience_day", "day"), CLUSTERED)

    artist_id: str = Field(primary_key=True, max_length=64)
    day: date = Field(primary_key=True, sa_type=Date)
    listeners: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class AnalyticsDirtyDay(SQLModel, table=True):
    """A day whose plays changed since it was last rolled (new, late or re-credited plays)."""

    __tablename__ = "analytics_dirty_day"

    day: date = Field(primary_key=True, sa_type=Date)
    marked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AnalyticsReport(TenantMixin, table=True):
    """A report asked for (or scheduled): rendered by a job, its files stored as assets by the
    storage subgraph (`files`: `{assetId, filename, contentType, bytes}`)."""

    __tablename__ = "analytics_report"
    __table_args__ = (Index("ix_analytics_report_artist", "tenant_id", "artist_id", "created_at"),)

    id: str = Field(primary_key=True, max_length=64)
    artist_id: str = Field(max_length=64)
    start: date = Field(sa_type=Date)
    end: date = Field(sa_type=Date)
    format: str = Field(max_length=8)
    sections: list = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    status: str = Field(max_length=16)
    """`QUEUED`, `RUNNING`, `READY` or `FAILED`."""
    requested_by: str = Field(max_length=64)
    schedule_id: str | None = Field(default=None, max_length=64)
    files: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    error: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AnalyticsReportSchedule(TenantMixin, table=True):
    """A report a tenant wants every week (Mondays, the previous week) or month (the 1st, the
    previous month), rendered by the scheduler's cron."""

    __tablename__ = "analytics_report_schedule"
    __table_args__ = (
        UniqueConstraint("tenant_id", "artist_id", "frequency", name="uq_analytics_report_schedule"),
    )

    id: str = Field(primary_key=True, max_length=64)
    artist_id: str = Field(max_length=64)
    frequency: str = Field(max_length=8)
    """`WEEKLY` or `MONTHLY`."""
    format: str = Field(max_length=8)
    sections: list = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    created_by: str = Field(max_length=64)
    last_period_start: date | None = Field(default=None, sa_type=Date)
    """The start of the last period rendered, so a cron run twice renders it once."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
