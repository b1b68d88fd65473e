"""GraphiQL is the documentation: our subgraphs publish with no lint finding at all, the
description rule covers arguments, input fields and enum values, and it blocks the platform
team's publishes while a partner's undocumented field is only a warning (unless configured)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import pytest
import strawberry

from gateway.composition import SubgraphDefinition
from gateway.host import definitions
from gateway.registry import checks
from gateway.registry.bootstrap import PublishRefused, publish_platform
from gateway.registry.service import PLATFORM_TENANT, Registry
from gateway.subgraphs import SUBGRAPHS
from tests.registry.conftest import MERCH_URL, PUBLISH
from tests.support.partner import MERCH_SDL

UNDOCUMENTED_NAME = MERCH_SDL.replace('"""What it is."""\n', "")


def test_our_subgraphs_have_no_lint_finding(settings):
    every_rule = frozenset(checks.LINT_RULES)
    for definition in definitions(settings, SUBGRAPHS):
        found = checks.lint(definition.name, definition.sdl, every_rule)
        assert [(f.coordinate, f.message) for f in found] == [], definition.name


@strawberry.enum(description="A role.")
class Role(Enum):
    OWNER = "owner"
    GUEST = strawberry.enum_value("guest", description="Described.")


@strawberry.input(description="A filter.")
class Filter:
    text: str
    exact: bool = strawberry.field(default=False, description="Described.")


@strawberry.federation.type(keys=["id"], description="A thing.")
class Thing:
    id: strawberry.ID = strawberry.field(description="Thing id (opaque).")

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Thing:
        return cls(id=id)


@strawberry.type
class Query:
    @strawberry.field(description="Things that match.")
    def search(
        self,
        first: int,
        filter: Filter | None = None,
        role: Role | None = None,
        after: Annotated[str | None, strawberry.argument(description="Described.")] = None,
    ) -> list[Thing]:
        return []


def test_description_rule_covers_arguments_input_fields_and_enum_values():
    sdl = strawberry.federation.Schema(query=Query, types=[Thing], federation_version="2.9").as_str()
    found = checks.lint("things", sdl)
    assert {f.coordinate for f in found} == {
        "Query.search(first:)",
        "Query.search(filter:)",
        "Query.search(role:)",
        "Filter.text",
        "Role.OWNER",
    }, [f.message for f in found]  # and nothing of `_entities(representations:)`, `_Service`, ...
    assert all(f.severity == "warning" and f.message.startswith("[description]") for f in found)
    messages = {f.coordinate: f.message for f in found}
    assert (
        messages["Query.search(first:)"] == "[description] argument Query.search(first:) has no description"
    )
    assert messages["Filter.text"] == "[description] input field Filter.text has no description"
    assert messages["Role.OWNER"] == "[description] enum value Role.OWNER has no description"
    blocking = checks.lint("things", sdl, frozenset({"description"}))
    assert {f.severity for f in blocking} == {"error"}


async def test_platform_publish_of_an_undocumented_field_is_refused(registry):
    service: Registry = registry.app.state.registry
    before = await service.current_supergraph()
    accounts = definitions(registry.settings, ["accounts"])[0]
    assert "type Query {\n" in accounts.sdl
    sloppy = accounts.sdl.replace("type Query {\n", "type Query {\n  undocumented: Int\n", 1)
    with pytest.raises(PublishRefused) as refused:
        await publish_platform(service, [SubgraphDefinition("accounts", accounts.url, sloppy)])
    assert refused.value.findings == ["[description] field Query.undocumented has no description"]
    after = await service.current_supergraph()
    assert before is not None and after is not None and after.id == before.id

    team = await service.team_of_tenant(PLATFORM_TENANT)
    assert team is not None
    check = await service.check(team, "accounts", sloppy, accounts.url)
    assert not check.passed
    # The same schema, documented, is fine.
    fine = await service.check(team, "accounts", accounts.sdl, accounts.url)
    assert fine.passed, fine.check.findings


async def test_partner_undocumented_field_is_a_warning_unless_configured(registry, database):
    key = await registry.team("Merch Co", ["merch"], ["registry:check", "registry:publish"])
    published = await registry.gql(
        PUBLISH, {"i": {"subgraph": "merch", "schema": UNDOCUMENTED_NAME, "url": MERCH_URL}}, key
    )
    result = published["data"]["publishSchema"]
    assert result["passed"] and result["supergraph"]["id"], result
    lint = [f for f in result["check"]["findings"] if f["coordinate"] == "MerchItem.name"]
    assert [(f["severity"], f["message"].split("]")[0] + "]") for f in lint] == [("warning", "[description]")]

    strict = Registry(database, registry.settings.model_copy(update={"registry_lint_errors": "description"}))
    team = next(team for team in await strict.teams() if team.name == "Merch Co")
    checked = await strict.check(team, "merch", UNDOCUMENTED_NAME, MERCH_URL)
    assert not checked.passed
    severities = {f["coordinate"]: f["severity"] for f in checked.check.findings if f["kind"] == "lint"}
    assert severities["MerchItem.name"] == "error"
