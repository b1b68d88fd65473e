"""`spotify-agent schema …`: what a partner team runs in its CI. Exit codes: 0 passed,
1 a check failed, 2 usage or connection error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import typer

schema_app = typer.Typer(help="Check and publish subgraph schemas with the registry.", no_args_is_help=True)

Registry = Annotated[
    str | None, typer.Option("--registry", envvar="REGISTRY_URL", help="Registry URL (env REGISTRY_URL).")
]
Key = Annotated[
    str | None,
    typer.Option("--key", envvar="REGISTRY_KEY", help="Team API key (env REGISTRY_KEY).", show_default=False),
]
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]

FINDINGS = "findings { kind severity message coordinate subgraph operations clients }"
PAYLOAD = f"passed check {{ id subgraph action passed {FINDINGS} }} version {{ id }} supergraph {{ id }}"


def _fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(2)


def _call(registry: str | None, key: str | None, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    if not registry:
        _fail("no registry: pass --registry or set REGISTRY_URL")
    if not key:
        _fail("no key: pass --key or set REGISTRY_KEY (a team API key)")
    try:
        response = httpx.post(
            f"{registry.rstrip('/')}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {key}"},
            timeout=120,
        )
        body: dict[str, Any] = response.json()
    except (httpx.HTTPError, ValueError) as error:
        _fail(f"cannot reach the registry at {registry}: {error}")
    if body.get("errors"):
        first = body["errors"][0]
        _fail(f"{first.get('extensions', {}).get('code', 'ERROR')}: {first.get('message')}")
    return dict(body["data"])


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as error:
        _fail(f"cannot read {path}: {error}")


def _report(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        check = result["check"]
        verdict = "passed" if result["passed"] else "FAILED"
        typer.echo(f"{check['action']} {check['subgraph']}: {verdict} (check {check['id']})")
        for finding in check["findings"]:
            where = f" [{finding['coordinate']}]" if finding.get("coordinate") else ""
            typer.echo(f"  {finding['severity']:7} {finding['kind']:11} {finding['message']}{where}")
            for operation in finding.get("operations") or []:
                name = operation["name"] or operation["hash"][:12]
                typer.echo(f"            operation {name} ({operation['count']}x)")
        if result.get("supergraph"):
            typer.echo(f"new supergraph {result['supergraph']['id']}")
    raise typer.Exit(0 if result["passed"] else 1)


@schema_app.command()
def check(
    subgraph: Annotated[str, typer.Option(help="Subgraph name.")],
    schema: Annotated[Path, typer.Option(help="SDL file.")],
    url: Annotated[str | None, typer.Option(help="Routing URL.")] = None,
    registry: Registry = None,
    key: Key = None,
    as_json: AsJson = False,
) -> None:
    """Run every check (composition, breaking changes against real usage, lint); changes nothing."""
    query = f"mutation($i: SchemaInput!) {{ checkSchema(input: $i) {{ {PAYLOAD} }} }}"
    data = _call(registry, key, query, {"i": {"subgraph": subgraph, "schema": _read(schema), "url": url}})
    _report(data["checkSchema"], as_json)


@schema_app.command()
def publish(
    subgraph: Annotated[str, typer.Option(help="Subgraph name.")],
    schema: Annotated[Path, typer.Option(help="SDL file.")],
    url: Annotated[str, typer.Option(help="Routing URL the router uses.")],
    registry: Registry = None,
    key: Key = None,
    as_json: AsJson = False,
) -> None:
    """Check, then publish: the router picks the new supergraph up without a restart."""
    query = f"mutation($i: SchemaInput!) {{ publishSchema(input: $i) {{ {PAYLOAD} }} }}"
    data = _call(registry, key, query, {"i": {"subgraph": subgraph, "schema": _read(schema), "url": url}})
    _report(data["publishSchema"], as_json)


@schema_app.command()
def delete(name: str, registry: Registry = None, key: Key = None, as_json: AsJson = False) -> None:
    """Check the supergraph without the subgraph, then remove it."""
    query = f"mutation($n: String!) {{ deleteSubgraph(subgraph: $n) {{ {PAYLOAD} }} }}"
    _report(_call(registry, key, query, {"n": name})["deleteSubgraph"], as_json)


@schema_app.command()
def fetch(
    out: Annotated[Path | None, typer.Option(help="Write the supergraph here instead of stdout.")] = None,
    registry: Registry = None,
    key: Key = None,
    as_json: AsJson = False,
) -> None:
    """The current supergraph."""
    data = _call(registry, key, "{ supergraph { id createdAt cause sdl } }", {})["supergraph"]
    if data is None:
        _fail("nothing is published yet")
    if out is not None:
        out.write_text(data["sdl"])
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    elif out is None:
        typer.echo(data["sdl"])


@schema_app.command()
def history(name: str, registry: Registry = None, key: Key = None, as_json: AsJson = False) -> None:
    """Every published version of a subgraph, newest first."""
    versions = _call(
        registry,
        key,
        "query($n: String!) { versions(subgraph: $n) { id publishedAt routingUrl } }",
        {"n": name},
    )
    rows = versions["versions"]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        typer.echo(f"{row['id']}  {row['publishedAt']}  {row['routingUrl']}")


@schema_app.command()
def diff(v1: str, v2: str, registry: Registry = None, key: Key = None, as_json: AsJson = False) -> None:
    """What changed between two published versions."""
    query = """query($a: ID!, $b: ID!) { diff(fromVersion: $a, toVersion: $b) {
      text changes { kind severity message coordinate } } }"""
    data = _call(registry, key, query, {"a": v1, "b": v2})["diff"]
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    typer.echo(data["text"] or "(same SDL)")
    for change in data["changes"]:
        typer.echo(f"{change['kind']}: {change['message']}")
