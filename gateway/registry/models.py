"""The registry's tables (platform database, migration branch `registry`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.db.mixins import UTCDateTime, utcnow


class Team(SQLModel, table=True):
    """A partner team: its API keys are the keys of one accounts tenant."""

    __tablename__ = "registry_team"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=100, unique=True)
    tenant_id: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NameGrant(SQLModel, table=True):
    """Which subgraph names a team may own (a name or a `prefix-*` pattern); Casbin decides."""

    __tablename__ = "registry_name_grant"
    __table_args__ = (UniqueConstraint("team_id", "pattern", name="uq_registry_name_grant"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=64, index=True)
    pattern: str = Field(max_length=100)
    granted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Subgraph(SQLModel, table=True):
    __tablename__ = "registry_subgraph"

    name: str = Field(primary_key=True, max_length=64)
    team_id: str = Field(max_length=64)
    routing_url: str = Field(max_length=500)
    current_version_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SchemaVersion(SQLModel, table=True):
    """Every published SDL of a subgraph."""

    __tablename__ = "registry_schema_version"
    __table_args__ = (Index("ix_registry_schema_version_subgraph", "subgraph", "published_at"),)

    id: str = Field(primary_key=True, max_length=64)
    subgraph: str = Field(max_length=64)
    sdl: str = Field(sa_column=Column(Text, nullable=False))
    sdl_hash: str = Field(max_length=64)
    routing_url: str = Field(max_length=500)
    published_by: str = Field(max_length=64)
    published_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SupergraphVersion(SQLModel, table=True):
    """Every composed supergraph; the newest is what the router serves."""

    __tablename__ = "registry_supergraph_version"

    id: str = Field(primary_key=True, max_length=64)
    sdl: str = Field(sa_column=Column(Text, nullable=False))
    public_sdl: str = Field(sa_column=Column(Text, nullable=False))
    sdl_hash: str = Field(max_length=64)
    members: dict = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    """Subgraph name -> schema version id."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    cause: str = Field(max_length=200)
    previous_id: str | None = Field(default=None, max_length=64, unique=True, index=True)
    """The version this one was composed from ("root" for the first): unique, so two registry
    replicas that composed from the same version cannot both commit; the loser recomposes."""


class SchemaCheck(SQLModel, table=True):
    """A check and what it found (also the checks run before every publish and delete)."""

    __tablename__ = "registry_schema_check"
    __table_args__ = (Index("ix_registry_schema_check_subgraph", "subgraph", "created_at"),)

    id: str = Field(primary_key=True, max_length=64)
    subgraph: str = Field(max_length=64)
    action: str = Field(max_length=16)
    """check, publish or delete."""
    team_id: str = Field(max_length=64)
    candidate_sdl: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    passed: bool
    findings: list = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FieldUsage(SQLModel, table=True):
    """How often an operation used a schema coordinate, per client and minute."""

    __tablename__ = "registry_field_usage"
    __table_args__ = (
        UniqueConstraint(
            "coordinate",
            "operation_hash",
            "client_name",
            "client_version",
            "bucket",
            name="uq_registry_field_usage",
        ),
        Index("ix_registry_field_usage_coordinate_bucket", "coordinate", "bucket"),
    )

    id: int | None = Field(default=None, primary_key=True)
    coordinate: str = Field(max_length=300)
    operation_hash: str = Field(max_length=64)
    operation_name: str | None = Field(default=None, max_length=200)
    client_name: str = Field(default="", max_length=100)
    client_version: str = Field(default="", max_length=100)
    bucket: datetime = Field(sa_type=UTCDateTime)
    count: int = 0
