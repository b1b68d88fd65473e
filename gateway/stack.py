"""The per-subgraph parts of `docker/compose.yaml`, generated from the list of subgraphs:
each subgraph's service, its route in SUBGRAPH_URLS, the publish step's wait on it, and
Prometheus's scrape of its /metrics.
They sit between `# begin generated: <part>` and `# end generated: <part>` lines; the rest
of the file is written by hand."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

from gateway.subgraphs import SUBGRAPHS

COMPOSE_FILE = Path(__file__).parents[1] / "docker" / "compose.yaml"
PORT = 4001


def _routes(names: Sequence[str], indent: str) -> list[str]:
    routes = [f"{indent}  {name}=http://{name}:{PORT}/graphql," for name in names]
    routes[-1] = routes[-1].rstrip(",")
    return [f"{indent}SUBGRAPH_URLS: >-", *routes]


def _services(names: Sequence[str], indent: str) -> list[str]:
    lines: list[str] = []
    for name in names:
        command = f'["spotify-agent", "serve", "--subgraph", "{name}", "--port", "{PORT}"]'
        lines += [f"{indent}{name}:", f"{indent}  <<: *python", f"{indent}  command: {command}"]
    return lines


def _readiness(names: Sequence[str], indent: str) -> list[str]:
    return [f"{indent}{name}: {{condition: service_healthy}}" for name in names]


def _scrape(names: Sequence[str], indent: str) -> list[str]:
    return [f"{indent}- {name}:{PORT}" for name in names]


PARTS: dict[str, Callable[[Sequence[str], str], list[str]]] = {
    "routes": _routes,
    "services": _services,
    "readiness": _readiness,
    "scrape": _scrape,
}
_BLOCK = re.compile(
    r"^(?P<indent>[ ]*)# begin generated: (?P<part>[a-z]+)\n.*?^(?P=indent)# end generated: (?P=part)\n",
    re.MULTILINE | re.DOTALL,
)


def render(text: str, names: Sequence[str] = SUBGRAPHS) -> str:
    """`text` with every generated part rewritten for `names`."""
    found: set[str] = set()

    def block(match: re.Match[str]) -> str:
        indent, part = match["indent"], match["part"]
        if part not in PARTS:
            raise ValueError(f"unknown generated part {part!r} in the compose file")
        found.add(part)
        body = PARTS[part](names, indent)
        return (
            "\n".join([f"{indent}# begin generated: {part}", *body, f"{indent}# end generated: {part}"])
            + "\n"
        )

    rendered = _BLOCK.sub(block, text)
    missing = set(PARTS) - found
    if missing:
        raise ValueError(f"the compose file lacks the generated parts {', '.join(sorted(missing))}")
    return rendered
