"""The accounts subgraph, declared: it signs tokens, publishes the JWKS and resolves API keys."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from shared.auth.keys import jwks
from shared.runtime import SubgraphRuntime
from shared.subgraph import Subgraph
from subgraphs.accounts import tasks
from subgraphs.accounts.config import AccountsServices, AccountsSettings
from subgraphs.accounts.schema import create_schema
from subgraphs.accounts.service.api_keys import ApiKeyAuthenticator
from subgraphs.accounts.spotify_accounts.tokens import internal_token_endpoint


def _routes(runtime: SubgraphRuntime[AccountsSettings, AccountsServices]) -> Sequence[BaseRoute]:
    document = jwks(runtime.key_ring)

    async def jwks_endpoint(_: Request) -> JSONResponse:
        return JSONResponse(document, headers={"Cache-Control": "public, max-age=300"})

    return [
        Route("/.well-known/jwks.json", jwks_endpoint),
        Route("/internal/spotify-token", internal_token_endpoint(runtime), methods=["POST"]),
    ]


subgraph: Subgraph[AccountsSettings, AccountsServices] = Subgraph(
    name="accounts",
    schema=create_schema,
    settings=AccountsSettings,
    services=lambda _: AccountsServices(),
    policy=Path(__file__).with_name("policy.csv"),
    jobs=tasks.FUNCTIONS,
    cron=tasks.CRON_JOBS,
    routes=_routes,
    signs_tokens=True,
    api_keys=ApiKeyAuthenticator,
)
