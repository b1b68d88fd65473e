"""Our own subgraphs go through the registry like a partner's: the `platform` team owns
their names, and each is published with the same checks (not written past them)."""

from __future__ import annotations

from gateway.composition import SubgraphDefinition
from gateway.registry.models import Team
from gateway.registry.service import PLATFORM_TENANT, Registry, sha256

PLATFORM_TEAM = "platform"


class PublishRefused(Exception):
    def __init__(self, subgraph: str, findings: list[str]) -> None:
        super().__init__(f"the registry refused {subgraph}:\n" + "\n".join(findings))
        self.findings = findings


async def platform_team(registry: Registry, names: list[str]) -> Team:
    team = await registry.team_of_tenant(PLATFORM_TENANT) or await registry.create_team(
        PLATFORM_TEAM, PLATFORM_TENANT
    )
    for name in names:
        await registry.grant(team.id, name)
    return team


async def publish_platform(registry: Registry, definitions: list[SubgraphDefinition]) -> list[str]:
    """Publishes what changed; returns a line per subgraph. A refused publish raises with the
    blocking findings (the registry keeps serving the last good supergraph); for the platform
    team a missing description is one of them (`PLATFORM_LINT_ERRORS`)."""
    team = await platform_team(registry, [definition.name for definition in definitions])
    published = {subgraph.name: subgraph for subgraph in await registry.subgraphs()}
    lines = []
    for definition in definitions:
        current = published.get(definition.name)
        if current is not None and current.current_version_id and current.routing_url == definition.url:
            version = await registry.version(current.current_version_id)
            if version.sdl_hash == sha256(definition.sdl):
                lines.append(f"{definition.name}: unchanged")
                continue
        result = await registry.publish(team, definition.name, definition.sdl, definition.url)
        if not result.passed:
            blocking = [f["message"] for f in result.check.findings if f["severity"] == "error"]
            raise PublishRefused(definition.name, blocking)
        warnings = sum(1 for f in result.check.findings if f["severity"] == "warning")
        lines.append(f"{definition.name}: published ({warnings} warnings)")
    return lines
