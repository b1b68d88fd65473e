"""`spotify-agent dev`: migrate, seed, compose, then run subgraphs, worker and router."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import uvicorn

from gateway.composition import write_supergraph
from gateway.host import build_runtimes, create_host_app, definitions
from gateway.migrate import upgrade
from gateway.router import RouterProcess
from gateway.seed import seed_catalogue, seed_demo
from gateway.subgraphs import SUBGRAPHS
from gateway.worker import create_worker
from shared.config import Settings

log = logging.getLogger("gateway.dev")


async def run_dev(settings: Settings, redis_url: str) -> int:
    await asyncio.to_thread(upgrade, settings.resolved_database_url)
    print(await seed_demo(settings, redis_url), flush=True)
    await seed_catalogue(settings)
    supergraph = settings.data_dir / "supergraph.graphql"
    write_supergraph(definitions(settings, SUBGRAPHS), supergraph)

    runtimes = build_runtimes(settings, redis_url, SUBGRAPHS)
    server = uvicorn.Server(
        uvicorn.Config(
            create_host_app(runtimes),
            host=settings.host,
            port=settings.subgraph_port,
            loop="none",
            http="httptools",
            ws="websockets-sansio",
            log_config=None,
            lifespan="on",
        )
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            return 1
        await asyncio.sleep(0.05)

    worker = create_worker(settings, redis_url)
    working = asyncio.create_task(worker.async_run())
    router = RouterProcess(
        str(supergraph),
        port=settings.router_port,
        host=settings.host,
        log_path=settings.data_dir / "router.log",
    )
    try:
        await asyncio.to_thread(router.start)
        print(
            f"\n  Spotify Agent API  http://{settings.host}:{settings.router_port}/graphql"
            "  (GraphiQL in a browser)\n"
            f"  subgraphs          {settings.subgraph_base_url}/<name>/graphql\n"
            f"  router log         {settings.data_dir / 'router.log'}\n",
            flush=True,
        )
        await serving  # until Ctrl-C (uvicorn handles the signal)
    finally:
        router.stop()
        working.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await worker.close()
            await working
        if not serving.done():
            server.should_exit = True
            await serving
    return 0
