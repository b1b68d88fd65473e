"""Your tenant and its members: `user`, `tenant`, roles, removal, invitations."""

from __future__ import annotations

from typing import Annotated

import strawberry

from shared.mutations import unit_of_work
from subgraphs.accounts.loaders import tenant_loader, user_loader
from subgraphs.accounts.schema.inputs import (
    ChangeMemberRoleInput,
    CreateInvitationInput,
    CreateInvitationPayload,
    MemberPayload,
    RemoveMemberInput,
)
from subgraphs.accounts.service import members
from subgraphs.accounts.types import AccountsInfo, Invitation, Tenant, User


@strawberry.type
class MemberQuery:
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


@strawberry.type
class MemberMutation:
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
