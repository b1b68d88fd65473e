from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from shared.audit.models import AuditChainHead, AuditRecord
from shared.logging import redact_mapping

GENESIS = "0" * 64
PLATFORM_CHAIN = "platform"


def _digest(row: AuditRecord) -> str:
    body = json.dumps(
        [
            row.chain,
            row.seq,
            row.at.isoformat(),
            row.subgraph,
            row.principal_id,
            row.tenant_id,
            row.operation,
            row.target_id,
            row.outcome,
            row.input_json,
            row.prev_hash,
        ],
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


async def _lock_head(session: AsyncSession, chain: str) -> AuditChainHead | None:
    stmt = select(AuditChainHead).where(col(AuditChainHead.chain) == chain)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def record(
    session: AsyncSession,
    *,
    subgraph: str,
    operation: str,
    outcome: str,
    principal_id: str | None,
    tenant_id: str | None,
    target_id: str | None = None,
    input: Mapping[str, Any] | None = None,
) -> AuditRecord:
    """Append one record in the caller's transaction (commits or rolls back with it)."""
    chain = tenant_id or PLATFORM_CHAIN
    head = await _lock_head(session, chain)
    if head is None and session.bind is not None and session.bind.dialect.name == "postgresql":
        # First record of a chain: create its head row, then lock it.
        from sqlalchemy.dialects.postgresql import insert

        await session.execute(
            insert(AuditChainHead)
            .values(chain=chain, seq=0, hash=GENESIS)
            .on_conflict_do_nothing(index_elements=["chain"])
        )
        head = await _lock_head(session, chain)
    if head is None:
        head = AuditChainHead(chain=chain, seq=0, hash=GENESIS)
    row = AuditRecord(
        chain=chain,
        seq=head.seq + 1,
        subgraph=subgraph,
        principal_id=principal_id,
        tenant_id=tenant_id,
        operation=operation,
        target_id=target_id,
        outcome=outcome,
        input_json=json.dumps(redact_mapping(dict(input or {})), sort_keys=True, default=str),
        prev_hash=head.hash,
        hash="",
    )
    row.hash = _digest(row)
    head.seq, head.hash = row.seq, row.hash
    session.add(row)
    session.add(head)
    await session.flush()
    return row


@dataclass(frozen=True)
class ChainProblem:
    chain: str
    seq: int | None
    problem: str


async def verify_chains(session: AsyncSession) -> tuple[int, list[ChainProblem]]:
    """Recompute every chain; returns (records checked, problems found)."""
    problems: list[ChainProblem] = []
    heads = {h.chain: h for h in (await session.execute(select(AuditChainHead))).scalars()}
    rows = (
        await session.execute(select(AuditRecord).order_by(col(AuditRecord.chain), col(AuditRecord.seq)))
    ).scalars()
    checked = 0
    last: dict[str, tuple[int, str]] = {}
    for row in rows:
        checked += 1
        prev_seq, prev_hash = last.get(row.chain, (0, GENESIS))
        if row.seq != prev_seq + 1:
            problems.append(ChainProblem(row.chain, row.seq, f"missing records after seq {prev_seq}"))
        if row.prev_hash != prev_hash:
            problems.append(ChainProblem(row.chain, row.seq, "link to previous record broken"))
        if _digest(row) != row.hash:
            problems.append(ChainProblem(row.chain, row.seq, "record was altered"))
        last[row.chain] = (row.seq, row.hash)
    for chain, head in heads.items():
        if last.get(chain, (0, GENESIS)) != (head.seq, head.hash):
            problems.append(ChainProblem(chain, head.seq, "chain tail missing or altered"))
    for chain in set(last) - set(heads):
        problems.append(ChainProblem(chain, None, "chain has no head"))
    return checked, problems
