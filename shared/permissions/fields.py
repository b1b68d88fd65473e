"""Declaring a protected field: Casbin decides it, the SDL shows it (`@policy`,
`@requiresScopes`), and personal data can require the data subject's consent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.federation.schema_directives import Policy, RequiresScopes

RULE_KEY = "permission_rule"


@dataclass(frozen=True)
class FieldRule:
    policy: str
    scopes: tuple[str, ...] = ()
    consent: str | None = None


def protected(
    policy: str,
    *,
    scopes: tuple[str, ...] = (),
    consent: str | None = None,
    **kwargs: Any,
) -> Any:
    """A field whose access the policy names; nullable so a denial leaves the rest intact."""
    directives: list[object] = [Policy(policies=[[policy]])]
    if scopes:
        directives.append(RequiresScopes(scopes=[list(scopes)]))
    return strawberry.federation.field(
        directives=directives,
        metadata={RULE_KEY: FieldRule(policy=policy, scopes=scopes, consent=consent)},
        **kwargs,
    )
