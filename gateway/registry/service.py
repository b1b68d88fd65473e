"""The registry's rules: who owns which subgraph name, what a check finds, and what a
publish or delete changes (nothing, when a blocking check fails)."""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import casbin
from sqlalchemy import delete, func, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from gateway.composition import Composition, SubgraphDefinition
from gateway.registry import checks
from gateway.registry.checks import Finding
from gateway.registry.models import (
    FieldUsage,
    NameGrant,
    SchemaCheck,
    SchemaVersion,
    Subgraph,
    SupergraphVersion,
    Team,
)
from shared.config import Settings
from shared.db import Database, new_id, utcnow
from shared.errors import BadUserInput, Conflict, Forbidden, NotFound

OWNERSHIP_MODEL = Path(__file__).with_name("ownership.conf")
NAME = r"^[a-z][a-z0-9-]{1,62}$"
MAX_SDL_BYTES = 1024 * 1024
CHANGE_ATTEMPTS = 3
PLATFORM_TENANT = "platform"
"""The platform team's tenant: not an accounts tenant, so no API key can act as that team."""
PLATFORM_LINT_ERRORS = frozenset({"description"})
"""Lint rules that block the platform's own subgraphs whatever is configured: GraphiQL is
their documentation, so an undocumented type, field, argument or enum value is refused."""


@dataclass
class CheckResult:
    check: SchemaCheck
    composition: Composition | None = None
    version: SchemaVersion | None = None
    supergraph: SupergraphVersion | None = None

    @property
    def passed(self) -> bool:
        return self.check.passed


