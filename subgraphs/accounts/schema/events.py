"""The live account stream (`accountEvents`) over `subgraphs.accounts.service.stream`."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from subgraphs.accounts.service import stream as events
from subgraphs.accounts.types import AccountEvent, AccountsInfo


@strawberry.type
class AccountEventSubscription:
    @strawberry.subscription(
        description="Your account's events: heartbeats, revoked sessions, consent changes. "
        "Ends when this session is revoked."
    )
    async def account_events(
        self,
        info: AccountsInfo,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="Resume after this event id (`AccountEvent.id`); null for new events only."
            ),
        ] = None,
    ) -> AsyncGenerator[AccountEvent, None]:
        async for event_id, kind, session_id in events.account_events(info.context, after):
            yield AccountEvent.of(event_id, kind, session_id)
