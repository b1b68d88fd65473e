"""The spotify subgraph on big lists: the 500-track playlist (cold and warm cache, with
upstream counts) and 1,000 tracks via `_entities` against bare graphql-core resolving the
same selection over the same objects in memory."""

import asyncio
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLField,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    graphql,
)

from gateway.migrate import upgrade
from shared.auth.principal import Principal
from shared.config import Settings
from shared.context import RequestContext
from shared.db import Database
from shared.heap import settle_after_startup
from shared.redis import EmbeddedRedis
from subgraphs.spotify.app import subgraph as spotify
from subgraphs.spotify.catalogue.offline import load_sample, seed_catalogue
from subgraphs.spotify.schema import create_schema
from tests.bench.timing import compare_cpu

PLAYLIST = """query($id: ID!) { playlist(id: $id) { name
  tracks(first: 500) { edges { node { name artists { name } album { name } } } } } }"""
ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Track { id name durationMs explicit popularity trackNumber discNumber isrc uri } } }"""
FIELDS = ("id", "name", "duration_ms", "explicit", "popularity", "track_number", "disc_number", "uri")


def _bare_schema(tracks: list[dict]) -> GraphQLSchema:
    track = GraphQLObjectType(
        "Track",
        {
            "id": GraphQLField(GraphQLNonNull(GraphQLString)),
            "name": GraphQLField(GraphQLNonNull(GraphQLString)),
            "durationMs": GraphQLField(GraphQLNonNull(GraphQLInt), resolve=lambda t, _: t["duration_ms"]),
            "explicit": GraphQLField(GraphQLNonNull(GraphQLBoolean)),
            "popularity": GraphQLField(GraphQLNonNull(GraphQLInt)),
            "trackNumber": GraphQLField(GraphQLNonNull(GraphQLInt), resolve=lambda t, _: t["track_number"]),
            "discNumber": GraphQLField(GraphQLNonNull(GraphQLInt), resolve=lambda t, _: t["disc_number"]),
            "isrc": GraphQLField(GraphQLString, resolve=lambda t, _: t["external_ids"].get("isrc")),
            "uri": GraphQLField(GraphQLNonNull(GraphQLString)),
        },
    )
    query = GraphQLObjectType(
        "Query", {"tracks": GraphQLField(GraphQLList(track), resolve=lambda *_: tracks)}
    )
    return GraphQLSchema(query)


async def run() -> None:
    logging.getLogger().setLevel(logging.WARNING)
    directory = Path(tempfile.mkdtemp())
    settings = Settings(
        env="test", data_dir=directory, database_url=f"sqlite+aiosqlite:///{directory / 'b.db'}"
    )
    await asyncio.to_thread(upgrade, settings.resolved_database_url)
    database = Database(settings.resolved_database_url)
    await seed_catalogue(database)
    redis = EmbeddedRedis().start()
    runtime = spotify.runtime(settings, redis.url, database)
    await runtime.policies.load_tenant_policies(database.engine)
    schema = create_schema(settings)
    settle_after_startup()  # as our servers do once started
    principal = Principal(
        kind="user", user_id="usr_b", tenant_id="tnt_b", roles=("owner",), scopes=frozenset({"*"})
    )
    sample = load_sample()
    playlist = next(p for p in sample["playlists"] if len(p["track_ids"]) == 500)
    catalogue: Any = runtime.services.catalogue  # the offline catalogue counts its calls

    async def run_query(query: str, variables: dict) -> None:
        result = await schema.execute(
            query,
            variable_values=variables,
            context_value=RequestContext(runtime=runtime, principal=principal),
        )
        assert result.errors is None, result.errors[:1]

    try:
        for label in ("cold", "warm"):
            catalogue.calls.clear()
            started = time.perf_counter()
            await run_query(PLAYLIST, {"id": playlist["id"]})
            wall = (time.perf_counter() - started) * 1000
            print(
                f"500-track playlist, {label} cache: {wall:.0f} ms wall, upstream calls {dict(catalogue.calls)}"
            )

        tracks = sample["tracks"][:1000]
        representations = [{"__typename": "Track", "id": t["id"]} for t in tracks]
        await run_query(ENTITIES, {"r": [dict(r) for r in representations]})  # warm the cache
        bare = _bare_schema(tracks)
        bare_query = "{ tracks { id name durationMs explicit popularity trackNumber discNumber isrc uri } }"
        cpu = await compare_cpu(
            lambda: run_query(ENTITIES, {"r": [dict(r) for r in representations]}),
            lambda: graphql(bare, bare_query),
            warmup=2,
            rounds=5,
            per_round=3,
        )
        print(
            f"1,000 tracks: spotify subgraph {cpu.subject * 1000:.1f} ms CPU (warm Redis cache, Casbin, loaders), "
            f"bare graphql-core {cpu.baseline * 1000:.1f} ms, ratio {cpu.ratio:.2f}x (target <= 2x)"
        )
    finally:
        await runtime.close()
        redis.stop()
