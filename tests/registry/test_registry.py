"""Checks and publishes: composition, breaking changes weighed against real usage, lint,
ownership by Casbin, and nothing changed by a publish that fails."""

from __future__ import annotations

import asyncio
import base64
import itertools
import threading
from datetime import UTC, datetime

import httpx
from sqlmodel import select

from gateway.registry import checks
from gateway.registry.app import create_registry_app
from gateway.registry.models import SupergraphVersion
from tests.registry.conftest import CHECK, DELETE, MERCH_URL, PUBLISH, api_key
from tests.support.graphql import codes, gql, sign_up
from tests.support.partner import CONFLICTING, MERCH_SDL, WITHOUT_PRICE, WITHOUT_SKU

SUPERGRAPH = "{ supergraph { id publicSdl } }"


def _input(sdl: str, url: str | None = MERCH_URL, subgraph: str = "merch") -> dict:
    return {"i": {"subgraph": subgraph, "schema": sdl, "url": url}}


async def _usage(registry, coordinates: list[str], client: tuple[str, str] = ("shop-web", "1.4.2")) -> None:
    bucket = datetime.now(UTC).replace(second=0, microsecond=0).isoformat().replace("+00:00", "Z")
    report = {
        "operationHash": "ab" * 32,
        "operationName": "ArtistShop",
        "coordinates": coordinates,
        "client": {"name": client[0], "version": client[1]},
        "count": 3,
        "errors": 0,
        "bucket": bucket,
    }
    sent = await registry.client.post(
        "/usage", json={"reports": [report], "dropped": 0}, headers={"Authorization": "Bearer usage-token"}
    )
    assert sent.status_code == 202, sent.text


async def test_publish_then_checks_weigh_real_usage(registry):
    key = await registry.team("Merch Co", ["merch"], ["registry:check", "registry:publish"])
    published = await registry.gql(PUBLISH, _input(MERCH_SDL), key)
    assert "errors" not in published, published
    result = published["data"]["publishSchema"]
    assert result["passed"] and result["version"]["id"] and result["supergraph"]["id"]
    public = (await registry.gql(SUPERGRAPH, key=key))["data"]["supergraph"]["publicSdl"]
    assert "merchItems: [MerchItem!]!" in public

    await _usage(registry, ["Query.artist", "Artist.merchItems", "MerchItem.name", "MerchItem.price"])
    used = (await registry.gql(CHECK, _input(WITHOUT_PRICE), key))["data"]["checkSchema"]
    assert not used["passed"]
    breaking = [f for f in used["check"]["findings"] if f["kind"] == "breaking"]
    assert breaking[0]["coordinate"] == "MerchItem.price" and breaking[0]["severity"] == "error"
    assert breaking[0]["operations"][0]["name"] == "ArtistShop"
    assert breaking[0]["clients"][0] == {"name": "shop-web", "version": "1.4.2", "count": 3}
    assert "ArtistShop" in breaking[0]["message"] and "shop-web@1.4.2" in breaking[0]["message"]

    unused = (await registry.gql(CHECK, _input(WITHOUT_SKU), key))["data"]["checkSchema"]
    assert unused["passed"]
    warning = next(f for f in unused["check"]["findings"] if f["kind"] == "breaking")
    assert (warning["coordinate"], warning["severity"]) == ("MerchItem.sku", "warning")

    conflict = (await registry.gql(CHECK, _input(CONFLICTING), key))["data"]["checkSchema"]
    assert not conflict["passed"]
    errors = [f for f in conflict["check"]["findings"] if f["kind"] == "composition"]
    assert errors and any("Artist.name" in f["message"] for f in errors), errors

    stored = await registry.gql(
        "query($id: ID!) { check(id: $id) { passed findings { kind } } }", {"id": used["check"]["id"]}, key
    )
    assert stored["data"]["check"]["passed"] is False


async def test_a_failed_publish_changes_nothing(registry):
    key = await registry.team("Merch Co", ["merch"], ["registry:check", "registry:publish"])
    await registry.gql(PUBLISH, _input(MERCH_SDL), key)
    before = (await registry.gql(SUPERGRAPH, key=key))["data"]["supergraph"]["id"]
    refused = (await registry.gql(PUBLISH, _input(CONFLICTING), key))["data"]["publishSchema"]
    assert not refused["passed"] and refused["version"] is None and refused["supergraph"] is None
    assert (await registry.gql(SUPERGRAPH, key=key))["data"]["supergraph"]["id"] == before
    versions = await registry.gql('{ versions(subgraph: "merch") { id } }', key=key)
    assert len(versions["data"]["versions"]) == 1