@dataclass(frozen=True)
class Usage:
    operations: list[dict[str, Any]] = field(default_factory=list)
    clients: list[dict[str, Any]] = field(default_factory=list)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Registry:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.lint_errors = frozenset(r.strip() for r in settings.registry_lint_errors.split(",") if r.strip())
        # One change at a time per process: each publish composes against the latest state.
        self._changes = asyncio.Lock()

    def lint_errors_for(self, team: Team) -> frozenset[str]:
        """The lint rules that block this team's changes: the configured ones
        (`REGISTRY_LINT_ERRORS`), and for the platform team also `PLATFORM_LINT_ERRORS`."""
        if team.tenant_id == PLATFORM_TENANT:
            return self.lint_errors | PLATFORM_LINT_ERRORS
        return self.lint_errors

    # Teams and names

    async def create_team(self, name: str, tenant_id: str) -> Team:
        if not 1 <= len(name.strip()) <= 100 or not tenant_id:
            raise BadUserInput("A team needs a name (1-100 characters) and a tenant id", field="name")
        async with self.db.write() as session:
            clash = await session.execute(
                select(Team).where(or_(col(Team.name) == name.strip(), col(Team.tenant_id) == tenant_id))
            )
            if clash.scalars().first() is not None:
                raise BadUserInput("A team with this name or tenant exists", field="name")
            team = Team(id=new_id("team"), name=name.strip(), tenant_id=tenant_id)
            session.add(team)
        return team

    async def grant(self, team_id: str, pattern: str) -> NameGrant:
        if not re.match(r"^([a-z][a-z0-9-]*\*?|\*)$", pattern) or len(pattern) > 100:
            raise BadUserInput("A name pattern is a subgraph name, optionally ending in *", field="pattern")
        async with self.db.write() as session:
            if await session.get(Team, team_id) is None:
                raise NotFound("No such team", id=team_id)
            existing = await session.execute(
                select(NameGrant).where(NameGrant.team_id == team_id, NameGrant.pattern == pattern)
            )
            grant = existing.scalars().first()
            if grant is None:
                grant = NameGrant(team_id=team_id, pattern=pattern)
                session.add(grant)
        return grant

    async def team_of_tenant(self, tenant_id: str) -> Team | None:
        async with self.db.read() as session:
            return (await session.execute(select(Team).where(Team.tenant_id == tenant_id))).scalars().first()

    async def teams(self) -> Sequence[Team]:
        async with self.db.read() as session:
            return (await session.execute(select(Team).order_by(col(Team.name)))).scalars().all()

    async def grants(self) -> Sequence[NameGrant]:
        async with self.db.read() as session:
            return (await session.execute(select(NameGrant))).scalars().all()

    async def _may_own(self, session: AsyncSession, team: Team, name: str) -> bool:
        enforcer = casbin.Enforcer(str(OWNERSHIP_MODEL))
        rows = (await session.execute(select(NameGrant).where(NameGrant.team_id == team.id))).scalars()
        for grant in rows:
            enforcer.add_policy(f"team:{grant.team_id}", grant.pattern)
        return bool(enforcer.enforce(f"team:{team.id}", name))

    async def _authorize(self, session: AsyncSession, team: Team, name: str) -> Subgraph | None:
        """The subgraph, if this team may change it: its owner, or (new name) granted it."""
        if not re.match(NAME, name):
            raise BadUserInput("A subgraph name is lowercase letters, digits and dashes", field="subgraph")
        current = await session.get(Subgraph, name)
        if current is not None and current.deleted_at is None:
            if current.team_id != team.id:
                raise Forbidden(f"Subgraph {name} belongs to another team", subgraph=name)
            return current
        if not await self._may_own(session, team, name):
            raise Forbidden(f"Team {team.name} may not own the name {name}", subgraph=name)
        return None

    # Reads

    async def subgraphs(self) -> Sequence[Subgraph]:
        async with self.db.read() as session:
            stmt = select(Subgraph).where(col(Subgraph.deleted_at).is_(None)).order_by(col(Subgraph.name))
            return (await session.execute(stmt)).scalars().all()

    async def current_supergraph(self) -> SupergraphVersion | None:
        async with self.db.read() as session:
            return await _latest_supergraph(session)

    async def history(self, name: str) -> Sequence[SchemaVersion]:
        async with self.db.read() as session:
            stmt = (
                select(SchemaVersion)
                .where(SchemaVersion.subgraph == name)
                .order_by(col(SchemaVersion.published_at).desc())
            )
            return (await session.execute(stmt)).scalars().all()

    async def version(self, version_id: str) -> SchemaVersion:
        async with self.db.read() as session:
            found = await session.get(SchemaVersion, version_id)
        if found is None:
            raise NotFound("No such schema version", id=version_id)
        return found

    async def diff(self, old_id: str, new_id_: str) -> tuple[str, list[Finding]]:
        """A unified diff of two published SDLs and the API changes between them."""
        old, new = await self.version(old_id), await self.version(new_id_)
        text = "".join(
            difflib.unified_diff(
                old.sdl.splitlines(keepends=True),
                new.sdl.splitlines(keepends=True),
                fromfile=f"{old.subgraph}@{old.id}",
                tofile=f"{new.subgraph}@{new.id}",
            )
        )
        return text, checks.subgraph_changes(old.sdl, new.sdl)

    async def checks(self, subgraph: str | None = None, limit: int = 50) -> Sequence[SchemaCheck]:
        async with self.db.read() as session:
            stmt = select(SchemaCheck).order_by(col(SchemaCheck.created_at).desc()).limit(limit)
            if subgraph:
                stmt = stmt.where(SchemaCheck.subgraph == subgraph)
            return (await session.execute(stmt)).scalars().all()

    async def check_by_id(self, check_id: str) -> SchemaCheck:
        async with self.db.read() as session:
            found = await session.get(SchemaCheck, check_id)
        if found is None:
            raise NotFound("No such check", id=check_id)
        return found

    # Changes

    async def check(self, team: Team, name: str, sdl: str, url: str | None) -> CheckResult:
        return await self._run(team, name, "check", sdl, url)

    async def publish(self, team: Team, name: str, sdl: str, url: str) -> CheckResult:
        return await self._run(team, name, "publish", sdl, url)

    async def delete(self, team: Team, name: str) -> CheckResult:
        return await self._run(team, name, "delete", None, None)

    async def _run(self, team: Team, name: str, action: str, sdl: str | None, url: str | None) -> CheckResult:
        if sdl is not None and (not sdl.strip() or len(sdl.encode()) > MAX_SDL_BYTES):
            raise BadUserInput("The schema is empty or larger than 1 MB", field="schema")
        async with self._changes:
            for _ in range(CHANGE_ATTEMPTS):
                try:
                    return await self._attempt(team, name, action, sdl, url)
                except IntegrityError:
                    # Another replica changed the supergraph (or created this subgraph) after
                    # we read it: nothing of ours was committed; check again on the new state.
                    continue
        raise Conflict("The registry kept changing during this change; try again", subgraph=name)

    async def _attempt(
        self, team: Team, name: str, action: str, sdl: str | None, url: str | None
    ) -> CheckResult:
        async with self.db.read() as session:
            existing = await self._authorize(session, team, name)
            if action == "delete" and existing is None:
                raise NotFound(f"No subgraph {name}", subgraph=name)
            # The latest supergraph before the members: a change committed in between then
            # makes our new version's `previous_id` collide instead of being composed away.
            current = await _latest_supergraph(session)
            members = await _current_members(session)
        routing_url = url or (existing.routing_url if existing else None)
        if action == "publish" and not routing_url:
            raise BadUserInput("A first publish needs the subgraph's routing URL", field="url")
        candidate = {member.name: member for member in members if member.name != name}
        if sdl is not None:
            candidate[name] = SubgraphDefinition(
                name=name, url=routing_url or "http://unknown.invalid", sdl=sdl
            )
        findings, composed = await self._findings(
            name, sdl, list(candidate.values()), current, self.lint_errors_for(team)
        )
        passed = not any(finding.severity == "error" for finding in findings)
        async with self.db.write() as session:
            record = SchemaCheck(
                id=new_id("chk"),
                subgraph=name,
                action=action,
                team_id=team.id,
                candidate_sdl=sdl,
                passed=passed,
                findings=[finding.as_dict() for finding in findings],
            )
            session.add(record)
            result = CheckResult(record, composed)
            if passed and action != "check":
                await self._apply(session, result, team, name, action, sdl, routing_url, current)
        return result

    async def _findings(
        self,
        name: str,
        sdl: str | None,
        members: list[SubgraphDefinition],
        current: SupergraphVersion | None,
        lint_errors: frozenset[str],
    ) -> tuple[list[Finding], Composition | None]:
        findings: list[Finding] = checks.lint(name, sdl, lint_errors) if sdl is not None else []
        if not members:
            return findings, None
        composed, problems = await asyncio.to_thread(checks.composition, members)
        findings += problems
        if composed is not None:
            changes = checks.api_changes(current.public_sdl if current else None, composed.public_sdl)
            findings += await self._weigh_usage(changes)
        return findings, composed

    async def _weigh_usage(self, changes: list[Finding]) -> list[Finding]:
        """A breaking change to a coordinate nobody used lately is only a warning."""
        breaking = [change for change in changes if change.kind == "breaking" and change.coordinate]
        usage = await self.usage_of([change.coordinate for change in breaking if change.coordinate])
        for change in breaking:
            used = usage.get(change.coordinate or "")
            if used and used.operations:
                change.operations, change.clients = used.operations, used.clients
                names = ", ".join(op["name"] or op["hash"][:12] for op in used.operations[:5])
                clients = ", ".join(f"{c['name']}@{c['version']}" for c in used.clients[:5])
                days = self.settings.registry_usage_days
                change.message += f" Used in the last {days} days by {names} (clients: {clients})."
            else:
                change.severity = "warning"
                change.message += f" Not used in the last {self.settings.registry_usage_days} days."
        return changes

    async def _apply(
        self,
        session: AsyncSession,
        result: CheckResult,
        team: Team,
        name: str,
        action: str,
        sdl: str | None,
        routing_url: str | None,
        composed_from: SupergraphVersion | None,
    ) -> None:
        subgraph = await session.get(Subgraph, name)
        version_ids = {row.name: row.current_version_id for row in await _live_subgraphs(session)}
        if action == "delete":
            if subgraph is None:
                raise NotFound("No such subgraph", name=name)
            subgraph.deleted_at = utcnow()
            session.add(subgraph)
            version_ids.pop(name, None)
        else:
            if sdl is None or routing_url is None:
                raise RuntimeError("a publish needs an SDL and a routing URL")
            version = SchemaVersion(
                id=new_id("sv"),
                subgraph=name,
                sdl=sdl,
                sdl_hash=sha256(sdl),
                routing_url=routing_url,
                published_by=team.id,
            )
            session.add(version)
            if subgraph is None:
                subgraph = Subgraph(name=name, team_id=team.id, routing_url=routing_url)
            subgraph.team_id, subgraph.routing_url, subgraph.deleted_at = team.id, routing_url, None
            subgraph.current_version_id = version.id
            session.add(subgraph)
            version_ids[name] = version.id
            result.version = version
        composed = result.composition
        if composed is None:  # the last subgraph went away: nothing to serve
            return
        supergraph = SupergraphVersion(
            id=new_id("sg"),
            sdl=composed.supergraph_sdl,
            public_sdl=composed.public_sdl,
            sdl_hash=sha256(composed.supergraph_sdl),
            members={key: value for key, value in version_ids.items() if value},
            cause=f"{action} {name} by {team.name}",
            previous_id=composed_from.id if composed_from else "root",
        )
        session.add(supergraph)
        result.supergraph = supergraph

    # Usage

    async def record_usage(self, reports: list[dict[str, Any]]) -> int:
        """Adds a batch of the router's reports: one row per coordinate, operation, client
        and minute, counts summed."""
        totals: dict[tuple[str, str, str, str, datetime], list[Any]] = {}
        for report in reports:
            bucket = datetime.fromisoformat(str(report["bucket"]).replace("Z", "+00:00")).replace(
                second=0, microsecond=0
            )
            client = report.get("client") or {}
            for coordinate in report.get("coordinates") or []:
                key = (
                    str(coordinate)[:300],
                    str(report["operationHash"])[:64],
                    str(client.get("name") or "")[:100],
                    str(client.get("version") or "")[:100],
                    bucket,
                )
                entry = totals.setdefault(key, [report.get("operationName"), 0])
                entry[1] += int(report.get("count") or 0)
        if not totals:
            return 0
        hashes = {key[1] for key in totals}
        buckets = {key[4] for key in totals}
        async with self.db.write() as session:
            # One read for the whole batch: the rows these reports add to.
            stmt = select(FieldUsage).where(
                col(FieldUsage.operation_hash).in_(hashes), col(FieldUsage.bucket).in_(buckets)
            )
            rows = {
                (r.coordinate, r.operation_hash, r.client_name, r.client_version, r.bucket): r
                for r in (await session.execute(stmt)).scalars()
            }
            for key, (op_name, count) in totals.items():
                row = rows.get(key)
                if row is None:
                    coordinate, op_hash, client_name, client_version, bucket = key
                    row = FieldUsage(
                        coordinate=coordinate,
                        operation_hash=op_hash,
                        operation_name=(op_name or None) and str(op_name)[:200],
                        client_name=client_name,
                        client_version=client_version,
                        bucket=bucket,
                    )
                row.count += count
                session.add(row)
        return len(totals)

    async def usage_of(self, coordinates: list[str], days: int | None = None) -> dict[str, Usage]:
        """For each coordinate (a type name covers its fields), who used it lately."""
        if not coordinates:
            return {}
        since = utcnow() - timedelta(days=days or self.settings.registry_usage_days)
        conditions = []
        for coordinate in coordinates:
            conditions.append(col(FieldUsage.coordinate) == coordinate)
            if "." not in coordinate:
                conditions.append(col(FieldUsage.coordinate).startswith(f"{coordinate}."))
        stmt = select(FieldUsage).where(col(FieldUsage.bucket) >= since, or_(*conditions))
        async with self.db.read() as session:
            rows = (await session.execute(stmt)).scalars().all()
        found: dict[str, Usage] = {}
        for coordinate in coordinates:
            mine = [
                r
                for r in rows
                if r.coordinate == coordinate
                or ("." not in coordinate and r.coordinate.startswith(f"{coordinate}."))
            ]
            if mine:
                found[coordinate] = _summarise(mine)
        return found

    async def field_usage(self, days: int | None = None) -> list[tuple[str, int]]:
        since = utcnow() - timedelta(days=days or self.settings.registry_usage_days)
        stmt = (
            select(FieldUsage.coordinate, func.sum(FieldUsage.count))
            .where(col(FieldUsage.bucket) >= since)
            .group_by(col(FieldUsage.coordinate))
            .order_by(func.sum(FieldUsage.count).desc())
        )
        async with self.db.read() as session:
            return [(str(c), int(n)) for c, n in (await session.execute(stmt)).all()]

    async def forget_usage_before(self, cutoff: datetime) -> None:
        async with self.db.write() as session:
            await session.execute(delete(FieldUsage).where(col(FieldUsage.bucket) < cutoff))


