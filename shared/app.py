"""The ASGI app of one subgraph: /graphql (HTTP and graphql-transport-ws), /healthz, /readyz."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from shared import tracing
from shared.context import RequestContext
from shared.errors import TRANSIENT_ERRORS, DomainError, Unavailable
from shared.limits import BodyLimit
from shared.metrics import metrics_endpoint, platform_gauges
from shared.permissions.watcher import watch_policies
from shared.runtime import SubgraphRuntime
from shared.telemetry import request_trace_id, start_request_trace

log = logging.getLogger("shared.app")


def client_address(request: Any) -> str | None:
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded:
        return str(forwarded.split(",")[0].strip())
    return request.client.host if request.client else None


def _authorization_from_params(params: dict[str, Any]) -> str | None:
    for key in ("Authorization", "authorization"):
        value = params.get(key)
        if isinstance(value, str):
            return value
    headers = params.get("headers")
    if isinstance(headers, dict):
        return _authorization_from_params(headers)
    return None


class SubgraphGraphQL(GraphQL[RequestContext, None]):
    def __init__(self, runtime: SubgraphRuntime, schema: Any) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if runtime.settings.is_dev else None,
            allow_queries_via_get=False,
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
        )
        self.runtime = runtime
        # The router carries every subscription of one token over one upstream socket.
        self.max_subscriptions_per_connection = runtime.settings.max_subscriptions_per_connection

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    def encode_json(self, data: object) -> str:
        # A str, not bytes: Strawberry sends bytes over WebSockets as binary frames, which
        # graphql-transport-ws clients do not expect.
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode()

    async def get_context(self, request: Any, response: Any = None) -> RequestContext:  # type: ignore[override]
        context = RequestContext(runtime=self.runtime, request=request, response=response)
        start_request_trace(request.headers)
        if request.scope["type"] == "websocket":
            return context  # authenticated in on_ws_connect from connection_init
        try:
            context.principal = await self.runtime.authenticator.authenticate(
                request.headers.get("authorization"), client_address(request)
            )
        except DomainError as error:
            context.auth_error = error
        except TRANSIENT_ERRORS as error:
            log.warning("authentication backend unavailable", extra={"error": type(error).__name__})
            context.auth_error = Unavailable("Service temporarily unavailable; retry shortly.")
        return context

    async def process_result(self, request: Any, result: Any) -> Any:
        processed = await super().process_result(request, result)
        errors: list[dict[str, Any]] = processed.get("errors") or []  # type: ignore[assignment]
        for error in errors:
            extensions = error.setdefault("extensions", {})
            if "code" not in extensions and "path" not in error:
                # Raised before execution (parse, token limit): the document was bad.
                extensions["code"] = "BAD_USER_INPUT"
            elif "code" not in extensions:
                trace_id = request_trace_id()
                log.error(
                    "error without a code",
                    extra={"trace_id": trace_id, "error_message": error.get("message")},
                )
                error["message"] = "Internal server error."
                extensions.update(code="INTERNAL", traceId=trace_id)
        return processed

    async def on_ws_connect(self, context: RequestContext) -> Any:  # type: ignore[override]
        params = context.connection_params or {}
        authorization = _authorization_from_params(params)
        if not authorization:
            # Subscriptions are per user: a socket without credentials is refused outright.
            raise ConnectionRejectionError(
                {"code": "UNAUTHENTICATED", "message": "connection_init needs Authorization"}
            )
        try:
            context.principal = await self.runtime.authenticator.authenticate(
                authorization, client_address(context.request)
            )
        except DomainError as error:
            raise ConnectionRejectionError({"code": error.code.value, "message": error.message}) from error
        except TRANSIENT_ERRORS as error:
            raise ConnectionRejectionError(
                {"code": "UNAVAILABLE", "message": "Service temporarily unavailable; retry shortly."}
            ) from error
        return None


async def _healthz(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def _readyz(runtime: SubgraphRuntime) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def readyz(_: Request) -> JSONResponse:
        checks: dict[str, str] = {}
        for name, probe in (("database", runtime.db.ping()), ("redis", runtime.redis.ping())):
            try:
                await asyncio.wait_for(probe, timeout=2)
                checks[name] = "ok"
            except Exception as exc:
                checks[name] = f"unavailable: {type(exc).__name__}"
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    return readyz


def create_subgraph_app(
    runtime: SubgraphRuntime,
    schema: Any,
    *,
    extra_routes: Sequence[BaseRoute] = (),
    on_startup: Sequence[Callable[[], Awaitable[None]]] = (),
    close_runtime: bool = True,
) -> Starlette:
    graphql = SubgraphGraphQL(runtime, schema)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await runtime.policies.load_tenant_policies(runtime.db.engine)
        for hook in on_startup:
            await hook()
        watcher = asyncio.create_task(watch_policies(runtime.policies, runtime.redis, runtime.db.engine))
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            if close_runtime:
                await runtime.close()

    routes: list[BaseRoute] = [
        # GraphQL bodies only: the storage file routes take uploads far above the limit.
        Route("/graphql", BodyLimit(graphql, runtime.settings.max_body_bytes), methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", _healthz),
        Route("/metrics", metrics_endpoint(platform_gauges(runtime.redis))),
        Route("/readyz", _readyz(runtime)),
        *extra_routes,
    ]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=tracing.middleware())
    app.state.runtime = runtime
    return app
