"""The search subgraph: a synthetic 100k-track index built with the embedded engine (indexing
and embedding throughput, size on disk, memory), query latency in-process per mode against the
engine at its cheapest, `suggest` as one types, the `search` query over HTTP through the
subgraph and through the router, and the judged relevance table on the offline catalogue.

Honest baselines: for KEYWORD a bare tantivy search of the same words (parsed by tantivy over
the same five fields, top page, stored documents read; no typo or prefix terms, no access
filter, filters, facets or highlights); for SEMANTIC a bare numpy `matrix @ q` + argpartition
over the same 100k x 384 matrix. Every query runs the subject then its baseline, so a noisy
neighbour weighs on both; CPU ratios come from `compare_cpu` (alternating rounds).

The 100k tracks come from the offline catalogue's generator (`subgraphs/spotify/data/generate.py`)
run with successive seeds, projected as the spotify subgraph announces them. Only a sample is
embedded with the model (it runs at a few hundred texts/s here): every other track borrows the
embedding of a sampled track of the same genres, plus small seeded noise, normalised."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import shutil
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
import tantivy

from gateway.composition import write_supergraph
from gateway.host import definitions
from gateway.host_process import HostProcess
from gateway.router_process import RouterNotInstalledError
from shared.db import Database
from shared.embeddings import SentenceEncoder, sentence_encoder
from subgraphs.search.backends.base import (
    DEFAULT_SEMANTIC_RATIO,
    Document,
    Facet,
    Filters,
    Mode,
    Reader,
    SearchRequest,
)
from subgraphs.search.backends.embedded import FORMAT, TEXT_FIELDS, EmbeddedBackend, keyword_query
from subgraphs.search.documents import catalogue_documents
from subgraphs.search.matching import allowed_typos, words_of
from subgraphs.search.tasks import index_pending
from subgraphs.spotify.catalogue import projection
from subgraphs.spotify.data.generate import generate
from tests.bench.bench_request_path import router_on, rss_mb
from tests.bench.collab_platform import embedded_redis, migrated_sqlite, platform_settings
from tests.bench.timing import compare_cpu
from tests.search.conftest import project_sample_catalogue
from tests.search.relevance import (
    GENRE_QUERIES,
    JUDGED_QUERIES,
    MOOD_GENRES,
    NOTHING_QUERIES,
    QUERY_KINDS,
    cut_last_word,
    misspell,
    summarise,
)
from tests.support.databases import SqliteFactory
from tests.support.graphql import sign_up

TRACKS = 100_000
UPSERT_BATCH = 5_000
EMBEDDED_SAMPLE = 2_000
"""Tracks embedded by the model (~40-200 texts/s on these 2 cores, by what else runs)."""
ENCODE_BATCH = 64
NOISE_PER_DIMENSION = 0.02
"""Std-dev of the noise added to a borrowed embedding (cosine to its source ~0.93)."""
SEED = 20261202
PAGE = 21
"""What the service asks the backend for `first: 20`: one more, to know if a page follows."""
FACETS = (Facet.GENRE, Facet.YEAR, Facet.POPULARITY)
YEAR_FROM = 2015
FILTERS = Filters(year_from=YEAR_FROM)
READER = Reader("usr_bench", "tnt_bench", ())
MODES = (Mode.KEYWORD, Mode.SEMANTIC, Mode.HYBRID)
HOST_NAMES = ("accounts", "search")
HTTP_QUERIES = 100
"""Of the query mix, per mode, through the subgraph and through the router."""
ENCODE_ONE_QUERIES = 100
CPU_SLICE = 8
"""compare_cpu runs every CPU_SLICE-th query of the mix (every kind is in it)."""

Vectors = npt.NDArray[np.float32]


# Figures -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Latency:
    p50: float
    p95: float
    p99: float
    count: int
    """Milliseconds, over `count` samples."""

    def line(self) -> str:
        return f"p50 {self.p50:6.2f} ms  p95 {self.p95:6.2f} ms  p99 {self.p99:6.2f} ms  (n={self.count})"


def latency(seconds: Sequence[float]) -> Latency:
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return Latency(cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000, len(seconds))


def own_rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    kilobytes = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(kilobytes) / 1024


def index_sizes_mb(directory: Path) -> tuple[float, float]:
    """The tantivy files and the vectors' SQLite file (with its WAL), in MB."""
    tantivy_bytes = vector_bytes = 0
    for path in (directory / FORMAT).iterdir():
        if path.name.startswith("vectors"):
            vector_bytes += path.stat().st_size
        elif path.is_file():
            tantivy_bytes += path.stat().st_size
    return tantivy_bytes / 1e6, vector_bytes / 1e6


