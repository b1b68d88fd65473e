"""A platform service's GraphQL client: POSTs to the endpoint serving a subgraph's fields
(the router, or that subgraph) with the headers of a service token acting for a tenant. Used
by jobs in the worker (ai's grounding reads, analytics' report uploads)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx

from shared.errors import Unavailable


class GraphClient:
    """POSTs GraphQL to the endpoint serving a subgraph's fields, with the headers of a service
    token acting for the tenant (`headers(tenant_id)`)."""

    def __init__(
        self,
        url_for: Callable[[str], str],
        headers: Callable[[str], Mapping[str, str]],
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.url_for = url_for
        self.headers = headers
        self.http = http or httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0))

    async def query(
        self, tenant_id: str, subgraph: str, query: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        try:
            response = await self.http.post(
                self.url_for(subgraph),
                json={"query": query, "variables": variables},
                headers=dict(self.headers(tenant_id)),
            )
        except httpx.HTTPError as error:
            raise Unavailable(f"The platform's graph did not answer ({type(error).__name__})") from error
        if response.status_code != 200:
            raise Unavailable(f"The platform's graph answered HTTP {response.status_code}")
        body: dict[str, Any] = response.json()
        errors = body.get("errors") or []
        if errors and not body.get("data"):
            codes = sorted({str((error.get("extensions") or {}).get("code", "INTERNAL")) for error in errors})
            raise Unavailable(
                f"The platform's graph refused the query ({', '.join(codes)})"
            )  # DEBUG {errors}
        return body.get("data") or {}

    async def aclose(self) -> None:
        await self.http.aclose()
