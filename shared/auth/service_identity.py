"""What a service token is: the platform calling itself, as one named subgraph, with its
scopes, acting for at most one tenant. Verified claims become a `Principal` of kind
`service` here; anything that only looks like one is refused."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from shared.auth.principal import Principal
from shared.errors import Unauthenticated

SERVICE_TOKEN_TYPE = "service"
SUBJECT_PREFIX = "service:"

SERVICE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
"""A subgraph's name. Only the platform's key ring signs service tokens, and Casbin grants a
`service:<name>` nothing that no policy line names, so no list of services is kept here (a
new subgraph is not a second place to edit); partner subgraphs use API keys instead."""

SERVICE_SCOPE = re.compile(r"^[a-z][a-z0-9-]*:(read|write)$")
"""`<subgraph>:read` or `<subgraph>:write`: never `*`."""

MAX_TTL_SECONDS = 15 * 60
"""Longer-lived tokens are refused even when correctly signed: a service token is short."""


def check_service(name: str) -> str:
    if not isinstance(name, str) or not SERVICE_NAME.match(name):
        raise ValueError(f"unknown service {name!r}: a service is named like a subgraph (e.g. search)")
    return name


def check_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    found = tuple(sorted(set(scopes)))
    bad = [scope for scope in found if not isinstance(scope, str) or not SERVICE_SCOPE.match(scope)]
    if not found or bad:
        raise ValueError(f"service scopes look like 'spotify:read' (got {bad or 'none'})")
    return found


def service_principal(claims: Mapping[str, Any]) -> Principal:
    """The principal of verified (signature, issuer, audience, expiry) `typ: service` claims."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.startswith(SUBJECT_PREFIX):
        raise Unauthenticated("Not a service token")
    if any(claim in claims for claim in ("roles", "sid", "cns")):
        raise Unauthenticated("Not a service token")  # user claims: a service has no session or roles
    tenant = claims.get("tid")
    scopes = claims.get("scp")
    issued, expires = claims.get("iat"), claims.get("exp")
    try:
        service = check_service(subject.removeprefix(SUBJECT_PREFIX))
        if not isinstance(scopes, list):
            raise ValueError("scp must be a list")
        granted = check_scopes(scopes)
    except ValueError as exc:
        raise Unauthenticated("Not a service token") from exc
    if tenant is not None and (not isinstance(tenant, str) or not tenant):
        raise Unauthenticated("Not a service token")
    if not isinstance(issued, int | float) or not isinstance(expires, int | float):
        raise Unauthenticated("Not a service token")
    if expires - issued > MAX_TTL_SECONDS:
        raise Unauthenticated("Service token lives too long")
    return Principal(
        kind="service",
        service=service,
        tenant_id=tenant,
        scopes=frozenset(granted),
        token_id=claims.get("jti"),
        expires_at=float(expires),
    )