def target(value: float, limit: float) -> str:
    return f"target <= {limit:g} ms {'met' if value <= limit else 'NOT MET'}"


class Clock:
    """Seconds since the bench started, for progress lines."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def progress(self, text: str) -> None:
        print(f"  [{time.monotonic() - self.started:5.1f} s] {text}", flush=True)


# The synthetic catalogue -----------------------------------------------------------------------


def synthetic_tracks(count: int) -> list[Document]:
    """Tracks of the offline catalogue's generator, seed after seed, as search documents."""
    documents: list[Document] = []
    seed = SEED
    while len(documents) < count:
        generated = generate(seed)
        genres = {artist["id"]: artist.get("genres") or [] for artist in generated["artists"]}
        items: list[Mapping[str, Any]] = [
            projection.item("track", track, genres) for track in generated["tracks"]
        ]
        documents.extend(catalogue_documents("track", items))
        seed += 1
    documents = documents[:count]
    if len({doc.key for doc in documents}) != count:
        raise RuntimeError("the generator repeated a track id")
    return documents


def borrowed_vectors(
    documents: Sequence[Document], sampled: Sequence[int], sampled_vectors: Vectors, rng: random.Random
) -> Vectors:
    """One unit vector per document: its own for the sampled ones; for the others a sampled
    document's with the same genres (else the same first genre) plus noise, normalised."""
    by_genres: dict[tuple[str, ...], list[int]] = defaultdict(list)
    by_first_genre: dict[str, list[int]] = defaultdict(list)
    for row, index in enumerate(sampled):
        genres = documents[index].genres
        by_genres[genres].append(row)
        if genres:
            by_first_genre[genres[0]].append(row)
    own = {index: row for row, index in enumerate(sampled)}
    sources = np.empty(len(documents), dtype=np.int64)
    for index, doc in enumerate(documents):
        if index in own:
            sources[index] = own[index]
        else:
            rows = by_genres.get(doc.genres) or (by_first_genre.get(doc.genres[0]) if doc.genres else None)
            sources[index] = rng.choice(rows) if rows else rng.randrange(len(sampled))
    shape = (len(documents), sampled_vectors.shape[1])
    noise = np.random.default_rng(SEED).standard_normal(shape, dtype=np.float32) * NOISE_PER_DIMENSION
    noise[list(own)] = 0.0
    matrix = sampled_vectors[sources] + noise
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix.astype(np.float32)


@dataclass(frozen=True)
class Built:
    directory: Path
    documents: list[Document]
    matrix: Vectors


