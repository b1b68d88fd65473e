"""Check latency of the schema registry on a 10-subgraph supergraph: the platform's four
subgraphs and six partner ones, then a candidate change checked against all of them
(composition in Node, API diff, usage lookup, lint), several times."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from gateway.host import definitions
from gateway.migrate import upgrade
from gateway.registry.bootstrap import publish_platform
from gateway.registry.service import Registry
from gateway.subgraphs import SUBGRAPHS
from shared.config import Settings
from shared.db import Database

PARTNERS = ("merch", "tickets", "tours", "fanclub", "lyrics", "radio")
ROUNDS = 5


def partner_sdl(name: str, extra_field: str = "") -> str:
    type_name = name.title().replace("-", "")
    return f'''schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"]) {{ query: Query }}

"""An artist (from the catalogue)."""
type Artist @key(fields: "id") {{
  id: ID!
  """{type_name} of the artist."""
  {name}Items: [{type_name}Item!]!
}}

"""One {name} item."""
type {type_name}Item {{
  """Its name."""
  name: String!
  """What it costs."""
  price: Float!{extra_field}
}}

type Query {{
  """How many {name} items exist."""
  {name}Count: Int!
}}
'''


async def run() -> None:
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'registry.db'}"
        settings = Settings(env="test", data_dir=Path(directory), database_url=url)
        await asyncio.to_thread(upgrade, url)
        database = Database(url)
        try:
            registry = Registry(database, settings)
            await publish_platform(registry, definitions(settings, SUBGRAPHS))
            partner = await registry.create_team("Partners", "tenant-partners")
            for name in PARTNERS:
                await registry.grant(partner.id, name)
                result = await registry.publish(
                    partner, name, partner_sdl(name), f"http://127.0.0.1:9/{name}"
                )
                assert result.passed, result.check.findings
            members = len(await registry.subgraphs())
            timings = []
            candidate = partner_sdl("merch", '\n  """Stock keeping unit."""\n  sku: String')
            for _ in range(ROUNDS):
                started = time.perf_counter()
                result = await registry.check(partner, "merch", candidate, None)
                timings.append(time.perf_counter() - started)
            assert result.passed
            print(
                f"check latency, {members}-subgraph supergraph: p50 {statistics.median(timings) * 1000:.0f} ms, "
                f"max {max(timings) * 1000:.0f} ms over {ROUNDS} checks (composition runs in a long-lived Node worker; the first check starts it)"
            )
        finally:
            await database.dispose()
