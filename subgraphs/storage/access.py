"""Row-level rules on assets, decided by Casbin (objects `asset:<kind>` and `asset`): every
kind is readable within the tenant except the private ones, which only their owner and
tenant admins read; an asset is managed (deleted, restored) by its owner or an admin."""

from __future__ import annotations

from shared.context import RequestContext
from shared.permissions.enforcer import Decision
from subgraphs.storage.models import Asset


def _decide(context: RequestContext, obj: str, action: str, asset: Asset) -> bool:
    principal = context.principal
    if principal.tenant_id != asset.tenant_id:
        return False
    decision = context.policies.decide(principal.subjects, asset.tenant_id, obj, action)
    if decision is Decision.OWNER_ONLY:
        return asset.owner_id in (principal.user_id, principal.api_key_id)
    return decision is Decision.ALLOW


def can_read(context: RequestContext, asset: Asset) -> bool:
    return _decide(context, f"asset:{asset.kind}", "read", asset)


def can_manage(context: RequestContext, asset: Asset) -> bool:
    return _decide(context, "asset", "manage", asset)