async def build_index(directory: Path, encoder: SentenceEncoder, clock: Clock) -> Built:
    rss_start = own_rss_mb()
    documents = synthetic_tracks(TRACKS)
    clock.progress(f"{len(documents):,} track documents generated")
    rng = random.Random(SEED)
    sampled = sorted(rng.sample(range(len(documents)), EMBEDDED_SAMPLE))
    texts = [documents[index].text() for index in sampled]
    started = time.perf_counter()
    await asyncio.to_thread(encoder.load)
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    sampled_vectors = await asyncio.to_thread(encoder.encode, texts, ENCODE_BATCH)
    encoding = time.perf_counter() - started
    print(
        f"embedding: model load {loaded:.1f} s; SentenceEncoder.encode of {len(texts):,} track texts "
        f"(batch {ENCODE_BATCH}): {len(texts) / encoding:,.0f} embeddings/s ({encoding:.1f} s)",
        flush=True,
    )
    matrix = borrowed_vectors(documents, sampled, sampled_vectors, rng)
    print(
        f"  the other {len(documents) - len(sampled):,} tracks borrow a sampled track's embedding "
        f"(same genres, else same first genre) + N(0, {NOISE_PER_DIMENSION}) noise per dimension, "
        "normalised: NOT the model's vectors for their text"
    )
    rss_before = own_rss_mb()
    writer = EmbeddedBackend(directory, writable=True)
    upsert_seconds = 0.0
    try:
        for start in range(0, len(documents), UPSERT_BATCH):
            batch = documents[start : start + UPSERT_BATCH]
            vectors = matrix[start : start + UPSERT_BATCH].tolist()  # what the indexer hands over
            started = time.perf_counter()
            await writer.upsert(batch, vectors)
            upsert_seconds += time.perf_counter() - started
            if (start // UPSERT_BATCH) % 5 == 4:
                clock.progress(f"indexed {start + len(batch):,}")
        started = time.perf_counter()
    finally:
        await writer.aclose()
    merging = time.perf_counter() - started
    rss_after = own_rss_mb()
    tantivy_mb, vectors_mb = index_sizes_mb(directory)
    print(
        f"indexing: {len(documents):,} documents with vectors in batches of {UPSERT_BATCH:,}: "
        f"{len(documents) / upsert_seconds:,.0f} documents/s ({upsert_seconds:.1f} s; tantivy + vector "
        f"writes, one commit per batch), then {merging:.1f} s waiting for segment merges"
    )
    print(
        f"on disk: {tantivy_mb + vectors_mb:.0f} MB (tantivy {tantivy_mb:.0f} MB, vectors SQLite {vectors_mb:.0f} MB; "
        f"raw float32 matrix {matrix.nbytes / 1e6:.0f} MB)"
    )
    print(
        f"RSS of this process: {rss_start:.0f} MB at start, {rss_before:.0f} MB before the build "
        f"(model + 100k documents + matrix in memory), {rss_after:.0f} MB after it "
        f"({rss_after - rss_before:+.0f} MB for writing)"
    )
    return Built(directory, documents, matrix)


# The query mix ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    text: str
    kind: str


def query_mix(documents: Sequence[Document], rng: random.Random) -> list[Query]:
    """Names as typed, misspelt, cut short, artist + title, genre and mood phrases, nonsense."""
    picks = rng.sample(list(documents), 400)
    queries: list[Query] = []
    for doc in picks[:50]:
        queries.append(Query(doc.name, "name"))
    for doc in picks[50:80]:
        queries.append(Query(doc.artists[0], "artist"))
    misspelt = [doc for doc in picks[80:] if any(allowed_typos(word) for word in words_of(doc.name).terms)]
    for doc in misspelt[:50]:
        queries.append(Query(misspell(doc.name, rng), "misspelling"))
    cut = [doc for doc in picks[200:] if len(doc.name.split()) >= 2 and len(doc.name.split()[-1]) >= 3]
    for doc in cut[:35]:
        queries.append(Query(cut_last_word(doc.name), "partial"))
    for doc in picks[300:330]:
        queries.append(Query(f"{doc.artists[0]} {doc.name}".lower(), "artist_title"))
    queries.extend(Query(text, "genre") for text in GENRE_QUERIES)
    queries.extend(Query(text, "mood") for text in MOOD_GENRES)
    queries.extend(Query(text, "nothing") for text in NOTHING_QUERIES)
    unique = list({query.text: query for query in queries}.values())
    rng.shuffle(unique)
    return unique


def suggest_prefixes(documents: Sequence[Document], rng: random.Random) -> list[str]:
    """Prefixes of 1 to 8 letters of 40 real names (track titles and artists), as typed."""
    names = [doc.name for doc in rng.sample(list(documents), 200) if len(doc.name) >= 8][:20]
    names += [doc.artists[0] for doc in rng.sample(list(documents), 200) if len(doc.artists[0]) >= 8][:20]
    return [name[:length] for name in names for length in range(1, 9)]


# In-process queries ----------------------------------------------------------------------------


class Bare:
    """The cheapest ways of answering the same questions over the same data."""

    def __init__(self, directory: Path, matrix: Vectors) -> None:
        self.index = tantivy.Index.open(str(directory / FORMAT))
        self.searcher: Any = self.index.searcher()
        self.matrix = matrix

    def keyword(self, text: str) -> None:
        """BM25 over the five text fields as tantivy parses the words; the top page read."""
        words = " ".join(words_of(text).terms)
        if not words:
            return
        parsed, _ = self.index.parse_query_lenient(words, list(TEXT_FIELDS))
        for _, address in self.searcher.search(parsed, PAGE).hits:
            self.searcher.doc(address)

    def keyword_with_typos(self, text: str) -> None:
        """The engine's own words query (exact, typo and prefix terms), nothing else."""
        words = words_of(text)
        if not words.terms:
            return
        for _, address in self.searcher.search(keyword_query(words), PAGE).hits:
            self.searcher.doc(address)

    def semantic(self, vector: Vectors) -> None:
        """The whole matrix scanned, the top page picked and ordered."""
        similarities = self.matrix @ vector
        top = np.argpartition(-similarities, PAGE)[:PAGE]
        top[np.argsort(-similarities[top])]

    def hybrid(self, text: str, vector: Vectors) -> None:
        self.keyword(text)
        self.semantic(vector)


def search_request(
    query: Query, mode: Mode, vector: Vectors, ratio: float | None = DEFAULT_SEMANTIC_RATIO
) -> SearchRequest:
    return SearchRequest(
        query.text,
        READER,
        filters=FILTERS,
        facets=FACETS,
        mode=mode,
        semantic_ratio=ratio,
        vector=None if mode is Mode.KEYWORD else vector.tolist(),
        limit=PAGE,
    )


async def in_process(built: Built, queries: list[Query], encoder: SentenceEncoder, clock: Clock) -> None:
    vectors = dict(zip([q.text for q in queries], encoder.encode([q.text for q in queries]), strict=True))
    encode_one: list[float] = []
    for query in queries[:ENCODE_ONE_QUERIES]:
        started = time.perf_counter()
        encoder.encode([query.text])
        encode_one.append(time.perf_counter() - started)
    print(f"encoding one query (SentenceEncoder.encode, uncached): {latency(encode_one).line()}")
    kinds = sorted({q.kind for q in queries}, key=lambda kind: [*QUERY_KINDS, "name", "artist"].index(kind))
    print(
        f"query mix: {len(queries)} queries ({', '.join(f'{sum(q.kind == k for q in queries)} {k}' for k in kinds)}); "
        f"facets {', '.join(f.name for f in FACETS)}; filter year >= {YEAR_FROM}; first 20; "
        "query vectors precomputed"
    )
    backend = EmbeddedBackend(built.directory)
    bare = Bare(built.directory, built.matrix)
    try:
        rss_before = own_rss_mb()
        started = time.perf_counter()
        await backend.search(search_request(queries[0], Mode.SEMANTIC, vectors[queries[0].text]))
        cold = time.perf_counter() - started
        print(
            f"a reader's first semantic search (loads the 100k vectors from SQLite): {cold * 1000:.0f} ms; "
            f"RSS {rss_before:.0f} -> {own_rss_mb():.0f} MB"
        )
        for query in queries[:20]:  # warm caches and page the index in
            for mode in MODES:
                await backend.search(search_request(query, mode, vectors[query.text]))

        baselines: dict[Mode, Callable[[Query], None]] = {
            Mode.KEYWORD: lambda q: bare.keyword(q.text),
            Mode.SEMANTIC: lambda q: bare.semantic(vectors[q.text]),
            Mode.HYBRID: lambda q: bare.hybrid(q.text, vectors[q.text]),
        }
        baseline_names = {
            Mode.KEYWORD: "bare tantivy BM25",
            Mode.SEMANTIC: "bare numpy matrix @ q + argpartition",
            Mode.HYBRID: "bare BM25 + bare numpy scan",
        }
        typo_terms: list[float] = []
        by_kind: dict[tuple[Mode, str], list[float]] = defaultdict(list)
        for mode in MODES:
            subject: list[float] = []
            baseline: list[float] = []
            for query in queries:
                request = search_request(query, mode, vectors[query.text])
                started = time.perf_counter()
                await backend.search(request)
                subject.append(time.perf_counter() - started)
                by_kind[(mode, query.kind)].append(subject[-1])
                started = time.perf_counter()
                baselines[mode](query)
                baseline.append(time.perf_counter() - started)
                if mode is Mode.KEYWORD:
                    started = time.perf_counter()
                    bare.keyword_with_typos(query.text)
                    typo_terms.append(time.perf_counter() - started)
            measured, cheapest = latency(subject), latency(baseline)
            print(f"  {mode.name:<8} engine   {measured.line()}")
            print(f"  {'':<8} baseline {cheapest.line()}  ({baseline_names[mode]})")
            if mode is Mode.KEYWORD:
                print(
                    f"  {'':<8} words    {latency(typo_terms).line()}  (the engine's exact+typo+prefix terms alone)"
                )
            print(
                f"  {'':<8} p50 ratio {measured.p50 / cheapest.p50:.1f}x, p95 ratio {measured.p95 / cheapest.p95:.1f}x",
                flush=True,
            )
        print("  p95 by kind of query (ms):")
        print("    " + f"{'':<13}" + "".join(f"{mode.name:>10}" for mode in MODES))
        for kind in kinds:
            cells = "".join(f"{latency(by_kind[(mode, kind)]).p95:10.2f}" for mode in MODES)
            print(f"    {kind:<13}{cells}")

        cpu_queries = queries[::CPU_SLICE]
        for mode in MODES:
            requests = [search_request(q, mode, vectors[q.text]) for q in cpu_queries]

            async def engine_pass(requests: list[SearchRequest] = requests) -> None:
                for request in requests:
                    await backend.search(request)

            async def baseline_pass(mode: Mode = mode) -> None:
                for query in cpu_queries:
                    baselines[mode](query)

            cpu = await compare_cpu(engine_pass, baseline_pass, warmup=0, rounds=3, per_round=1)
            print(
                f"  {mode.name:<8} CPU per query {cpu.subject * 1000 / len(cpu_queries):.2f} ms vs "
                f"{cpu.baseline * 1000 / len(cpu_queries):.2f} ms ({baseline_names[mode]}): {cpu.ratio:.1f}x "
                f"(compare_cpu, {len(cpu_queries)} queries a pass)",
                flush=True,
            )
        clock.progress("in-process queries done")
    finally:
        await backend.aclose()


async def suggestions(built: Built, prefixes: list[str]) -> None:
    backend = EmbeddedBackend(built.directory)
    try:
        for prefix in prefixes[:40]:
            await backend.suggest(prefix, READER, (), 8)
        samples: dict[int, list[float]] = defaultdict(list)
        for prefix in prefixes:
            started = time.perf_counter()
            await backend.suggest(prefix, READER, (), 8)
            samples[len(prefix)].append(time.perf_counter() - started)
        overall = latency([value for values in samples.values() for value in values])
        print(f"suggest (first 8, all types): {overall.line()}  {target(overall.p95, 15)}")
        by_length = "  ".join(
            f"{length}: {latency(values).p95:.1f}" for length, values in sorted(samples.items())
        )
        print(f"  p95 by prefix length, ms: {by_length}")
    finally:
        await backend.aclose()


# Over HTTP ---------------------------------------------------------------------------------------

SEARCH = """query Search($q: String!, $mode: SearchMode!, $f: SearchFilter, $facets: [SearchFacet!]) {
  search(query: $q, mode: $mode, first: 20, filters: $f, facets: $facets) {
    totalCount totalCountExact semanticHitCount keywordFallback
    facets { facet values { value count } }
    edges { node { score matchedBy highlights { field snippet }
      node { __typename ... on Track { id } } } } } }"""


def search_variables(query: Query, mode: Mode) -> dict[str, Any]:
    return {
        "q": query.text,
        "mode": mode.name,
        "f": {"yearFrom": YEAR_FROM},
        "facets": [facet.name for facet in FACETS],
    }


async def post_search(
    client: httpx.AsyncClient, url: str, token: str, query: Query, mode: Mode
) -> dict[str, Any]:
    response = await client.post(
        url,
        json={"query": SEARCH, "variables": search_variables(query, mode)},
        headers={"authorization": f"Bearer {token}"},
    )
    body: dict[str, Any] = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"search failed: {response.status_code} {str(body)[:300]}")
    return body


