from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from shared.errors import Forbidden, Unauthenticated

ROLE_ORDER = ("viewer", "member", "admin", "owner")


@dataclass(frozen=True)
class Principal:
    """Who is calling: on every request context, from a token, an API key, or nobody."""

    kind: Literal["anonymous", "user", "api_key", "service"]
    user_id: str | None = None
    """None for services: a service token names no user."""
    tenant_id: str | None = None
    roles: tuple[str, ...] = ()
    scopes: frozenset[str] = field(default_factory=frozenset)
    consents: frozenset[str] = field(default_factory=frozenset)
    token_id: str | None = None
    session_id: str | None = None
    api_key_id: str | None = None
    client_address: str | None = None
    expires_at: float | None = None
    """Unix time the access token stops being valid (None: API keys, anonymous)."""
    service: str | None = None
    """The calling subgraph of a service token (`kind == "service"`); `tenant_id` is the
    tenant it acts for, None when it may touch non-tenant data only."""

    @property
    def is_authenticated(self) -> bool:
        return self.kind != "anonymous"

    @property
    def subjects(self) -> tuple[str, ...]:
        """Casbin subjects this principal acts as."""
        if not self.is_authenticated:
            return ("role:anonymous",)
        if self.kind == "service":
            return (f"service:{self.service}",)
        return tuple(f"role:{role}" for role in self.roles) or ("role:authenticated",)

    @property
    def actor_id(self) -> str | None:
        """Who the audit log names: the user, the API key, or `service:<name>`."""
        if self.kind == "service":
            return f"service:{self.service}"
        return self.user_id or self.api_key_id

    def has_scope(self, scope: str) -> bool:
        return "*" in self.scopes or scope in self.scopes

    def with_address(self, address: str | None) -> Principal:
        from dataclasses import replace

        return replace(self, client_address=address)


ANONYMOUS = Principal(kind="anonymous")


def signed_in_user(principal: Principal) -> tuple[str, str]:
    """(tenant id, user id) of a signed-in user; UNAUTHENTICATED for anyone else, FORBIDDEN
    for a machine (API key, service) where a person is required. Use it instead of `assert`,
    which `python -O` removes."""
    if not principal.is_authenticated:
        raise Unauthenticated("Authentication required")
    if principal.kind != "user" or not principal.user_id or not principal.tenant_id:
        raise Forbidden("A signed-in user is required")
    return principal.tenant_id, principal.user_id


def tenant_of(principal: Principal) -> str:
    """The tenant a caller acts in (a user, an API key, a service acting for a tenant);
    UNAUTHENTICATED for anyone signed out, FORBIDDEN for a caller bound to no tenant."""
    if not principal.is_authenticated:
        raise Unauthenticated("Authentication required")
    if not principal.tenant_id:
        raise Forbidden("A tenant is required")
    return principal.tenant_id


def acting_user(principal: Principal) -> tuple[str, str]:
    """(tenant id, user id) of a user or of a user's API key (which acts as its user, within
    its scopes); UNAUTHENTICATED for anyone signed out, FORBIDDEN for a service. Where only a
    person may act, use `signed_in_user`."""
    tenant_id = tenant_of(principal)
    if principal.kind not in ("user", "api_key") or not principal.user_id:
        raise Forbidden("A user is required")
    return tenant_id, principal.user_id


def platform_service(principal: Principal) -> str:
    """The name of a platform service acting for no tenant, the only caller that may read
    across tenants (the listings that rebuild a projection from its source); UNAUTHENTICATED
    signed out, FORBIDDEN for anyone else (a user, an API key, a service acting for one
    tenant)."""
    if not principal.is_authenticated:
        raise Unauthenticated("Authentication required")
    if principal.kind != "service" or not principal.service or principal.tenant_id:
        raise Forbidden("A platform service token (acting for no tenant) is required")
    return principal.service
