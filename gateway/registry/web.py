"""The registry's web page: plain server-rendered HTML, no script and nothing fetched from
the internet. Subgraphs and owners, versions with diffs, recent checks with findings, the
current supergraph and usage per field."""

from __future__ import annotations

import difflib
from html import escape

from gateway.registry.models import SchemaCheck, SchemaVersion
from gateway.registry.service import Registry

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; color: #1d1d1f; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #eee; vertical-align: top; }
pre { background: #f6f6f8; padding: .8rem; overflow-x: auto; max-height: 28rem; }
.passed { color: #116329; } .failed { color: #b42318; } .warning { color: #8a5a00; } .error { color: #b42318; }
.add { color: #116329; } .del { color: #b42318; }
"""


def _diff(old: SchemaVersion, new: SchemaVersion) -> str:
    lines = difflib.unified_diff(old.sdl.splitlines(), new.sdl.splitlines(), old.id, new.id, lineterm="")
    rendered = []
    for line in lines:
        kind = "add" if line.startswith("+") else "del" if line.startswith("-") else ""
        rendered.append(f'<span class="{kind}">{escape(line)}</span>')
    return "\n".join(rendered) or "(same SDL)"


def _versions(name: str, versions: list[SchemaVersion]) -> str:
    items = []
    for index, version in enumerate(versions):
        older = versions[index + 1] if index + 1 < len(versions) else None
        diff = (
            f"<details><summary>diff from {escape(older.id)}</summary><pre>{_diff(older, version)}</pre></details>"
            if older
            else ""
        )
        items.append(
            f"<li><code>{escape(version.id)}</code> {version.published_at:%Y-%m-%d %H:%M:%S} UTC {diff}</li>"
        )
    return f'<h3 id="versions-{escape(name)}">{escape(name)}</h3><ul>{"".join(items)}</ul>'


def _check(check: SchemaCheck) -> str:
    verdict = "passed" if check.passed else "failed"
    findings = "".join(
        f'<li class="{escape(f["severity"])}">[{escape(f["kind"])}] {escape(f["message"])}'
        + (f" <code>{escape(f['coordinate'])}</code>" if f.get("coordinate") else "")
        + "</li>"
        for f in check.findings
    )
    return (
        f'<tr class="check"><td>{check.created_at:%Y-%m-%d %H:%M:%S}</td><td>{escape(check.action)}</td>'
        f'<td>{escape(check.subgraph)}</td><td class="{verdict}">{verdict}</td><td><ul>{findings}</ul></td></tr>'
    )


async def page(registry: Registry) -> str:
    teams = {team.id: team.name for team in await registry.teams()}
    subgraphs = await registry.subgraphs()
    rows = "".join(
        f'<tr class="subgraph"><td>{escape(s.name)}</td><td>{escape(teams.get(s.team_id, s.team_id))}</td>'
        f"<td><code>{escape(s.routing_url)}</code></td><td><code>{escape(s.current_version_id or '')}</code></td></tr>"
        for s in subgraphs
    )
    versions = "".join([_versions(s.name, list(await registry.history(s.name))[:10]) for s in subgraphs])
    checks = "".join(_check(check) for check in await registry.checks(limit=30))
    usage = "".join(
        f"<tr><td><code>{escape(coordinate)}</code></td><td>{count}</td></tr>"
        for coordinate, count in (await registry.field_usage())[:200]
    )
    current = await registry.current_supergraph()
    sdl = escape(current.public_sdl) if current else "(nothing published yet)"
    cause = escape(current.cause) if current else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Schema registry</title><style>{STYLE}</style></head>
<body>
<h1>Schema registry</h1>
<h2>Subgraphs</h2>
<table id="subgraphs"><tr><th>name</th><th>owner</th><th>routing URL</th><th>current version</th></tr>{rows}</table>
<h2>Versions</h2>{versions}
<h2>Recent checks</h2>
<table id="checks"><tr><th>when (UTC)</th><th>action</th><th>subgraph</th><th>result</th><th>findings</th></tr>{checks}</table>
<h2>Usage per field (last {registry.settings.registry_usage_days} days)</h2>
<table id="usage"><tr><th>coordinate</th><th>executions</th></tr>{usage}</table>
<h2>Current supergraph (public API)</h2>
<p>{cause}</p>
<pre id="supergraph">{sdl}</pre>
</body></html>"""
