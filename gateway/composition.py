"""Supergraph composition with @theguild/federation-composition (Node, gateway/router/compose.mjs)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gateway.router_process import ROUTER_DIR, ensure_node_modules

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


@dataclass(frozen=True)
class Composition:
    supergraph_sdl: str
    public_sdl: str
    """The API schema clients see (no federation machinery, no @inaccessible parts)."""


def compose_supergraph(subgraphs: list[SubgraphDefinition]) -> str:
    return compose(subgraphs).supergraph_sdl


def compose(subgraphs: list[SubgraphDefinition]) -> Composition:
    """Through this process's long-lived composition worker."""
    answer = _worker.compose(subgraphs)
    if "errors" in answer:
        raise CompositionError(list(answer["errors"]) or ["(no output)"])
    return Composition(supergraph_sdl=answer["supergraphSdl"], public_sdl=answer["publicSdl"])


class ComposeWorker:
    """`node compose.mjs`, started on first use and kept: starting Node and loading the
    composition library took ~250 ms of each ~480 ms check. One composition at a time (any
    thread); a worker that died or hung is replaced. It exits when our end of its stdin
    closes, which includes this process dying."""

    def __init__(self, timeout: float = 120) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    def compose(self, subgraphs: list[SubgraphDefinition]) -> dict[str, Any]:
        request = json.dumps({"subgraphs": [asdict(subgraph) for subgraph in subgraphs]}) + "\n"
        with self._lock:
            for attempt in (1, 2):
                reused = self.pid is not None
                answer = self._ask(request)
                if answer is not None:
                    return answer
                if not reused or attempt == 2:
                    break  # a fresh worker failed too: not a stale process, give up
        raise CompositionError(["the composition worker failed (no answer); see the registry's log"])

    def _ask(self, request: str) -> dict[str, Any] | None:
        process = self._running()
        if process.stdin is None or process.stdout is None:
            raise RuntimeError("the composition worker was started without pipes")
        hung = threading.Timer(self.timeout, process.kill)
        hung.start()
        try:
            process.stdin.write(request)
            process.stdin.flush()
            line = process.stdout.readline()
        except (BrokenPipeError, OSError):
            line = ""
        finally:
            hung.cancel()
        if not line:
            self.stop()
            return None
        answer: dict[str, Any] = json.loads(line)
        return answer

    def _running(self) -> subprocess.Popen[str]:
        if self._process is None or self._process.poll() is not None:
            ensure_node_modules()
            self._process = subprocess.Popen(
                ["node", str(COMPOSE_SCRIPT)],
                cwd=ROUTER_DIR,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=None,  # ours: a crash shows in the process's log
                text=True,
            )
        return self._process

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=10)


_worker = ComposeWorker()


def write_supergraph(subgraphs: list[SubgraphDefinition], path: str | Path) -> None:
    """Replaces `path` atomically (temp file + rename), so the watching router never reads half a file.
    Nothing is written when composition fails: the router keeps serving the last good supergraph."""
    sdl = compose_supergraph(subgraphs)
    target = Path(path).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.tmp")  # same directory: same filesystem
    partial.write_text(sdl)
    partial.replace(target)