async def wait_until_semantic(client: httpx.AsyncClient, url: str, token: str, timeout: float = 180) -> float:
    """Seconds until the host's model answered a HYBRID search without falling back."""
    started = time.monotonic()
    probe = Query("late night city drive", "mood")
    while time.monotonic() - started < timeout:
        body = await post_search(client, url, token, probe, Mode.HYBRID)
        if not body["data"]["search"]["keywordFallback"]:
            return time.monotonic() - started
        await asyncio.sleep(0.5)
    raise RuntimeError("the search host's model did not load")


async def http_latencies(
    client: httpx.AsyncClient, url: str, token: str, queries: list[Query], label: str
) -> dict[Mode, Latency]:
    for query in queries[:20]:
        await post_search(client, url, token, query, Mode.HYBRID)
    found: dict[Mode, Latency] = {}
    for mode in MODES:
        samples: list[float] = []
        for query in queries:
            started = time.perf_counter()
            body = await post_search(client, url, token, query, mode)
            samples.append(time.perf_counter() - started)
            if mode is not Mode.KEYWORD and body["data"]["search"]["keywordFallback"]:
                raise RuntimeError(f"{mode.name} answered by keyword")
        found[mode] = latency(samples)
        print(f"  {label:<9} {mode.name:<8} {found[mode].line()}  {target(found[mode].p95, 50)}", flush=True)
    return found


