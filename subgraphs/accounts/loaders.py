"""Per-request DataLoaders: N users or tenants in one SQL statement, tenant-scoped."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from shared.context import RequestContext
from subgraphs.accounts.models import Tenant, User
from subgraphs.accounts.repository import UserRepository, tenants_by_ids


def users_loader(context: RequestContext) -> DataLoader[str, User | None]:
    async def load(ids: Sequence[str]) -> list[User | None]:
        tenant_id = context.principal.tenant_id
        if not tenant_id:
            return [None] * len(ids)
        found = await UserRepository.load_many(context.runtime.db, tenant_id, ids)
        return [found.get(id) for id in ids]

    return DataLoader(load_fn=load)


def tenants_loader(context: RequestContext) -> DataLoader[str, Tenant | None]:
    async def load(ids: Sequence[str]) -> list[Tenant | None]:
        # A principal sees its own tenant only.
        allowed = [id for id in ids if id == context.principal.tenant_id]
        found = await tenants_by_ids(await context.session(), allowed) if allowed else {}
        return [found.get(id) for id in ids]

    return DataLoader(load_fn=load)


def user_loader(context: RequestContext) -> DataLoader[str, User | None]:
    return context.loader("accounts.users", users_loader)


def tenant_loader(context: RequestContext) -> DataLoader[str, Tenant | None]:
    return context.loader("accounts.tenants", tenants_loader)
