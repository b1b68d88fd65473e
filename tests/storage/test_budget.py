"""Reading N assets (metadata and signed URLs) costs one SQL statement for the batch and no
storage request at all, on either backend."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from tests.storage.conftest import PNG
from tests.support.counting import count_statements
from tests.support.graphql import sign_up

ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Asset { id kind size status url owner { id } } } }"""


@pytest.mark.budget
async def test_n_assets_one_statement_and_no_storage_calls(storage):
    owner = await sign_up(storage.accounts)
    ids = [(await storage.upload(owner["token"], PNG))["id"] for _ in range(12)]
    statements = {}
    for size in (1, 12):
        reps = [{"__typename": "Asset", "id": id} for id in ids[:size]]
        requests_before = storage.store.requests
        with count_statements(storage.runtime.db) as counter:
            body = await storage.gql(ENTITIES, {"r": reps}, owner["token"])
        assert "errors" not in body, body
        assert all(entity["url"] for entity in body["data"]["_entities"])
        assert storage.store.requests == requests_before  # URLs are signed locally
        statements[size] = counter.count
    assert statements[1] == statements[12] == 1


@pytest.mark.parametrize("storage", ["s3"], indirect=True)
async def test_every_s3_call_is_counted_in_upstream_metrics(storage):
    owner = await sign_up(storage.accounts)

    def answered() -> float:
        return sum(
            sample.value
            for family in REGISTRY.collect()
            if family.name == "upstream_requests"
            for sample in family.samples
            if sample.name.endswith("_total") and sample.labels["service"] == "s3"
        )

    sent_before, answered_before = storage.store.requests, answered()
    await storage.upload(owner["token"], PNG)
    sent = storage.store.requests - sent_before
    assert sent > 0 and answered() - answered_before == sent