async def over_http(root: Path, index: Path, queries: list[Query], clock: Clock) -> None:
    database_url = await migrated_sqlite(root)
    settings = platform_settings(root, database_url)
    asked = queries[:HTTP_QUERIES]
    async with AsyncExitStack() as stack:
        redis = await stack.enter_async_context(embedded_redis(root))
        host = await stack.enter_async_context(
            HostProcess(
                settings, redis.url, HOST_NAMES, workers=1, log_path=root / "host.log",
                env={"SEARCH_INDEX_DIR": str(index)},
            )
        )  # fmt: skip
        clock.progress(
            f"subgraph host up (accounts + search, one uvicorn worker, uvloop + httptools), RSS {rss_mb(host.pid):.0f} MB"
        )
        client = await stack.enter_async_context(httpx.AsyncClient(timeout=60))
        token = (await sign_up(client, path=f"{host.url}/accounts/graphql"))["token"]
        search_url = f"{host.url}/search/graphql"
        waited = await wait_until_semantic(client, search_url, token)
        clock.progress(f"the host's model answered after {waited:.1f} s more")
        for query in asked:  # each query's vector is then cached in Redis, as repeated searches are
            await post_search(client, search_url, token, query, Mode.HYBRID)
        print(
            f"one client, one request at a time, {len(asked)} queries per mode, query vectors cached in "
            "Redis (a query's first search adds one encode, see above):"
        )
        direct = await http_latencies(client, search_url, token, asked, "subgraph")
        print(f"  subgraph host RSS after the loads: {rss_mb(host.pid):.0f} MB")
        try:
            supergraph = root / "supergraph.graphql"
            await asyncio.to_thread(write_supergraph, definitions(settings, HOST_NAMES), supergraph)
            router = await stack.enter_async_context(router_on(supergraph, root, "search"))
        except (RouterNotInstalledError, RuntimeError) as error:
            print(f"  router: not measured ({error})")
            return
        routed = await http_latencies(client, f"{router.url}/graphql", token, asked, "router")
        added = "  ".join(f"{mode.name} {routed[mode].p50 - direct[mode].p50:+.2f}" for mode in MODES)
        print(f"  the router adds at p50 (ms): {added}")


