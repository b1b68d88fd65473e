"""The registry's pure checks: coordinates of schema changes, and lint severities."""

from __future__ import annotations

from gateway.registry.checks import coordinate_of, lint, subgraph_changes
from tests.support.partner import MERCH_SDL, WITHOUT_PRICE


def test_coordinates_of_graphql_core_change_descriptions():
    cases = {
        "Field MerchItem.price was removed.": "MerchItem.price",
        "Argument Query.artist(id:) was removed.": "Query.artist(id:)",
        "Enum value AssetKind.STEM was removed.": "AssetKind.STEM",
        "MerchItem was removed.": "MerchItem",
        "Field Artist.name changed type from String! to Int!.": "Artist.name",
        "Poster was removed from union type Merch.": "Merch",
        "Standard scalar Float was removed because it is not referenced anymore.": "Float",
    }
    for description, coordinate in cases.items():
        assert coordinate_of(description) == coordinate, description


def test_lint_rules_warn_unless_configured_to_block():
    sloppy = MERCH_SDL.replace("merchCatalogueSize", "merch_catalogue_size")
    warned = [f for f in lint("merch", sloppy) if f.coordinate == "Query.merch_catalogue_size"]
    assert [(f.severity, f.message.split("]")[0]) for f in warned] == [("warning", "[field-name")]
    blocked = [
        f
        for f in lint("merch", sloppy, frozenset({"field-name"}))
        if f.coordinate == "Query.merch_catalogue_size"
    ]
    assert blocked[0].severity == "error"
    assert [f for f in lint("merch", MERCH_SDL) if f.severity == "error"] == []
    private = lint("merch", MERCH_SDL.replace("merchCatalogueSize", "_internalCount"))
    assert any(f.message.startswith("[private-field]") for f in private)


def test_changes_between_two_subgraph_versions():
    changes = subgraph_changes(MERCH_SDL, WITHOUT_PRICE)
    assert [(c.kind, c.coordinate) for c in changes] == [("breaking", "MerchItem.price")]


def test_routing_urls_for_subgraphs_running_apart():
    from shared.config import Settings

    together = Settings(env="test", subgraph_port=4001)
    assert together.routing_url("spotify") == "http://127.0.0.1:4001/spotify/graphql"
    apart = Settings(
        env="test", subgraph_urls="accounts=http://accounts:4001/graphql, spotify=http://spotify:4001/graphql"
    )
    assert apart.routing_url("spotify") == "http://spotify:4001/graphql"
    assert apart.routing_url("storage") == "http://127.0.0.1:4001/storage/graphql"
