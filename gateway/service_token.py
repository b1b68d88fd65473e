"""`spotify-agent service-token`: a service token for an operator (a reindex by hand, a
debugging session), minted from the platform's key ring like the subgraphs mint theirs."""

from __future__ import annotations

from typing import Annotated

import typer

from shared.auth.service_identity import MAX_TTL_SECONDS
from shared.auth.service_tokens import DEFAULT_TTL_SECONDS, issue_service_token


def service_token(
    service: Annotated[str, typer.Option(help="The calling subgraph, e.g. search")],
    scope: Annotated[list[str], typer.Option(help="A scope it needs, e.g. spotify:read (repeatable)")],
    tenant: Annotated[
        str | None, typer.Option(help="The tenant it acts for; omit for non-tenant data only")
    ] = None,
    ttl: Annotated[int, typer.Option(help=f"Lifetime in seconds (at most {MAX_TTL_SECONDS})")] = (
        DEFAULT_TTL_SECONDS
    ),
    header: Annotated[bool, typer.Option("--header", help="Print the whole Authorization header")] = False,
) -> None:
    """Print a short-lived service token (typ service, subject service:<name>)."""
    from shared.auth.keys import load_signing_keys
    from shared.config import get_settings

    settings = get_settings()
    try:
        token = issue_service_token(
            load_signing_keys(settings)[0],
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            service=service,
            scopes=scope,
            tenant_id=tenant,
            ttl_seconds=ttl,
        )
    except ValueError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from error
    typer.echo(f"Authorization: Bearer {token}" if header else token)
