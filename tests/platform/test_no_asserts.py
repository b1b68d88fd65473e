"""No `assert` in the code that serves requests: `python -O` removes them, so a check written
as one vanishes in an optimised build. Use `shared.auth.principal.signed_in_user` (or
`acting_user`, `tenant_of`), an explicit `if ...: raise <DomainError>`, or for an invariant of
the program `if ...: raise RuntimeError(...)`."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ("shared", "subgraphs", "gateway")


def _asserts() -> list[str]:
    found = []
    for folder in CHECKED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "node_modules" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            relative = path.relative_to(ROOT).as_posix()
            found += [f"{relative}:{node.lineno}" for node in ast.walk(tree) if isinstance(node, ast.Assert)]
    return found


def test_no_assert_statement_in_shared_subgraphs_or_gateway() -> None:
    assert _asserts() == []


def test_the_walk_sees_an_assert() -> None:
    tree = ast.parse("def f(x):\n    assert x\n    return x\n")
    assert [type(node) for node in ast.walk(tree) if isinstance(node, ast.Assert)] == [ast.Assert]
