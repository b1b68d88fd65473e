"""Who may do what to an asset, decided by Casbin in the asset's tenant.

Rows: every kind is readable within the tenant except the private ones (objects
`asset:<kind>`), which only their owner and tenant admins read. Mutations on one asset declare
it (`ResourcePermission` with a scope below, objects `asset:Mutation.<field>`): the caller is
`self` for the policy when they own the asset, so "owner or admin" is two policy lines."""

from __future__ import annotations

from typing import Any

from shared.context import RequestContext
from shared.permissions.enforcer import Decision
from shared.permissions.resources import Grant, ResourcePermission
from subgraphs.storage.models import Asset
from subgraphs.storage.repository import AssetRepository

PREFIX = "asset:"


def _owns(context: RequestContext, asset: Asset) -> bool:
    principal = context.principal
    return asset.owner_id in (principal.user_id, principal.api_key_id)


def can_read(context: RequestContext, asset: Asset) -> bool:
    principal = context.principal
    if principal.tenant_id != asset.tenant_id:
        return False
    decision = context.policies.decide(principal.subjects, asset.tenant_id, f"{PREFIX}{asset.kind}", "read")
    if decision is Decision.OWNER_ONLY:
        return _owns(context, asset)
    return decision is Decision.ALLOW


class Assets:
    """The resource is an asset of the caller's tenant (`deleted`: only a soft-deleted one, to
    restore it); the grant's resource is the asset row, read in the request's session."""

    prefix = PREFIX
    kind = "Asset"

    def __init__(self, *, deleted: bool = False) -> None:
        self.deleted = deleted

    async def grant(self, context: RequestContext, asset_id: str, *, fresh: bool) -> Grant[Any] | None:
        principal = context.principal
        if not principal.tenant_id:
            return None
        repository = AssetRepository(await context.session(), principal.tenant_id)
        asset = await repository.get(asset_id, include_deleted=self.deleted)
        if asset is None or (self.deleted and asset.deleted_at is None):
            return None
        subjects = (*principal.subjects, "self") if _owns(context, asset) else principal.subjects
        return Grant(principal.tenant_id, subjects, asset, ", ".join(principal.roles) or "none")


ASSETS = Assets()
DELETED_ASSETS = Assets(deleted=True)


def on_asset(argument: str, *, deleted: bool = False) -> ResourcePermission:
    """The field acts on one asset, its id at `argument`."""
    return ResourcePermission(DELETED_ASSETS if deleted else ASSETS, argument)
