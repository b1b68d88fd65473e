"""`spotify-agent new-subgraph NAME` in a copy of the repository: the skeleton touches only
its folders and the list, passes lint and types, is migrated, served by the host and answers
(its own generated tests), and composes into the supergraph through the registry's checks."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIPPED = {".git", ".venv", ".data", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache"}
NAME = "setlists"
ALLOWED = (f"subgraphs/{NAME}/", f"migrations/versions/{NAME}/", f"tests/{NAME}/")
GENERATED_BY_THE_LIST = {"gateway/subgraphs.py", "docker/compose.yaml"}


def _files(root: Path) -> dict[str, str]:
    found = {}
    for path in root.rglob("*"):
        if path.is_file() and not SKIPPED.intersection(path.relative_to(root).parts):
            found[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _run(copy: Path, *args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(copy), "ENV": "test", "LOG_JSON": "false", **env}
    environment.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, *args], cwd=copy, env=environment, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], dict[str, str]]:
    copy = tmp_path_factory.mktemp("repository") / "repo"
    shutil.copytree(ROOT, copy, ignore=lambda _, names: [name for name in names if name in SKIPPED])
    (copy / "gateway" / "router" / "node_modules").symlink_to(ROOT / "gateway" / "router" / "node_modules")
    before = _files(copy)
    done = _run(copy, "-m", "gateway", "new-subgraph", NAME)
    assert done.returncode == 0, done.stderr
    return copy, before, _files(copy)


def test_it_touches_only_its_folders_and_the_list(scaffolded):
    _, before, after = scaffolded
    changed = {path for path in after if before.get(path) != after[path]}
    assert not set(before) - set(after), "nothing is removed"
    outside = {path for path in changed if not path.startswith(ALLOWED)} - GENERATED_BY_THE_LIST
    assert outside == set()
    standard = {"app.py", "config.py", "models.py", "repository.py", "service.py", "loaders.py"}
    standard |= {"schema.py", "types.py", "tasks.py", "policy.csv", "__init__.py"}
    assert standard <= {path.removeprefix(ALLOWED[0]) for path in changed if path.startswith(ALLOWED[0])}
    assert any(path.startswith(ALLOWED[1]) for path in changed)
    assert f"tests/{NAME}/test_{NAME}.py" in changed


def test_it_is_lint_and_type_clean(scaffolded):
    copy, _, _ = scaffolded
    folders = [f"subgraphs/{NAME}", f"tests/{NAME}", f"migrations/versions/{NAME}", "gateway/subgraphs.py"]
    for tool in (["ruff", "check", *folders], ["ruff", "format", "--check", *folders]):
        done = _run(copy, "-m", *tool)
        assert done.returncode == 0, done.stdout + done.stderr
    typed = _run(copy, "-m", "mypy", f"subgraphs/{NAME}", f"tests/{NAME}")
    assert typed.returncode == 0, typed.stdout


def test_it_is_migrated_served_and_answers(scaffolded):
    copy, _, _ = scaffolded
    done = _run(copy, "-m", "pytest", f"tests/{NAME}", "-q", "-p", "no:cacheprovider", "-m", "not postgres")
    assert done.returncode == 0, done.stdout[-3000:]
    assert "3 passed" in done.stdout


def test_it_composes_through_the_registrys_checks(scaffolded, tmp_path):
    copy, _, _ = scaffolded
    out = tmp_path / "supergraph.graphql"
    done = _run(copy, "-m", "gateway", "compose", "--out", str(out), DATA_DIR=str(tmp_path / "data"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{NAME}: published (0 warnings)" in done.stdout
    supergraph = out.read_text()
    assert "type SetlistsItem" in supergraph and "setlistsItem(" in supergraph


@pytest.mark.parametrize("bad", ["Search", "my_domain", "my-domain", "a", "import", "accounts", "x" * 31])
def test_a_bad_or_taken_name_is_refused(bad: str):
    from gateway.scaffold import ScaffoldError, check_name
    from gateway.subgraphs import SUBGRAPHS

    with pytest.raises(ScaffoldError):
        check_name(bad, SUBGRAPHS)