async def test_ownership_scopes_and_authentication(registry):
    owner = await registry.team("Merch Co", ["merch"], ["registry:check", "registry:publish"])
    other = await registry.team("Tickets Inc", ["tickets-*"], ["registry:check", "registry:publish"])
    checker = await registry.team("Audit Ltd", ["audit"], ["registry:check"])
    await registry.gql(PUBLISH, _input(MERCH_SDL), owner)
    assert codes(await registry.gql(PUBLISH, _input(MERCH_SDL), other)) == ["FORBIDDEN"]
    assert codes(await registry.gql(CHECK, _input(MERCH_SDL, subgraph="tickets"), other)) == ["FORBIDDEN"]
    assert "errors" not in await registry.gql(
        CHECK, _input(MERCH_SDL.replace("merchItems", "ticketItems"), subgraph="tickets-eu"), other
    )
    assert codes(await registry.gql(PUBLISH, _input(MERCH_SDL, subgraph="audit"), checker)) == ["FORBIDDEN"]
    assert codes(await registry.gql(DELETE, {"n": "merch"}, other)) == ["FORBIDDEN"]
    assert codes(await registry.gql(DELETE, {"n": "accounts"}, owner)) == ["FORBIDDEN"]
    assert codes(await registry.gql(PUBLISH, _input(MERCH_SDL))) == ["UNAUTHENTICATED"]
    assert codes(await registry.gql(PUBLISH, _input(MERCH_SDL), "sak_forged_credential")) == [
        "UNAUTHENTICATED"
    ]
    assert codes(await registry.gql("{ teams { id } }", key=owner)) == ["FORBIDDEN"]
    outsider = await sign_up(registry.accounts, tenant_name="Some Label")
    unrelated_key = await api_key(registry.accounts, outsider["token"], ["accounts:read"])
    assert codes(await registry.gql("{ subgraphs { name } }", key=unrelated_key)) == ["FORBIDDEN"]
    bad_name = await registry.gql(CHECK, _input(MERCH_SDL, subgraph="Merch Shop"), owner)
    assert codes(bad_name) == ["BAD_USER_INPUT"]


async def test_delete_history_diff_and_supergraph_etag(registry):
    key = await registry.team("Merch Co", ["merch"], ["registry:check", "registry:publish"])
    first = (await registry.gql(PUBLISH, _input(MERCH_SDL), key))["data"]["publishSchema"]["version"]["id"]
    second = (await registry.gql(PUBLISH, _input(WITHOUT_SKU), key))["data"]["publishSchema"]["version"]["id"]
    history = await registry.gql('{ versions(subgraph: "merch") { id } }', key=key)
    assert [v["id"] for v in history["data"]["versions"]] == [second, first]
    diff = await registry.gql(
        "query($a: ID!, $b: ID!) { diff(fromVersion: $a, toVersion: $b) { text changes { kind coordinate } } }",
        {"a": first, "b": second},
        key,
    )
    assert "-  sku: String!" in diff["data"]["diff"]["text"]
    assert {"kind": "breaking", "coordinate": "MerchItem.sku"} in diff["data"]["diff"]["changes"]

    router = {"Authorization": "Bearer usage-token"}
    for refused in ({}, {"Authorization": f"Bearer {key}"}, {"Authorization": "Bearer usage-tokenX"}):
        assert (await registry.client.get("/supergraph.graphql", headers=refused)).status_code == 401
    served = await registry.client.get("/supergraph.graphql", headers=router)
    assert served.status_code == 200 and "MerchItem" in served.text
    again = await registry.client.get(
        "/supergraph.graphql", headers={**router, "If-None-Match": served.headers["etag"]}
    )
    assert again.status_code == 304

    deleted = (await registry.gql(DELETE, {"n": "merch"}, key))["data"]["deleteSubgraph"]
    assert deleted["passed"] and deleted["check"]["action"] == "delete"
    after = await registry.client.get(
        "/supergraph.graphql", headers={**router, "If-None-Match": served.headers["etag"]}
    )
    assert after.status_code == 200 and "MerchItem" not in after.text


async def test_usage_reports_need_the_token_and_a_valid_body(registry):
    assert (await registry.client.post("/usage", json={"reports": []})).status_code == 401
    wrong = await registry.client.post(
        "/usage", json={"reports": []}, headers={"Authorization": "Bearer nope"}
    )
    assert wrong.status_code == 401
    bad = await registry.client.post(
        "/usage",
        json={"reports": [{"coordinates": ["A.b"]}]},
        headers={"Authorization": "Bearer usage-token"},
    )
    assert bad.status_code == 400 and bad.json()["error"] == "BAD_USER_INPUT"


