"""Composition through gateway/router/compose.mjs (Node, no router needed)."""

from __future__ import annotations

import pytest

from gateway.composition import CompositionError, SubgraphDefinition, compose_supergraph, write_supergraph
from tests.router.conftest import sdl_of
from tests.router.subgraphs import CONFLICT_ONE, CONFLICT_TWO

CONFLICTING = [
    SubgraphDefinition("one", "http://127.0.0.1:1/one/graphql", CONFLICT_ONE),
    SubgraphDefinition("two", "http://127.0.0.1:1/two/graphql", CONFLICT_TWO),
]


def test_composes_strawberry_subgraphs_into_a_supergraph():
    supergraph = compose_supergraph(
        [
            SubgraphDefinition("echo", "http://127.0.0.1:1/echo/graphql", sdl_of("echo")),
            SubgraphDefinition("catalog", "http://127.0.0.1:1/catalog/graphql", sdl_of("catalog")),
        ]
    )
    assert 'ECHO @join__graph(name: "echo", url: "http://127.0.0.1:1/echo/graphql")' in supergraph
    assert 'CATALOG @join__graph(name: "catalog", url: "http://127.0.0.1:1/catalog/graphql")' in supergraph
    assert "ticks(count: Int! = 3): Tick!" in supergraph
    assert "plays: Int!" in supergraph and "title: String!" in supergraph


def test_conflicting_field_types_fail_with_the_coordinate_and_subgraphs():
    with pytest.raises(CompositionError) as failure:
        compose_supergraph(CONFLICTING)
    mismatch = [error for error in failure.value.errors if "FIELD_TYPE_MISMATCH" in error]
    assert mismatch, failure.value.errors
    assert '"Album.year"' in mismatch[0]
    assert '"one"' in mismatch[0] and '"two"' in mismatch[0]
    assert "Album.year" in str(failure.value)


def test_invalid_sdl_names_the_subgraph():
    with pytest.raises(CompositionError) as failure:
        compose_supergraph([SubgraphDefinition("broken", "http://127.0.0.1:1/graphql", "type Query {")])
    assert failure.value.errors[0].startswith("[broken] invalid SDL")


def test_failed_composition_leaves_the_served_file_alone(tmp_path):
    target = tmp_path / "supergraph.graphql"
    target.write_text("the last good supergraph")
    with pytest.raises(CompositionError):
        write_supergraph(CONFLICTING, target)
    assert target.read_text() == "the last good supergraph"
    assert [path.name for path in tmp_path.iterdir()] == ["supergraph.graphql"]  # no temp file left
