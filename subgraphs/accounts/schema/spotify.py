"""Linking a Spotify account: the authorization URL, then the code from the redirect."""

from __future__ import annotations

from typing import Annotated

import strawberry

from shared.mutations import unit_of_work
from subgraphs.accounts.schema.inputs import LinkSpotifyAccountInput, LinkSpotifyAccountPayload
from subgraphs.accounts.service import linking
from subgraphs.accounts.types import AccountsInfo, SpotifyAuthorization


@strawberry.type
class SpotifyQuery:
    @strawberry.field(description="Start linking a Spotify account (authorization code with PKCE).")
    async def spotify_authorize_url(self, info: AccountsInfo) -> SpotifyAuthorization:
        pending = await linking.start(info.context.runtime, info.context.principal)
        return SpotifyAuthorization(url=pending.url, state=pending.state, offline=pending.offline)


@strawberry.type
class SpotifyMutation:
    @strawberry.mutation(description="Finish linking Spotify with the code and state from the redirect.")
    async def link_spotify_account(
        self,
        info: AccountsInfo,
        input: Annotated[
            LinkSpotifyAccountInput,
            strawberry.argument(description="Code and state from Spotify's redirect."),
        ],
    ) -> LinkSpotifyAccountPayload:
        async with unit_of_work(info, {"state": input.state}) as uow:
            account = await linking.finish(
                uow.session, info.context.runtime, info.context.principal, input.code, input.state
            )
            uow.target_id = account.spotify_user_id
        return LinkSpotifyAccountPayload(account=account)
