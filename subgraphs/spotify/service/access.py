"""Who may write: the tenant and the acting user (or API key) of a write, refused with
UNAUTHENTICATED or FORBIDDEN rather than an `assert` (which `python -O` removes)."""

from __future__ import annotations

from shared.auth.principal import Principal
from shared.errors import Forbidden, Unauthenticated


def tenant_user(principal: Principal) -> tuple[str, str]:
    """(tenant id, user id) of a user, or of a user's API key, in a tenant."""
    if not principal.is_authenticated:
        raise Unauthenticated("Authentication required")
    if not principal.tenant_id or not principal.user_id:
        raise Forbidden("A user of a tenant is required")
    return principal.tenant_id, principal.user_id


def tenant_actor(principal: Principal) -> tuple[str, str]:
    """(tenant id, who acts) for a write a member of a tenant may make, user or API key."""
    if not principal.is_authenticated:
        raise Unauthenticated("Authentication required")
    actor = principal.user_id or principal.api_key_id
    if not principal.tenant_id or not actor:
        raise Forbidden("A member of a tenant is required")
    return principal.tenant_id, actor
