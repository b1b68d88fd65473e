"""The registry service: its GraphQL API, the current supergraph for the router (with
ETag), the usage reports of the router, and a web page."""

from __future__ import annotations

import base64
import hmac
import logging
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL

from gateway.registry.api import READ_SCOPES, RegistryContext, schema
from gateway.registry.service import Registry
from gateway.registry.web import page
from shared.config import Settings
from shared.crypto import derive_key
from shared.db import Database
from shared.errors import DomainError, Unauthenticated
from shared.metrics import metrics_endpoint
from subgraphs.accounts.service.api_keys import ApiKeyAuthenticator

log = logging.getLogger("gateway.registry")
MAX_USAGE_BODY = 5 * 1024 * 1024


def router_token(settings: Settings) -> str:
    """What the router presents for the supergraph and its usage reports; derived from the key
    ring unless set."""
    return settings.registry_router_token or derive_key(settings, "registry-router").hex()


def _is_router(request: Request, expected: str) -> bool:
    given = (request.headers.get("authorization") or "").removeprefix("Bearer ").strip()
    return hmac.compare_digest(given, expected)


class RegistryGraphQL(GraphQL[RegistryContext, None]):
    def __init__(self, registry: Registry, api_keys: ApiKeyAuthenticator) -> None:
        super().__init__(schema, graphql_ide="graphiql" if registry.settings.is_dev else None)
        self.registry = registry
        self.api_keys = api_keys

    async def get_context(self, request: Any, response: Any = None) -> RegistryContext:  # type: ignore[override]
        context = RegistryContext(registry=self.registry, request=request, response=response)
        credential = (request.headers.get("authorization") or "").removeprefix("Bearer ").strip()
        if credential:
            try:
                if not credential.startswith("sak_"):
                    raise Unauthenticated("The registry takes team API keys (sak_…)")
                context.principal = await self.api_keys(credential)
            except DomainError as error:
                context.auth_error = error
        return context


def _supergraph(registry: Registry) -> Any:
    """The supergraph names every subgraph's internal URL and its @inaccessible parts: the
    router's token only (partner teams read it through the API with their key)."""
    expected = router_token(registry.settings)

    async def serve(request: Request) -> Response:
        if not _is_router(request, expected):
            return PlainTextResponse("UNAUTHENTICATED: the router's token is required", status_code=401)
        current = await registry.current_supergraph()
        if current is None:
            return PlainTextResponse("nothing published yet", status_code=404)
        etag = f'"{current.sdl_hash}"'
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]:
            return Response(status_code=304, headers=headers)
        return PlainTextResponse(current.sdl, headers=headers, media_type="text/plain; charset=utf-8")

    return serve


def _usage(registry: Registry) -> Any:
    expected = router_token(registry.settings)

    async def receive(request: Request) -> Response:
        if not _is_router(request, expected):
            return JSONResponse({"error": "UNAUTHENTICATED"}, status_code=401)
        body = await request.body()
        if len(body) > MAX_USAGE_BODY:
            return JSONResponse({"error": "BAD_USER_INPUT", "message": "batch too large"}, status_code=413)
        try:
            payload = await request.json()
            reports = list(payload.get("reports") or [])
            rows = await registry.record_usage(reports)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            return JSONResponse({"error": "BAD_USER_INPUT", "message": str(error)[:200]}, status_code=400)
        if payload.get("dropped"):
            log.warning("router dropped usage reports", extra={"dropped": payload["dropped"]})
        return JSONResponse({"accepted": len(reports), "rows": rows}, status_code=202)

    return receive


LOGIN = {"WWW-Authenticate": 'Basic realm="Spotify Agent schema registry", charset="UTF-8"'}


def _key_in(authorization: str) -> str | None:
    """A browser's Basic credentials (any user name, the API key as password), or Bearer."""
    scheme, _, credential = authorization.strip().partition(" ")
    if scheme.lower() == "bearer":
        return credential.strip() or None
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credential.strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2] or None


def _page(registry: Registry, api_keys: ApiKeyAuthenticator) -> Any:
    """What a registry key may read through the API, rendered: the browser asks for the key."""

    async def render(request: Request) -> Response:
        key = _key_in(request.headers.get("authorization") or "")
        if key is None:
            return PlainTextResponse("A registry API key is required (as the password).", 401, LOGIN)
        try:
            principal = await api_keys(key)
        except DomainError:
            return PlainTextResponse("That API key is unknown, revoked or expired.", 401, LOGIN)
        if not any(principal.has_scope(scope) for scope in READ_SCOPES):
            return PlainTextResponse("That API key has no registry scope.", 403)
        return Response(await page(registry), media_type="text/html; charset=utf-8")

    return render


async def _healthz(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def create_registry_app(settings: Settings, database: Database | None = None) -> Starlette:
    db = database or Database(settings.resolved_database_url)
    registry = Registry(db, settings)
    api_keys = ApiKeyAuthenticator(db)
    graphql = RegistryGraphQL(registry, api_keys)
    app = Starlette(
        routes=[
            Route("/", _page(registry, api_keys)),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/supergraph.graphql", _supergraph(registry)),
            Route("/usage", _usage(registry), methods=["POST"]),
            Route("/metrics", metrics_endpoint()),
            Route("/healthz", _healthz),
            Route("/readyz", _healthz),
        ]
    )
    app.state.registry = registry
    return app
