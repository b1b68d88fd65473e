"""Consents: give and withdraw; the change is also published on the account stream."""

from __future__ import annotations

from typing import Annotated

import strawberry

from shared.mutations import unit_of_work
from subgraphs.accounts.schema.inputs import ConsentInput, ConsentPayload
from subgraphs.accounts.service import consents
from subgraphs.accounts.service import stream as events
from subgraphs.accounts.types import AccountsInfo, User


@strawberry.type
class ConsentMutation:
    @strawberry.mutation(description="Give a consent.")
    async def grant_consent(
        self,
        info: AccountsInfo,
        input: Annotated[ConsentInput, strawberry.argument(description="The consent to give.")],
    ) -> ConsentPayload:
        return await _set_consent(info, input, granted=True)

    @strawberry.mutation(
        description="Withdraw a consent. Without data processing, personal data is withheld."
    )
    async def revoke_consent(
        self,
        info: AccountsInfo,
        input: Annotated[ConsentInput, strawberry.argument(description="The consent to withdraw.")],
    ) -> ConsentPayload:
        return await _set_consent(info, input, granted=False)


async def _set_consent(info: AccountsInfo, input: ConsentInput, granted: bool) -> ConsentPayload:
    principal = info.context.principal
    async with unit_of_work(info, {"consent": input.consent.value}) as uow:
        user = await consents.set_consent(uow.session, principal, input.consent.value, granted)
        uow.target_id = user.id
    await events.publish(
        info.context.runtime.redis,
        user.id,
        "CONSENT_CHANGED",
        consent=input.consent.value,
        granted=granted,
    )
    return ConsentPayload(user=User.from_row(user))