# Relevance ---------------------------------------------------------------------------------------

RELEVANCE_MODES: tuple[tuple[str, Mode, float | None], ...] = (
    ("KEYWORD", Mode.KEYWORD, None),
    ("SEMANTIC", Mode.SEMANTIC, None),
    (f"HYBRID {DEFAULT_SEMANTIC_RATIO}", Mode.HYBRID, DEFAULT_SEMANTIC_RATIO),
    ("HYBRID RRF", Mode.HYBRID, None),
)


async def relevance(root: Path, encoder: SentenceEncoder, clock: Clock) -> None:
    directory = Path(tempfile.mkdtemp(prefix="relevance-", dir=root))
    factory = await asyncio.to_thread(SqliteFactory, directory)  # migrates a template database
    database = Database(factory.new())
    index = directory / "index"
    writer = EmbeddedBackend(index, writable=True)
    started = time.perf_counter()
    try:
        await project_sample_catalogue(database)
        indexed = 0
        while batch := await index_pending(database, writer, 1000, encoder):
            indexed += batch
    finally:
        await writer.aclose()
        await database.dispose()
    clock.progress(
        f"offline catalogue indexed with the model's embeddings: {indexed:,} documents in {time.perf_counter() - started:.1f} s"
    )
    queries = [judged.query for judged in JUDGED_QUERIES]
    vectors = dict(zip(queries, encoder.encode(queries), strict=True))
    backend = EmbeddedBackend(index)
    tables: dict[str, dict[str, dict[str, float]]] = {}
    try:
        for label, mode, ratio in RELEVANCE_MODES:
            ranked: dict[str, list[str]] = {}
            for query in queries:
                request = SearchRequest(
                    query, READER, mode=mode, semantic_ratio=ratio,
                    vector=None if mode is Mode.KEYWORD else vectors[query].tolist(),
                )  # fmt: skip
                ranked[query] = [hit.key for hit in (await backend.search(request)).hits]
            tables[label] = summarise(ranked)
    finally:
        await backend.aclose()
    print(f"relevance on the offline catalogue ({len(queries)} judged queries), NDCG@10 / recall@10:")
    print("    " + f"{'kind':<13}{'n':>3}" + "".join(f"{label:>15}" for label, _, _ in RELEVANCE_MODES))
    for kind in tables["KEYWORD"]:
        count = int(tables["KEYWORD"][kind]["queries"])
        cells = "".join(
            f"{tables[label][kind]['ndcg@10']:>8.3f}/{tables[label][kind]['recall@10']:.2f}"
            for label, _, _ in RELEVANCE_MODES
        )
        print(f"    {kind:<13}{count:>3}{cells}")


