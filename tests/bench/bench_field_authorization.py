"""1,000 users x 5 protected fields: enforce calls and time against no authorization."""

import tempfile
from pathlib import Path

import strawberry
from strawberry.extensions import ParserCache, ValidationCache

from shared.auth.principal import Principal
from shared.config import Settings
from shared.context import RequestContext
from shared.heap import settle_after_startup
from shared.permissions import PolicyEngine, protected
from shared.schema import build_schema
from tests.bench.timing import compare_cpu

FIELDS = ("email", "phone", "country", "birthday", "label")
POLICY = "p, role:viewer, *, Query.*, read, allow\np, role:viewer, *, Person.*, read, allow\n" + "".join(
    f"p, role:admin, *, Person.{field}, read, allow\n" for field in FIELDS
)


def _person(protect: bool) -> type:
    namespace: dict[str, object] = {"__annotations__": {"id": str}}
    for field in FIELDS:

        def resolver(self: object, _f: str = field) -> str | None:
            return f"{_f}-{self.id}"  # type: ignore[attr-defined]

        namespace[field] = (
            protected(f"Person.{field}", resolver=resolver)
            if protect
            else strawberry.field(resolver=resolver)
        )
    return strawberry.type(type("Person", (), namespace))


async def run() -> None:
    secured, plain = _person(True), _person(False)
    people_secured = [secured(id=str(i)) for i in range(1000)]
    people_plain = [plain(id=str(i)) for i in range(1000)]

    @strawberry.type
    class Query:
        @strawberry.field
        def people(self) -> list[secured]:  # type: ignore[valid-type]
            return people_secured

    @strawberry.type(name="Query")
    class PlainQuery:
        @strawberry.field
        def people(self) -> list[plain]:  # type: ignore[valid-type]
            return people_plain

    path = Path(tempfile.mkdtemp()) / "policy.csv"
    path.write_text(POLICY)
    engine = PolicyEngine([path])
    full = build_schema(Settings(env="production"), query=Query)
    bare = strawberry.Schema(query=PlainQuery, extensions=[lambda: ParserCache(), lambda: ValidationCache()])
    settle_after_startup()  # as our servers do once started
    document = "{ people { id " + " ".join(FIELDS) + " } }"

    class Runtime:
        name = "bench"
        policies = engine

    principal = Principal(
        kind="user", user_id="usr_1", tenant_id="tnt_1", roles=("admin",), scopes=frozenset({"*"})
    )
    calls_before = engine.enforce_calls
    first = await full.execute(document, context_value=RequestContext(runtime=Runtime(), principal=principal))  # type: ignore[arg-type]
    assert first.errors is None, first.errors
    enforce_first_request = engine.enforce_calls - calls_before

    async def secured_call() -> None:
        await full.execute(document, context_value=RequestContext(runtime=Runtime(), principal=principal))  # type: ignore[arg-type]

    async def bare_call() -> None:
        await bare.execute(document)

    cpu = await compare_cpu(secured_call, bare_call, warmup=3, rounds=5, per_round=4)
    coordinates = 1 + 1 + len(FIELDS)
    print(
        f"enforce calls, first request: {enforce_first_request} (distinct coordinates: {coordinates}, target <= {coordinates})"
    )
    print(
        f"enforce calls, later requests: {engine.enforce_calls - calls_before - enforce_first_request} (memoised per policy revision)"
    )
    print(
        f"with authorization {cpu.subject * 1000:.1f} ms, without {cpu.baseline * 1000:.1f} ms, "
        f"ratio {cpu.ratio:.2f}x (target <= 1.3x)"
    )
