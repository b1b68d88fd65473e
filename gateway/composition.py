"""Supergraph composition with the real library (@theguild/federation-composition, Node)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

ROUTER_DIR = Path(__file__).resolve().parent / "router"


@dataclass(frozen=True)
class SubgraphDefinition:
    name: str
    url: str
    sdl: str


class CompositionError(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def _run(subgraphs: list[SubgraphDefinition], out: Path | None) -> str:
    args = ["node", str(ROUTER_DIR / "compose.mjs")] + (["--out", str(out)] if out else [])
    payload = json.dumps({"subgraphs": [asdict(subgraph) for subgraph in subgraphs]})
    done = subprocess.run(args, input=payload, capture_output=True, text=True, cwd=ROUTER_DIR, timeout=120)
    if done.returncode != 0:
        raise CompositionError(
            [line for line in done.stderr.splitlines() if line.strip()] or ["composition failed"]
        )
    return done.stdout


def compose_supergraph(subgraphs: list[SubgraphDefinition]) -> str:
    return _run(subgraphs, None)


def write_supergraph(subgraphs: list[SubgraphDefinition], path: Path) -> None:
    """Atomically replaces `path` (the router watches it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _run(subgraphs, path.resolve())
