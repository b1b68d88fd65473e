"""Supergraph composition with @theguild/federation-composition (Node, gateway/router/compose.mjs)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from gateway.router import ROUTER_DIR, ensure_node_modules

COMPOSE_SCRIPT = ROUTER_DIR / "compose.mjs"


@dataclass(frozen=True)
class SubgraphDefinition:
    name: str
    url: str
    sdl: str  # federation v2.9 at most (the composition library rejects later versions)


class CompositionError(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("supergraph composition failed:\n" + "\n".join(errors))
        self.errors = errors


def _compose(subgraphs: list[SubgraphDefinition], out: Path | None, as_json: bool = False) -> str:
    ensure_node_modules()
    command = [
        "node",
        str(COMPOSE_SCRIPT),
        *(["--out", str(out)] if out else []),
        *(["--json"] if as_json else []),
    ]
    payload = json.dumps({"subgraphs": [asdict(subgraph) for subgraph in subgraphs]})
    done = subprocess.run(command, input=payload, capture_output=True, text=True, cwd=ROUTER_DIR, timeout=120)
    if done.returncode != 0:
        raise CompositionError([line for line in done.stderr.splitlines() if line.strip()] or ["(no output)"])
    return done.stdout


@dataclass(frozen=True)
class Composition:
    supergraph_sdl: str
    public_sdl: str
    """The API schema clients see (no federation machinery, no @inaccessible parts)."""


def compose_supergraph(subgraphs: list[SubgraphDefinition]) -> str:
    return _compose(subgraphs, None)


def compose(subgraphs: list[SubgraphDefinition]) -> Composition:
    result = json.loads(_compose(subgraphs, None, as_json=True))
    return Composition(supergraph_sdl=result["supergraphSdl"], public_sdl=result["publicSdl"])


def write_supergraph(subgraphs: list[SubgraphDefinition], path: str | Path) -> None:
    """Replaces `path` atomically (temp file + rename), so the watching router never reads half a file.
    Nothing is written when composition fails: the router keeps serving the last good supergraph."""
    target = Path(path).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    _compose(subgraphs, target)
