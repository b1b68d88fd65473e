"""The policy engine and the field extension: one decision per coordinate per request."""

from __future__ import annotations

from pathlib import Path

import pytest
import strawberry

from shared.auth.principal import Principal
from shared.config import Settings
from shared.context import RequestContext
from shared.permissions import Decision, PolicyEngine, protected
from shared.schema import build_schema

POLICY = """
p, role:viewer, *, Query.*, read, allow
p, role:viewer, *, Row.*, read, allow
p, role:admin, *, Row.secret, read, allow
p, self, *, Row.secret, read, allow
p, role:member, tnt_a, Row.note, read, allow
"""


@pytest.fixture
def engine(tmp_path: Path) -> PolicyEngine:
    path = tmp_path / "policy.csv"
    path.write_text(POLICY)
    return PolicyEngine([path])


def test_role_hierarchy_explicit_rules_and_domains(engine):
    viewer, admin, owner = ("role:viewer",), ("role:admin",), ("role:owner",)
    assert engine.decide(viewer, "tnt_a", "Row.id", "read") is Decision.ALLOW
    assert engine.decide(viewer, "tnt_a", "Row.secret", "read") is Decision.OWNER_ONLY
    assert engine.decide(admin, "tnt_a", "Row.secret", "read") is Decision.ALLOW
    assert engine.decide(owner, "tnt_a", "Row.secret", "read") is Decision.ALLOW  # owner > admin
    assert engine.decide(("role:member",), "tnt_a", "Row.note", "read") is Decision.ALLOW
    assert engine.decide(("role:member",), "tnt_b", "Row.note", "read") is Decision.DENY
    assert engine.decide(admin, "tnt_a", "Mutation.anything", "write") is Decision.DENY
    assert engine.decide(("role:anonymous",), "platform", "Row.id", "read") is Decision.DENY


def test_decisions_are_memoised(engine):
    engine.decide(("role:viewer",), "tnt_a", "Row.id", "read")
    calls = engine.enforce_calls
    for _ in range(100):
        engine.decide(("role:viewer",), "tnt_a", "Row.id", "read")
    assert engine.enforce_calls == calls


@strawberry.type
class Row:
    id: str
    owner: strawberry.Private[str]
    consents: strawberry.Private[frozenset[str]]

    @property
    def owner_id(self) -> str:
        return self.owner

    @property
    def data_subject_consents(self) -> frozenset[str]:
        return self.consents

    @protected("Row.secret", consent="data_processing")
    def secret(self) -> str | None:
        return f"secret of {self.id}"

    @strawberry.field
    def note(self) -> str:
        return "note"


ROWS = [
    Row(
        id=f"r{i}",
        owner="usr_1" if i == 0 else "usr_2",
        consents=frozenset({"data_processing"} if i != 1 else set()),
    )
    for i in range(1000)
]


@strawberry.type
class Query:
    @strawberry.field
    def rows(self) -> list[Row]:
        return ROWS


class _Runtime:
    name = "test"

    def __init__(self, engine: PolicyEngine) -> None:
        self.policies = engine


def _context(engine: PolicyEngine, roles: tuple[str, ...]) -> RequestContext:
    principal = Principal(
        kind="user", user_id="usr_1", tenant_id="tnt_a", roles=roles, scopes=frozenset({"*"})
    )
    return RequestContext(runtime=_Runtime(engine), principal=principal)  # type: ignore[arg-type]


async def test_a_thousand_rows_cost_one_decision_per_coordinate(engine):
    schema = build_schema(Settings(env="test"), query=Query)
    result = await schema.execute("{ rows { id secret } }", context_value=_context(engine, ("viewer",)))
    # Row 0 is the caller's own ("self" grant): visible. Every other row: FORBIDDEN.
    assert result.data["rows"][0]["secret"] == "secret of r0"
    errors = {tuple(error.path): error.extensions["code"] for error in result.errors}
    assert len(errors) == 999 and set(errors.values()) == {"FORBIDDEN"}
    assert ("rows", 0, "secret") not in errors
    assert all(row["id"] for row in result.data["rows"])
    # Coordinates: Query.rows, Row.id, Row.secret: each decided once (one enforce per
    # subject, plus one for "self" where roles do not allow).
    assert engine.enforce_calls <= 4


async def test_admin_sees_every_secret_except_where_consent_is_withdrawn(engine):
    schema = build_schema(Settings(env="test"), query=Query)
    result = await schema.execute("{ rows { secret note } }", context_value=_context(engine, ("admin",)))
    assert [tuple(e.path) for e in result.errors] == [("rows", 1, "secret")]
    assert result.errors[0].extensions["code"] == "CONSENT_REQUIRED"
    assert result.data["rows"][2]["secret"] == "secret of r2"


def test_protected_fields_are_declared_in_the_sdl():
    sdl = build_schema(Settings(env="test"), query=Query).as_str()
    assert '@policy(policies: [["Row.secret"]])' in sdl
    assert "secret: String @policy" in sdl
