"""Per-request loader: the metadata of N assets in one SQL statement, tenant-scoped."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from shared.context import RequestContext
from subgraphs.storage.models import Asset
from subgraphs.storage.repository import AssetRepository


def _assets_loader(context: RequestContext) -> DataLoader[str, Asset | None]:
    async def load(ids: Sequence[str]) -> list[Asset | None]:
        tenant_id = context.principal.tenant_id
        if not tenant_id:
            return [None] * len(ids)
        found = await AssetRepository.load_many(context.runtime.db, tenant_id, ids)
        return [found.get(id) for id in ids]

    return DataLoader(load_fn=load)


def asset_loader(context: RequestContext) -> DataLoader[str, Asset | None]:
    return context.loader("storage.assets", _assets_loader)
