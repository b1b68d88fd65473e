"""The one door to another tenant's rows: explicit, and written to the audit log."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.audit.service import record
from shared.auth.principal import Principal

M = TypeVar("M")


async def get_across_tenants(
    session: AsyncSession,
    model: type[M],
    id: str,
    *,
    actor: Principal,
    reason: str,
    subgraph: str,
) -> M | None:
    row: Any = (await session.execute(select(model).where(model.id == id))).scalar_one_or_none()  # type: ignore[attr-defined]
    await record(
        session,
        subgraph=subgraph,
        operation=f"crossTenantRead:{model.__name__}",
        outcome="success" if row is not None else "not_found",
        principal_id=actor.user_id,
        tenant_id=actor.tenant_id,
        target_id=id,
        input={"reason": reason, "target_tenant": getattr(row, "tenant_id", None)},
    )
    return row  # type: ignore[no-any-return]
