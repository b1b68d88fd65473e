"""`spotify-agent dev`: migrate, seed, then run the subgraphs (the host's own processes, one
per core), the registry (which our own subgraphs are published through), the worker, and the
router polling the registry."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import uvicorn

from gateway.host import definitions
from gateway.host_process import HostProcess
from gateway.mailbox import start_dev_mailbox
from gateway.migrate import upgrade
from gateway.registry.app import create_registry_app, router_token
from gateway.registry.bootstrap import publish_platform
from gateway.router_process import RouterProcess
from gateway.seed import demo_tenant_id, seed_audience, seed_catalogue, seed_claims, seed_demo
from gateway.serving import server as settled_server
from gateway.subgraphs import SUBGRAPHS
from gateway.worker import create_worker
from shared.config import Settings

log = logging.getLogger("gateway.dev")


def _server(app: Any, settings: Settings, port: int) -> uvicorn.Server:
    return settled_server(
        app,
        host=settings.host,
        port=port,
        loop="none",
        http="httptools",
        ws="websockets-sansio",
        lifespan="on",
    )


async def _started(server: uvicorn.Server) -> asyncio.Task[None] | None:
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            return None
        await asyncio.sleep(0.05)
    return serving


def router_for_registry(settings: Settings) -> RouterProcess:
    """The router polls the registry's supergraph and reports usage back to it."""
    registry = settings.registry_base_url
    token = router_token(settings)
    return RouterProcess(
        f"{registry}/supergraph.graphql",
        port=settings.router_port,
        host=settings.host,
        log_path=settings.data_dir / "router.log",
        env={
            "SUPERGRAPH_TOKEN": token,
            "USAGE_REPORT_URL": f"{registry}/usage",
            "USAGE_REPORT_TOKEN": token,
        },
    )


async def run_dev(settings: Settings, redis_url: str) -> int:
    await asyncio.to_thread(upgrade, settings.resolved_database_url)
    print(await seed_demo(settings, redis_url), flush=True)
    await seed_catalogue(settings, redis_url)
    started = time.perf_counter()
    if plays := await seed_audience(settings, redis_url):
        print(f"  sample audience: {plays:,} plays in {time.perf_counter() - started:.1f} s", flush=True)
    demo_tenant = await demo_tenant_id(settings) or ""
    if demo_tenant:
        await seed_claims(settings, demo_tenant)
    # In dev the demo tenant administers the registry (its `registry:write` keys) and the
    # platform (its admins promote models).
    if not settings.registry_admin_tenants:
        settings = settings.model_copy(update={"registry_admin_tenants": demo_tenant})
    if not settings.platform_admin_tenants:
        settings = settings.model_copy(update={"platform_admin_tenants": demo_tenant})

    registry_app = create_registry_app(settings)
    registry_server = _server(registry_app, settings, settings.registry_port)
    registry_serving = await _started(registry_server)
    if registry_serving is None:
        return 1
    for line in await publish_platform(registry_app.state.registry, definitions(settings, SUBGRAPHS)):
        print(f"  registry: {line}", flush=True)

    mailbox = await start_dev_mailbox(settings)  # None when SMTP_HOST points at a real server
    host = HostProcess(settings, redis_url, SUBGRAPHS)
    try:
        await host.astart()
    except RuntimeError as error:
        print(f"  {error}", flush=True)
        registry_server.should_exit = True
        await registry_serving
        if mailbox is not None:
            await mailbox.stop()
        return 1
    worker = create_worker(settings, redis_url)
    working = asyncio.create_task(worker.async_run())
    router = router_for_registry(settings)
    try:
        await router.astart()  # spawned from the main thread: it dies with this process
        print(
            f"\n  Spotify Agent API  http://{settings.host}:{settings.router_port}/graphql"
            "  (GraphiQL in a browser)\n"
            f"  subgraphs          {settings.subgraph_base_url}/<name>/graphql"
            f"  ({host.workers} processes)\n"
            f"  schema registry    {settings.registry_base_url}/  (API /graphql, /supergraph.graphql)\n"
            f"  router log         {settings.data_dir / 'router.log'}\n"
            + (f"  Mailbox (captured mail) {mailbox.web_url}\n" if mailbox else ""),
            flush=True,
        )
        # Until Ctrl-C (uvicorn handles the signal) ends the registry or the host ends.
        hosting = asyncio.create_task(host.exited())
        await asyncio.wait([hosting, registry_serving], return_when=asyncio.FIRST_COMPLETED)
        hosting.cancel()
    finally:
        router.stop()
        await asyncio.to_thread(host.stop)
        working.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await worker.close()
            await working
        if not registry_serving.done():
            registry_server.should_exit = True
            await registry_serving
        if mailbox is not None:
            await mailbox.stop()
    return 0
