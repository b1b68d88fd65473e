"""Append-only, hash-chained audit log (one chain per tenant)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.db.mixins import UTCDateTime, utcnow


class AuditRecord(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("chain", "seq", name="uq_audit_log_chain_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    chain: str = Field(max_length=64, index=True)
    seq: int
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    subgraph: str = Field(max_length=32)
    principal_id: str | None = Field(default=None, max_length=64)
    tenant_id: str | None = Field(default=None, max_length=64)
    operation: str = Field(max_length=128)
    target_id: str | None = Field(default=None, max_length=128)
    outcome: str = Field(max_length=64)
    input_json: str
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditChainHead(SQLModel, table=True):
    """Latest (seq, hash) per chain: detects truncated tails and serializes writers."""

    __tablename__ = "audit_chain_head"

    chain: str = Field(primary_key=True, max_length=64)
    seq: int
    hash: str = Field(max_length=64)
