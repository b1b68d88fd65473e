"""`spotify-agent new-subgraph NAME`: writes a working subgraph from the templates beside
this file (the standard files, an entity, a query, a mutation through `unit_of_work`, a job,
a policy, a migration and a test folder) and adds NAME to the list of subgraphs."""

from __future__ import annotations

import keyword
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gateway.stack import render

TEMPLATES = Path(__file__).parent
NAME = re.compile(r"^[a-z][a-z0-9]{1,29}$")
"""One lower-case word: a Python package, a URL path, a table prefix and a registry name."""
LIST = re.compile(r"^SUBGRAPHS: tuple\[str, \.\.\.\] = \((?P<names>[^)]*)\)$", re.MULTILINE)


class ScaffoldError(Exception):
    pass


@dataclass(frozen=True)
class Names:
    name: str

    @property
    def pascal(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("_"))

    @property
    def camel(self) -> str:
        pascal = self.pascal
        return pascal[0].lower() + pascal[1:]

    def fill(self, template: str) -> str:
        return (
            template.replace("{{name}}", self.name)
            .replace("{{Name}}", self.pascal)
            .replace("{{camel}}", self.camel)
            .replace("{{NAME}}", self.name.upper())
            .replace("{{date}}", datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"))
        )


def check_name(name: str, existing: tuple[str, ...]) -> Names:
    if not NAME.match(name) or keyword.iskeyword(name):
        raise ScaffoldError(f"{name!r} is not a subgraph name: one lower-case word, e.g. search")
    if name in existing or name in {"platform", "registry", "shared", "gateway", "support"}:
        raise ScaffoldError(f"{name!r} is taken")
    return Names(name)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def new_subgraph(root: Path, name: str) -> list[Path]:
    """Writes the subgraph into the repository at `root`; returns the files written."""
    subgraphs_file = root / "gateway" / "subgraphs.py"
    source = subgraphs_file.read_text()
    listed = LIST.search(source)
    if listed is None:
        raise ScaffoldError(f"no `SUBGRAPHS: tuple[str, ...] = (...)` line in {subgraphs_file}")
    existing = tuple(part.strip().strip("\"'") for part in listed["names"].split(",") if part.strip())
    names = check_name(name, existing)
    targets = {
        "subgraph": root / "subgraphs" / name,
        "tests": root / "tests" / name,
        "migrations": root / "migrations" / "versions" / name,
    }
    for target in targets.values():
        if target.exists():
            raise ScaffoldError(f"{target} exists already")
    written: list[Path] = []
    for folder in ("subgraph", "tests"):
        for template in sorted((TEMPLATES / folder).glob("*.tmpl")):
            file_name = names.fill(template.name.removesuffix(".tmpl"))
            written.append(_write(targets[folder] / file_name, names.fill(template.read_text())))
    migration = targets["migrations"] / f"{name}_0001_{name}_initial_schema.py"
    written.append(_write(migration, names.fill((TEMPLATES / "migration.py.tmpl").read_text())))

    entries = "".join(f'    "{entry}",\n' for entry in (*existing, name))
    listing = f"SUBGRAPHS: tuple[str, ...] = (\n{entries})"
    subgraphs_file.write_text(LIST.sub(lambda _: listing, source, count=1))
    written.append(subgraphs_file)
    compose = root / "docker" / "compose.yaml"
    compose.write_text(render(compose.read_text(), [*existing, name]))
    written.append(compose)
    _format([path for path in written if path.suffix == ".py"])
    return written


def _format(paths: list[Path]) -> None:
    """Long names make long lines: the project's formatter lays them out (when installed)."""
    subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--quiet", *map(str, paths)],
        check=False,
        capture_output=True,
    )
