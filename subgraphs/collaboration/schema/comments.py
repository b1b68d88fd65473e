"""Comments on projects: threads, replies, mentions, resolving."""

from __future__ import annotations

from typing import Annotated

import strawberry

from shared.mutations import unit_of_work
from shared.permissions.resources import granted
from subgraphs.collaboration import service
from subgraphs.collaboration.access import on_comment, on_project
from subgraphs.collaboration.types import CollabInfo, Comment


@strawberry.input(description="A comment on a project, or a reply in a thread.")
class AddCommentInput:
    project_id: strawberry.ID = strawberry.field(description="Collaboration project id.")
    body: str = strawberry.field(description="The text, 1 to 5000 characters.")
    reply_to: strawberry.ID | None = strawberry.field(
        default=None, description="Comment id to reply to (its thread); null starts a new thread."
    )
    mentions: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Accounts user ids of workspace members, up to 20."
    )


@strawberry.input(description="A comment, by id.")
class CommentIdInput:
    id: strawberry.ID = strawberry.field(
        description="Comment id; for (un)resolving, any comment of the thread."
    )


@strawberry.type(description="The comment after the change.")
class CommentPayload:
    comment: Comment = strawberry.field(
        description="The comment (for (un)resolving, its thread's first comment)."
    )


@strawberry.type
class CommentMutation:
    @strawberry.mutation(
        description="Comment on a project, or reply in a thread (commenters).",
        extensions=[on_project("input.projectId")],
    )
    async def add_comment(
        self,
        info: CollabInfo,
        input: Annotated[
            AddCommentInput, strawberry.argument(description="Project, text, thread and mentions.")
        ],
    ) -> CommentPayload:
        reply_to = str(input.reply_to) if input.reply_to else None
        mentions = [str(id) for id in input.mentions]
        async with unit_of_work(info, {"projectId": input.project_id}) as uow:
            row = await service.add_comment(
                uow, info.context.principal, granted(info).resource, input.body, reply_to, mentions
            )
        return CommentPayload(comment=Comment.from_row(row))

    @strawberry.mutation(
        description="Mark a thread resolved (through its first comment).", extensions=[on_comment("input.id")]
    )
    async def resolve_comment(
        self,
        info: CollabInfo,
        input: Annotated[CommentIdInput, strawberry.argument(description="A comment of the thread.")],
    ) -> CommentPayload:
        async with unit_of_work(info, {"id": input.id}) as uow:
            row = await service.set_resolved(uow, info.context.principal, granted(info).resource, True)
        return CommentPayload(comment=Comment.from_row(row))

    @strawberry.mutation(description="Reopen a resolved thread.", extensions=[on_comment("input.id")])
    async def unresolve_comment(
        self,
        info: CollabInfo,
        input: Annotated[CommentIdInput, strawberry.argument(description="A comment of the thread.")],
    ) -> CommentPayload:
        async with unit_of_work(info, {"id": input.id}) as uow:
            row = await service.set_resolved(uow, info.context.principal, granted(info).resource, False)
        return CommentPayload(comment=Comment.from_row(row))
