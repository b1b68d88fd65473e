"""The registry's own GraphQL API (not part of the supergraph). Callers are team API keys
from accounts: `registry:check` to check, `registry:publish` to publish and delete; the
admins (keys with `registry:write` of a tenant in REGISTRY_ADMIN_TENANTS) manage teams."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from gateway.registry import models
from gateway.registry.service import CheckResult, Registry
from shared.auth.principal import ANONYMOUS, Principal
from shared.errors import ErrorCodes, Forbidden, Unauthenticated


@dataclass
class RegistryContext:
    registry: Registry
    principal: Principal = ANONYMOUS
    auth_error: Exception | None = None
    request: Any = None
    response: Any = None


RegistryInfo = Info[RegistryContext, None]
READ_SCOPES = ("registry:check", "registry:publish", "registry:write")


async def _team(info: RegistryInfo, scope: str) -> models.Team:
    principal = _principal(info)
    if not principal.has_scope(scope):
        raise Forbidden(f"This key lacks the {scope} scope", scope=scope)
    team = await info.context.registry.team_of_tenant(principal.tenant_id or "")
    if team is None:
        raise Forbidden("This key's tenant is not a registry team; ask a platform admin")
    return team


def _principal(info: RegistryInfo) -> Principal:
    context = info.context
    if context.auth_error is not None:
        raise context.auth_error
    if not context.principal.is_authenticated:
        raise Unauthenticated("A team API key is required (Authorization: Bearer sak_…)")
    return context.principal


def _reader(info: RegistryInfo) -> None:
    """Reading the registry takes a registry key (any of its scopes), not just any key."""
    principal = _principal(info)
    if not any(principal.has_scope(scope) for scope in READ_SCOPES):
        raise Forbidden("A registry key (registry:check, registry:publish or registry:write) is required")


def _admin(info: RegistryInfo) -> None:
    principal = _principal(info)
    admins = {
        t.strip() for t in info.context.registry.settings.registry_admin_tenants.split(",") if t.strip()
    }
    if principal.tenant_id not in admins or not principal.has_scope("registry:write"):
        raise Forbidden("Platform admins only")


@strawberry.type
class Team:
    id: strawberry.ID
    name: str
    tenant_id: str


@strawberry.type
class NameGrant:
    team_id: strawberry.ID
    pattern: str


@strawberry.type
class SchemaVersion:
    id: strawberry.ID
    subgraph: str
    sdl: str
    routing_url: str
    published_at: datetime

    @classmethod
    def of(cls, row: models.SchemaVersion) -> SchemaVersion:
        return cls(
            id=strawberry.ID(row.id),
            subgraph=row.subgraph,
            sdl=row.sdl,
            routing_url=row.routing_url,
            published_at=row.published_at,
        )


@strawberry.type
class Subgraph:
    name: str
    routing_url: str
    team_id: strawberry.ID

    @strawberry.field
    async def versions(self, info: RegistryInfo) -> list[SchemaVersion]:
        return [SchemaVersion.of(row) for row in await info.context.registry.history(self.name)]


@strawberry.type
class Finding:
    kind: str
    severity: str
    message: str
    coordinate: str | None
    subgraph: str | None
    operations: JSON
    clients: JSON


@strawberry.type
class Check:
    id: strawberry.ID
    subgraph: str
    action: str
    passed: bool
    created_at: datetime
    findings: list[Finding]

    @classmethod
    def of(cls, row: models.SchemaCheck) -> Check:
        return cls(
            id=strawberry.ID(row.id),
            subgraph=row.subgraph,
            action=row.action,
            passed=row.passed,
            created_at=row.created_at,
            findings=[Finding(**finding) for finding in row.findings],
        )


@strawberry.type
class Supergraph:
    id: strawberry.ID
    sdl: str
    public_sdl: str
    created_at: datetime
    cause: str
    members: JSON


@strawberry.type
class CheckPayload:
    check: Check
    passed: bool
    version: SchemaVersion | None = None
    supergraph: Supergraph | None = None


def _supergraph(row: models.SupergraphVersion | None) -> Supergraph | None:
    if row is None:
        return None
    return Supergraph(
        id=strawberry.ID(row.id),
        sdl=row.sdl,
        public_sdl=row.public_sdl,
        created_at=row.created_at,
        cause=row.cause,
        members=JSON(row.members),
    )


def _payload(result: CheckResult) -> CheckPayload:
    return CheckPayload(
        check=Check.of(result.check),
        passed=result.passed,
        version=SchemaVersion.of(result.version) if result.version else None,
        supergraph=_supergraph(result.supergraph),
    )


@strawberry.type
class Diff:
    text: str
    changes: list[Finding]


@strawberry.type
class FieldUsage:
    coordinate: str
    count: int


@strawberry.input
class SchemaInput:
    subgraph: str
    schema: str = strawberry.field(description="The subgraph's SDL.")
    url: str | None = strawberry.field(default=None, description="Routing URL (needed on the first publish).")


@strawberry.type
class Query:
    @strawberry.field
    async def subgraphs(self, info: RegistryInfo) -> list[Subgraph]:
        _reader(info)
        return [
            Subgraph(name=row.name, routing_url=row.routing_url, team_id=strawberry.ID(row.team_id))
            for row in await info.context.registry.subgraphs()
        ]

    @strawberry.field(description="The supergraph the router serves now.")
    async def supergraph(self, info: RegistryInfo) -> Supergraph | None:
        _reader(info)
        return _supergraph(await info.context.registry.current_supergraph())

    @strawberry.field
    async def versions(self, info: RegistryInfo, subgraph: str) -> list[SchemaVersion]:
        _reader(info)
        return [SchemaVersion.of(row) for row in await info.context.registry.history(subgraph)]

    @strawberry.field
    async def checks(self, info: RegistryInfo, subgraph: str | None = None, first: int = 20) -> list[Check]:
        _reader(info)
        return [
            Check.of(row) for row in await info.context.registry.checks(subgraph, min(max(first, 1), 100))
        ]

    @strawberry.field
    async def check(self, info: RegistryInfo, id: strawberry.ID) -> Check:
        _reader(info)
        return Check.of(await info.context.registry.check_by_id(str(id)))

    @strawberry.field(description="Two published versions: a text diff and the schema changes.")
    async def diff(self, info: RegistryInfo, from_version: strawberry.ID, to_version: strawberry.ID) -> Diff:
        _reader(info)
        text, changes = await info.context.registry.diff(str(from_version), str(to_version))
        return Diff(text=text, changes=[Finding(**change.as_dict()) for change in changes])

    @strawberry.field(description="Coordinates used by real traffic, most used first.")
    async def field_usage(self, info: RegistryInfo, days: int | None = None) -> list[FieldUsage]:
        _reader(info)
        return [FieldUsage(coordinate=c, count=n) for c, n in await info.context.registry.field_usage(days)]

    @strawberry.field
    async def teams(self, info: RegistryInfo) -> list[Team]:
        _admin(info)
        return [
            Team(id=strawberry.ID(t.id), name=t.name, tenant_id=t.tenant_id)
            for t in await info.context.registry.teams()
        ]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Run every check on a candidate schema; changes nothing.")
    async def check_schema(self, info: RegistryInfo, input: SchemaInput) -> CheckPayload:
        team = await _team(info, "registry:check")
        return _payload(await info.context.registry.check(team, input.subgraph, input.schema, input.url))

    @strawberry.mutation(description="Check, then (if nothing blocks) make it the subgraph's current schema.")
    async def publish_schema(self, info: RegistryInfo, input: SchemaInput) -> CheckPayload:
        team = await _team(info, "registry:publish")
        url = input.url or ""
        return _payload(await info.context.registry.publish(team, input.subgraph, input.schema, url))

    @strawberry.mutation(
        description="Check the supergraph without the subgraph, then (if nothing blocks) remove it."
    )
    async def delete_subgraph(self, info: RegistryInfo, subgraph: str) -> CheckPayload:
        team = await _team(info, "registry:publish")
        return _payload(await info.context.registry.delete(team, subgraph))

    @strawberry.mutation(
        description="Platform admins: a team whose API keys are those of an accounts tenant."
    )
    async def create_team(self, info: RegistryInfo, name: str, tenant_id: str) -> Team:
        _admin(info)
        team = await info.context.registry.create_team(name, tenant_id)
        return Team(id=strawberry.ID(team.id), name=team.name, tenant_id=team.tenant_id)

    @strawberry.mutation(description="Platform admins: let a team own a subgraph name (or `prefix-*`).")
    async def grant_subgraph_name(
        self, info: RegistryInfo, team_id: strawberry.ID, pattern: str
    ) -> NameGrant:
        _admin(info)
        grant = await info.context.registry.grant(str(team_id), pattern)
        return NameGrant(team_id=strawberry.ID(grant.team_id), pattern=grant.pattern)


schema = strawberry.Schema(query=Query, mutation=Mutation, extensions=[ErrorCodes])