def _summarise(rows: Sequence[FieldUsage]) -> Usage:
    operations: dict[str, dict[str, Any]] = {}
    clients: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        op = operations.setdefault(
            row.operation_hash, {"hash": row.operation_hash, "name": row.operation_name, "count": 0}
        )
        op["count"] += row.count
        clients[(row.client_name, row.client_version)] += row.count
    return Usage(
        operations=sorted(operations.values(), key=lambda op: -op["count"]),
        clients=[
            {"name": n or None, "version": v or None, "count": c}
            for (n, v), c in sorted(clients.items(), key=lambda i: -i[1])
        ],
    )


async def _live_subgraphs(session: AsyncSession) -> Sequence[Subgraph]:
    stmt = select(Subgraph).where(col(Subgraph.deleted_at).is_(None))
    return (await session.execute(stmt)).scalars().all()


async def _current_members(session: AsyncSession) -> list[SubgraphDefinition]:
    members = []
    for subgraph in await _live_subgraphs(session):
        version = (
            await session.get(SchemaVersion, subgraph.current_version_id)
            if subgraph.current_version_id
            else None
        )
        if version is not None:
            members.append(SubgraphDefinition(name=subgraph.name, url=subgraph.routing_url, sdl=version.sdl))
    return members


async def _latest_supergraph(session: AsyncSession) -> SupergraphVersion | None:
    stmt = select(SupergraphVersion).order_by(
        col(SupergraphVersion.created_at).desc(), col(SupergraphVersion.id).desc()
    )
    return (await session.execute(stmt.limit(1))).scalars().first()