async def test_lint_findings_name_the_coordinate(registry):
    key = await registry.team("Merch Co", ["merch"], ["registry:check"])
    sloppy = MERCH_SDL.replace("merchCatalogueSize", "merch_catalogue_size").replace(
        '"""What it is."""\n', ""
    )
    found = (await registry.gql(CHECK, _input(sloppy), key))["data"]["checkSchema"]["check"]["findings"]
    lint = {(f["coordinate"], f["message"].split("]")[0] + "]") for f in found if f["kind"] == "lint"}
    assert ("Query.merch_catalogue_size", "[field-name]") in lint
    assert ("MerchItem.name", "[description]") in lint


async def test_usage_from_several_batches_adds_up(registry):
    key = await registry.team("Merch Co", ["merch"], ["registry:check"])
    for _ in range(2):
        await _usage(registry, ["Query.artist", "Artist.merchItems"])
    await _usage(registry, ["Query.artist"], client=("shop-ios", "2.0"))
    usage = (await registry.gql("{ fieldUsage { coordinate count } }", key=key))["data"]["fieldUsage"]
    assert {row["coordinate"]: row["count"] for row in usage} == {"Query.artist": 9, "Artist.merchItems": 6}


TOUR_SDL = '''extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])

"""An artist (from the catalogue)."""
type Artist @key(fields: "id") {
  id: ID!
  """Cities of the next tour."""
  tourCities: [String!]!
}

type Query {
  """How many tours are planned."""
  plannedTours: Int!
}
'''


async def test_two_registry_replicas_publishing_at_once_both_land(registry, database, monkeypatch):
    """Both replicas compose from the same supergraph; the one that commits second finds its
    base taken, composes again on top of the first, and commits. Nothing is lost."""
    merch_key = await registry.team("Merch Co", ["merch"], ["registry:publish"])
    tour_key = await registry.team("Tour Co", ["tour"], ["registry:publish"])
    compose = checks.composition
    both_composing = threading.Barrier(2, timeout=30)
    calls = itertools.count()

    def composition_after_both_read(members):
        if next(calls) < 2:
            both_composing.wait()  # neither writes before the other has read the old state
        return compose(members)

    monkeypatch.setattr(checks, "composition", composition_after_both_read)
    replica = create_registry_app(registry.settings, database)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=replica), base_url="http://b.test"
    ) as other:
        merch, tour = await asyncio.gather(
            registry.gql(PUBLISH, _input(MERCH_SDL), merch_key),
            gql(other, PUBLISH, _input(TOUR_SDL, subgraph="tour"), token=tour_key),
        )
    assert merch["data"]["publishSchema"]["passed"], merch
    assert tour["data"]["publishSchema"]["passed"], tour
    assert next(calls) == 3  # compositions so far: the two first ones and the loser's second

    public = (await registry.gql(SUPERGRAPH, key=merch_key))["data"]["supergraph"]["publicSdl"]
    assert "merchItems: [MerchItem!]!" in public and "tourCities: [String!]!" in public
    async with database.read() as session:
        versions = (await session.execute(select(SupergraphVersion))).scalars().all()
    previous = [version.previous_id for version in versions]
    assert len(set(previous)) == len(previous)  # one line of history, no fork
    assert {version.id for version in versions} - set(previous) == {
        (await registry.gql(SUPERGRAPH, key=merch_key))["data"]["supergraph"]["id"]
    }


async def test_the_page_asks_for_a_registry_key(registry):
    key = await registry.team("Merch Co", ["merch"], ["registry:check"])
    owner = await sign_up(registry.accounts, tenant_name="Not A Team")
    unscoped = await api_key(registry.accounts, owner["token"], ["accounts:read"])

    def basic(secret: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"anyone:{secret}".encode()).decode()}

    asked = await registry.client.get("/")
    assert asked.status_code == 401 and asked.headers["www-authenticate"].startswith("Basic ")
    assert (await registry.client.get("/", headers=basic("sak_nope_nope"))).status_code == 401
    assert (await registry.client.get("/", headers=basic(unscoped))).status_code == 403
    shown = await registry.client.get("/", headers=basic(key))
    assert shown.status_code == 200 and "<title>Schema registry</title>" in shown.text
    assert (await registry.client.get("/", headers={"Authorization": f"Bearer {key}"})).status_code == 200
