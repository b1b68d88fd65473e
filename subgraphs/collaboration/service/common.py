"""Checks every collaboration rule starts with."""

from __future__ import annotations

from shared.auth.principal import Principal
from shared.errors import BadUserInput, Forbidden


def signed_in_ids(principal: Principal) -> tuple[str, str]:
    if not principal.tenant_id or not principal.user_id:
        raise Forbidden("A signed-in user is required")
    return principal.tenant_id, principal.user_id


def checked_name(value: str, field: str, limit: int) -> str:
    value = value.strip()
    if not 1 <= len(value) <= limit:
        raise BadUserInput(f"{field} must have 1 to {limit} characters", field=field)
    return value
