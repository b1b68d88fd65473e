"""The ai subgraph's tables: what it learns from other domains' events (the catalogue's
tracks, plays, playlists, projects, workspace memberships, consents), the model registry
with its artifacts, and what it served (lineage). Tables start with `ai_` (its migration
branch); nothing here is read from another subgraph's tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.db.mixins import UTCDateTime, utcnow


class AiTrack(SQLModel, table=True):
    """A catalogue track as the recommender sees it (from `spotify.catalogue.upserted`):
    Spotify's, shared by every tenant."""

    __tablename__ = "ai_track"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=300)
    artist_ids: list = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    artist_names: list = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    album_id: str | None = Field(default=None, max_length=64)
    album_name: str | None = Field(default=None, max_length=300)
    genres: list = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    year: int | None = None
    popularity: int | None = None
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AiPlay(SQLModel, table=True):
    """One play of a user (from `spotify.plays.ingested`), once per (user, track, time)."""

    __tablename__ = "ai_play"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "track_id", "played_at", name="uq_ai_play"),
        Index("ix_ai_play_user", "tenant_id", "user_id", "played_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(max_length=64)
    user_id: str = Field(max_length=64)
    track_id: str = Field(max_length=64, index=True)
    played_at: datetime = Field(sa_type=UTCDateTime)


class AiPlaylist(SQLModel, table=True):
    """A playlist's tracks in order: the catalogue's (no tenant, public) and the platform's
    (from spotify's playlist events, `source_version` so a late event never wins)."""

    __tablename__ = "ai_playlist"

    id: str = Field(primary_key=True, max_length=64)
    tenant_id: str | None = Field(default=None, max_length=64, index=True)
    owner_id: str | None = Field(default=None, max_length=64, index=True)
    public: bool = True
    track_ids: list = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    source_version: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AiProject(SQLModel, table=True):
    """A workspace project's tracks (a playlist draft's or a release plan's `trackIds`)."""

    __tablename__ = "ai_project"

    id: str = Field(primary_key=True, max_length=64)
    tenant_id: str = Field(max_length=64, index=True)
    workspace_id: str = Field(max_length=64)
    title: str = Field(max_length=200)
    track_ids: list = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    deleted: bool = False
    source_version: int = 0


class AiWorkspaceMember(SQLModel, table=True):
    """Who may seed recommendations with a workspace's projects."""

    __tablename__ = "ai_workspace_member"

    workspace_id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(primary_key=True, max_length=64)
    tenant_id: str = Field(max_length=64, index=True)


class AiConsent(SQLModel, table=True):
    """A user's `personalization` consent as accounts last announced it. No row: the token's
    consent claim decides (the events have not arrived yet)."""

    __tablename__ = "ai_consent"

    user_id: str = Field(primary_key=True, max_length=64)
    tenant_id: str = Field(max_length=64, index=True)
    personalization: bool
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AiModel(SQLModel, table=True):
    """One version of a model in the registry: what it is, how it evaluated, on which data,
    and its stage (`candidate`, `production`, `archived`; one production per name)."""

    __tablename__ = "ai_model"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_ai_model_version"),)

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=64, index=True)
    version: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    stage: str = Field(max_length=16, index=True)
    metrics: dict = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    snapshot: dict = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    params: dict = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    created_by: str = Field(max_length=96)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    stage_changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    promoted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When it last entered production (a rollback returns to the latest one before)."""


class AiModelArtifact(SQLModel, table=True):
    """A model version's weights (an `.npz`), in the database so every replica loads the
    same bytes."""

    __tablename__ = "ai_model_artifact"

    model_id: str = Field(primary_key=True, max_length=64)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sha256: str = Field(max_length=64)


class AiRecommendationLog(SQLModel, table=True):
    """What was recommended to whom, from which seed, by which model version (lineage)."""

    __tablename__ = "ai_recommendation_log"
    __table_args__ = (Index("ix_ai_recommendation_log_user", "tenant_id", "user_id", "created_at"),)

    id: str = Field(primary_key=True, max_length=64)
    tenant_id: str = Field(max_length=64)
    user_id: str | None = Field(default=None, max_length=64)
    seed_kind: str = Field(max_length=16)
    seed_id: str | None = Field(default=None, max_length=64)
    model_version: str = Field(max_length=64)
    personalized: bool
    track_ids: list = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AiGeneration(SQLModel, table=True):
    """One content generation: what was asked, the facts it was grounded on, the prompt's
    template version and hash, which provider and model wrote it (lineage), the text (the
    partial text of a failed stream too), usage, flags and the requester's rating. Prompts
    and outputs live here only, never in a log line."""

    __tablename__ = "ai_generation"
    __table_args__ = (
        Index("ix_ai_generation_subject", "tenant_id", "subject_type", "subject_id", "created_at"),
    )

    id: str = Field(primary_key=True, max_length=64)
    tenant_id: str = Field(max_length=64, index=True)
    user_id: str = Field(max_length=64)
    job_id: str | None = Field(default=None, max_length=64)
    kind: str = Field(max_length=32)
    subject_type: str = Field(max_length=16)
    subject_id: str = Field(max_length=64)
    language: str = Field(max_length=8)
    tone: str | None = Field(default=None, max_length=16)
    max_words: int
    status: str = Field(max_length=16)
    """`queued`, `running`, `succeeded` or `failed`."""
    text: str = ""
    finish_reason: str | None = Field(default=None, max_length=32)
    error: str | None = Field(default=None, max_length=500)
    facts: dict = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    prompt_template_version: str | None = Field(default=None, max_length=32)
    prompt_hash: str | None = Field(default=None, max_length=64)
    provider: str | None = Field(default=None, max_length=32)
    model: str | None = Field(default=None, max_length=128)
    usage: dict = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    flags: list = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    rating: int | None = None
    rating_comment: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AiTenantPolicy(SQLModel, table=True):
    """A tenant's generation rules, set by its admins: terms whose appearance flags an
    output, and how many tokens a day it may spend (None: the platform default)."""

    __tablename__ = "ai_tenant_policy"

    tenant_id: str = Field(primary_key=True, max_length=64)
    blocked_terms: list = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    daily_token_budget: int | None = None
    updated_by: str = Field(max_length=64)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AiDriftReport(SQLModel, table=True):
    """One drift check of a model version on one signal: its PSI (and centroid shift for
    embeddings), the counts compared and the level (`ok`, `warning`, `alert`, `insufficient`)."""

    __tablename__ = "ai_drift_report"
    __table_args__ = (Index("ix_ai_drift_report_model", "model_name", "created_at"),)

    id: str = Field(primary_key=True, max_length=64)
    model_name: str = Field(max_length=64)
    model_version: str = Field(max_length=64)
    signal: str = Field(max_length=32)
    psi: float | None = None
    centroid_shift: float | None = None
    reference_count: int
    recent_count: int
    level: str = Field(max_length=16)
    details: dict = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AiQuerySample(SQLModel, table=True):
    """A sampled search query's vector (`search.query.sampled`): no user, no words; what the
    drift check compares with the production model's track vectors."""

    __tablename__ = "ai_query_sample"

    id: int | None = Field(default=None, primary_key=True)
    model_version: str = Field(max_length=64)
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sampled_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
