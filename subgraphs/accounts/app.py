"""Builds the accounts subgraph's ASGI app. Accounts signs tokens and publishes the JWKS."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shared.app import create_subgraph_app
from shared.auth.keys import jwks
from shared.config import Settings
from shared.db import Database
from shared.runtime import SubgraphRuntime, build_runtime
from subgraphs.accounts.api_keys import ApiKeyAuthenticator
from subgraphs.accounts.schema import create_schema
from subgraphs.accounts.spotify_tokens import internal_token_endpoint

NAME = "accounts"
POLICY_FILE = Path(__file__).with_name("policy.csv")


def create_runtime(settings: Settings, redis_url: str, database: Database | None = None) -> SubgraphRuntime:
    database = database or Database(settings.resolved_database_url)
    return build_runtime(
        NAME,
        settings,
        policy_files=[POLICY_FILE],
        redis_url=redis_url,
        database=database,
        api_keys=ApiKeyAuthenticator(database),
        signs_tokens=True,
    )


def create_app(runtime: SubgraphRuntime, *, close_runtime: bool = True) -> Starlette:
    assert runtime.signing_key is not None
    document = jwks(runtime.key_ring)

    async def jwks_endpoint(_: Request) -> JSONResponse:
        return JSONResponse(document, headers={"Cache-Control": "public, max-age=300"})

    return create_subgraph_app(
        runtime,
        create_schema(runtime.settings),
        extra_routes=[
            Route("/.well-known/jwks.json", jwks_endpoint),
            Route("/internal/spotify-token", internal_token_endpoint(runtime), methods=["POST"]),
        ],
        close_runtime=close_runtime,
    )
