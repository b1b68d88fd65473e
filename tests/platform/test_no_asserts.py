"""No `assert` in the code that serves requests: `python -O` removes them, so a check written
as one vanishes in an optimised build. Use `shared.auth.principal.signed_in_user` (or
`acting_user`, `tenant_of`), an explicit `if ...: raise <DomainError>`, or for an invariant of
the program `if ...: raise RuntimeError(...)`."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ("shared", "subgraphs")

# Being rewritten by other engineers, who will remove their asserts and empty this list.
# Until then these folders are reported, not failed.
ALLOWED = (
    "subgraphs/spotify/",  # being regrouped into the standard roles
)


def _asserts() -> list[str]:
    found = []
    for folder in CHECKED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            relative = path.relative_to(ROOT).as_posix()
            found += [f"{relative}:{node.lineno}" for node in ast.walk(tree) if isinstance(node, ast.Assert)]
    return found


def test_no_assert_statement_in_shared_or_subgraphs() -> None:
    found = _asserts()
    allowed = [where for where in found if where.startswith(ALLOWED)]
    if allowed:
        print(f"asserts still allowed ({len(allowed)}):", *allowed, sep="\n  ")
    assert [where for where in found if not where.startswith(ALLOWED)] == []


def test_the_walk_sees_an_assert() -> None:
    tree = ast.parse("def f(x):\n    assert x\n    return x\n")
    assert [type(node) for node in ast.walk(tree) if isinstance(node, ast.Assert)] == [ast.Assert]
