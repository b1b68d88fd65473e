"""API keys: list, create (the secret is shown once), revoke."""

from __future__ import annotations

from typing import Annotated

import strawberry

from shared.auth.principal import acting_user
from shared.mutations import unit_of_work
from shared.pagination import Connection, PageCursor, PageSize, check_first, connection, decode_cursor
from subgraphs.accounts.repository import ApiKeyRepository
from subgraphs.accounts.schema.inputs import (
    ApiKeyPayload,
    CreateApiKeyInput,
    CreateApiKeyPayload,
    RevokeApiKeyInput,
)
from subgraphs.accounts.service import api_keys
from subgraphs.accounts.types import AccountsInfo, ApiKey


@strawberry.type
class ApiKeyQuery:
    @strawberry.field(description="Your API keys (secrets are never shown again).")
    async def api_keys(
        self,
        info: AccountsInfo,
        first: PageSize = 50,
        after: PageCursor = None,
    ) -> Connection[ApiKey]:
        check_first(first)
        principal = info.context.principal
        tenant_id, user_id = acting_user(principal)
        repo = ApiKeyRepository(await info.context.session(), tenant_id)
        rows = await repo.for_user(user_id)
        cursor = decode_cursor(after)
        rows = [row for row in rows if cursor is None or row.id > cursor][: first + 1]
        return connection(rows, first, key=lambda row: row.id, node=ApiKey.from_row)


@strawberry.type
class ApiKeyMutation:
    @strawberry.mutation(description="Create an API key limited to scopes; the secret is shown once.")
    async def create_api_key(
        self,
        info: AccountsInfo,
        input: Annotated[
            CreateApiKeyInput, strawberry.argument(description="Name, scopes and lifetime of the key.")
        ],
    ) -> CreateApiKeyPayload:
        async with unit_of_work(info, {"name": input.name, "scopes": input.scopes}) as uow:
            issued = await api_keys.create(
                uow.session, info.context.principal, input.name, input.scopes, input.expires_in_days
            )
            uow.target_id = issued.key.id
        return CreateApiKeyPayload(api_key=ApiKey.from_row(issued.key), secret=issued.secret)

    @strawberry.mutation(description="Revoke an API key.")
    async def revoke_api_key(
        self,
        info: AccountsInfo,
        input: Annotated[RevokeApiKeyInput, strawberry.argument(description="The key to revoke.")],
    ) -> ApiKeyPayload:
        async with unit_of_work(info, {"id": input.id}) as uow:
            uow.target_id = str(input.id)
            key = await api_keys.revoke(uow.session, info.context.principal, str(input.id))
        return ApiKeyPayload(api_key=ApiKey.from_row(key))