# The run -----------------------------------------------------------------------------------------


async def run() -> None:
    logging.getLogger().setLevel(logging.WARNING)
    clock = Clock()
    root = Path(tempfile.mkdtemp(prefix="bench-search-"))
    encoder = sentence_encoder()
    one, five, _ = os.getloadavg()
    print(f"load average at start {one:.2f} / {five:.2f} (1 / 5 min) on {os.cpu_count()} cores", flush=True)
    try:
        print(f"-- 1. a synthetic {TRACKS:,}-track index (embedded engine: tantivy + brute-force vectors)")
        built = await build_index(root / "index-100k", encoder, clock)
        rng = random.Random(SEED + 1)
        queries = query_mix(built.documents, rng)
        print("-- 2. query latency in-process, engine vs baseline (wall per query, interleaved)")
        await in_process(built, queries, encoder, clock)
        print("-- 3. suggest, prefixes of 1-8 letters of real names")
        await suggestions(built, suggest_prefixes(built.documents, rng))
        print("-- 4. the search query over HTTP: the subgraph host, then the router in front of it")
        await over_http(root / "http", built.directory, queries, clock)
        print("-- 5. relevance")
        await relevance(root, encoder, clock)
        clock.progress("done")
    finally:
        await asyncio.to_thread(shutil.rmtree, root, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(run())
