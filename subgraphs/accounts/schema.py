"""Query, Mutation and Subscription of the accounts subgraph: thin, they call the services."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from shared.auth.principal import acting_user
from shared.config import Settings
from shared.errors import Unauthenticated
from shared.mutations import unit_of_work
from shared.pagination import Connection, check_first, connection, decode_cursor
from shared.schema import PlatformSchema, build_schema
from subgraphs.accounts import api_keys, consents, events, linking, members, service
from subgraphs.accounts.inputs import (
    ApiKeyPayload,
    AuthPayload,
    ChangeMemberRoleInput,
    ConsentInput,
    ConsentPayload,
    CreateApiKeyInput,
    CreateApiKeyPayload,
    CreateInvitationInput,
    CreateInvitationPayload,
    LinkSpotifyAccountInput,
    LinkSpotifyAccountPayload,
    LogInInput,
    LogOutPayload,
    MemberPayload,
    RefreshSessionInput,
    RemoveMemberInput,
    RevokeApiKeyInput,
    SignUpInput,
)
from subgraphs.accounts.loaders import tenant_loader, user_loader
from subgraphs.accounts.repository import ApiKeyRepository
from subgraphs.accounts.types import (
    AccountEvent,
    AccountsInfo,
    ApiKey,
    Invitation,
    SpotifyAuthorization,
    Tenant,
    User,
)


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
class Query:
    @strawberry.field(description="The signed-in user.")
    async def me(self, info: AccountsInfo) -> User | None:
        user_id = info.context.principal.user_id
        row = await user_loader(info.context).load(user_id) if user_id else None
        return User.from_row(row) if row else None

    @strawberry.field(description="A member of your tenant by id; null when there is none.")
    async def user(
        self,
        info: AccountsInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description="Accounts user id.")],
    ) -> User | None:
        row = await user_loader(info.context).load(str(id))
        return User.from_row(row) if row else None

    @strawberry.field(description="Your tenant.")
    async def tenant(self, info: AccountsInfo) -> Tenant | None:
        tenant_id = info.context.principal.tenant_id
        row = await tenant_loader(info.context).load(tenant_id) if tenant_id else None
        return Tenant.from_row(row) if row else None

    @strawberry.field(description="Your API keys (secrets are never shown again).")
    async def api_keys(
        self,
        info: AccountsInfo,
        first: Annotated[int, strawberry.argument(description="Page size, 1 to 100.")] = 50,
        after: Annotated[
            str | None, strawberry.argument(description="Cursor to continue after (`endCursor`).")
        ] = None,
    ) -> Connection[ApiKey]:
        check_first(first)
        principal = info.context.principal
        tenant_id, user_id = acting_user(principal)
        repo = ApiKeyRepository(await info.context.session(), tenant_id)
        rows = await repo.for_user(user_id)
        cursor = decode_cursor(after)
        rows = [row for row in rows if cursor is None or row.id > cursor][: first + 1]
        return connection(rows, first, key=lambda row: row.id, node=ApiKey.from_row)

    @strawberry.field(description="Start linking a Spotify account (authorization code with PKCE).")
    async def spotify_authorize_url(self, info: AccountsInfo) -> SpotifyAuthorization:
        pending = await linking.start(info.context.runtime, info.context.principal)
        return SpotifyAuthorization(url=pending.url, state=pending.state, offline=pending.offline)


@strawberry.type
class Mutation:
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
            result = await service.refresh_session(uow.session, info.context.runtime, input.refresh_token)
            if isinstance(result, service.ReuseDetected):
                uow.outcome, uow.target_id = "REFRESH_TOKEN_REUSED", result.family_id
            else:
                uow.target_id, uow.tenant_id = result.user.id, result.user.tenant_id
        if isinstance(result, service.ReuseDetected):
            raise Unauthenticated(
                "Refresh token reuse detected; the session was revoked",
                reason="REFRESH_TOKEN_REUSED",
            )
        return await _auth_payload(info, result)

    @strawberry.mutation(description="End the current session everywhere.")
    async def log_out(self, info: AccountsInfo) -> LogOutPayload:
        async with unit_of_work(info, {}) as uow:
            session_id = await service.log_out(uow.session, info.context.runtime, info.context.principal)
            uow.target_id = session_id
        return LogOutPayload(session_id=session_id)

    @strawberry.mutation(description="Change a member's role (owners and admins).")
    async def change_member_role(
        self,
        info: AccountsInfo,
        input: Annotated[
            ChangeMemberRoleInput, strawberry.argument(description="The member and their new role.")
        ],
    ) -> MemberPayload:
        async with unit_of_work(info, {"userId": input.user_id, "role": input.role.value}) as uow:
            uow.target_id = str(input.user_id)
            user = await members.change_role(
                uow.session,
                info.context.principal,
                str(input.user_id),
                input.role.value,
                input.version,
            )
        return MemberPayload(user=User.from_row(user))

    @strawberry.mutation(description="Remove a member from the tenant (owners and admins).")
    async def remove_member(
        self,
        info: AccountsInfo,
        input: Annotated[RemoveMemberInput, strawberry.argument(description="The member to remove.")],
    ) -> MemberPayload:
        async with unit_of_work(info, {"userId": input.user_id}) as uow:
            uow.target_id = str(input.user_id)
            user = await members.remove_member(uow.session, info.context.principal, str(input.user_id))
        return MemberPayload(user=User.from_row(user))

    @strawberry.mutation(description="Invite someone into the tenant; the code is shown once.")
    async def create_invitation(
        self,
        info: AccountsInfo,
        input: Annotated[
            CreateInvitationInput, strawberry.argument(description="Role, optional e-mail and lifetime.")
        ],
    ) -> CreateInvitationPayload:
        async with unit_of_work(info, {"role": input.role.value, "email": input.email}) as uow:
            issued = await members.create_invitation(
                uow.session, info.context.principal, input.role.value, input.email, input.ttl_hours
            )
            uow.target_id = issued.invitation.id
        return CreateInvitationPayload(invitation=Invitation.from_row(issued.invitation), code=issued.code)

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


@strawberry.type
class Subscription:
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


def create_schema(settings: Settings) -> PlatformSchema:
    return build_schema(
        settings, query=Query, mutation=Mutation, subscription=Subscription, types=[User, Tenant]
    )
