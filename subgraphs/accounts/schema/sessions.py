"""Who you are and your session: `me`, sign up, log in, refresh, change password, log out."""

from __future__ import annotations

from typing import Annotated

import strawberry

from shared.mutations import unit_of_work
from subgraphs.accounts import service
from subgraphs.accounts.loaders import user_loader
from subgraphs.accounts.schema.inputs import (
    AuthPayload,
    ChangePasswordInput,
    ChangePasswordPayload,
    LogInInput,
    LogOutPayload,
    RefreshSessionInput,
    SignUpInput,
)
from subgraphs.accounts.types import AccountsInfo, User


async def _auth_payload(info: AccountsInfo, session: service.Session) -> AuthPayload:
    """The payload of a new session, resolved as its user: the caller was anonymous (or
    another session) until now, and the payload's fields are decided as the next request
    with the new token would be (the user's own e-mail, tenant, ...)."""
    principal = await info.context.runtime.authenticator.authenticate(
        f"Bearer {session.access_token}", info.context.principal.client_address
    )
    await info.context.act_as(principal)
    return AuthPayload(
        user=User.from_row(session.user),
        access_token=session.access_token,
        refresh_token=session.refresh_token,
        expires_in=session.expires_in,
    )


@strawberry.type
class SessionQuery:
    @strawberry.field(description="The signed-in user.")
    async def me(self, info: AccountsInfo) -> User | None:
        user_id = info.context.principal.user_id
        row = await user_loader(info.context).load(user_id) if user_id else None
        return User.from_row(row) if row else None


@strawberry.type
class SessionMutation:
    @strawberry.mutation(description="Create an account, in a new tenant or by invitation.")
    async def sign_up(
        self,
        info: AccountsInfo,
        input: Annotated[SignUpInput, strawberry.argument(description="The new account.")],
    ) -> AuthPayload:
        async with unit_of_work(info, input.audited()) as uow:
            session = await service.sign_up(uow.session, info.context.runtime, input.to_data())
            uow.acting_for(session.user.id, session.user.tenant_id)
        return await _auth_payload(info, session)

    @strawberry.mutation(description="Exchange e-mail and password for a session.")
    async def log_in(
        self,
        info: AccountsInfo,
        input: Annotated[LogInInput, strawberry.argument(description="E-mail and password.")],
    ) -> AuthPayload:
        address = info.context.principal.client_address
        async with unit_of_work(info, {"email": input.email}) as uow:
            session = await service.log_in(
                uow.session, info.context.runtime, input.email, input.password, address
            )
            uow.acting_for(session.user.id, session.user.tenant_id)
        return await _auth_payload(info, session)

    @strawberry.mutation(description="Rotate a refresh token into a new session.")
    async def refresh_session(
        self,
        info: AccountsInfo,
        input: Annotated[
            RefreshSessionInput, strawberry.argument(description="The refresh token to rotate.")
        ],
    ) -> AuthPayload:
        async with unit_of_work(info, {}) as uow:
            result = await service.refresh_session(uow, info.context.runtime, input.refresh_token)
        return await _auth_payload(info, result)

    @strawberry.mutation(
        description="Change your password (in a user session). Every other session of yours is "
        "signed out; this one stays. A wrong current password counts as a failed log-in."
    )
    async def change_password(
        self,
        info: AccountsInfo,
        input: Annotated[ChangePasswordInput, strawberry.argument(description="Current and new password.")],
    ) -> ChangePasswordPayload:
        async with unit_of_work(info, {}) as uow:
            user, revoked = await service.change_password(
                uow, info.context.runtime, info.context.principal, input.current_password, input.new_password
            )
        return ChangePasswordPayload(user=User.from_row(user), revoked_sessions=revoked)

    @strawberry.mutation(description="End the current session everywhere.")
    async def log_out(self, info: AccountsInfo) -> LogOutPayload:
        async with unit_of_work(info, {}) as uow:
            session_id = await service.log_out(uow.session, info.context.runtime, info.context.principal)
            uow.target_id = session_id
        return LogOutPayload(session_id=session_id)
