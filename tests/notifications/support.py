"""A team to notify: Ann owns a workspace with a project, Bob (of her tenant) edits in it; the
platform's real mutations make them, and the notifications consumer is run over the events."""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from shared.config import Settings
from shared.domain_events import ConsumerRunner
from subgraphs.notifications.config import NotificationsSettings
from subgraphs.notifications.tasks import CONSUMERS
from tests.support.graphql import gql, sign_up
from tests.support.secrets import remember_secret

COMMENT = "mutation($i: AddCommentInput!) { addComment(input: $i) { comment { id } } }"


class HasClient(Protocol):
    client: httpx.AsyncClient


def worker_context(settings: Settings) -> dict[str, Any]:
    return {"settings": settings, "subgraph_settings": {"notifications": NotificationsSettings()}}


class Team:
    """Ann owns a workspace with a project; Bob, of her tenant, edits in it."""

    def __init__(self, platform: HasClient, runner: ConsumerRunner) -> None:
        self.platform, self.runner = platform, runner
        self.ann: dict[str, Any] = {}
        self.bob: dict[str, Any] = {}
        self.workspace = self.project = ""

    async def call(
        self, subgraph: str, query: str, variables: dict[str, Any] | None, token: str
    ) -> dict[str, Any]:
        return await gql(self.platform.client, query, variables, token=token, path=self.path(subgraph))

    def path(self, subgraph: str) -> str:
        """Where a subgraph's fields are asked for: its own endpoint on the host."""
        return f"/{subgraph}/graphql"

    async def ok(
        self, subgraph: str, query: str, variables: dict[str, Any] | None, token: str
    ) -> dict[str, Any]:
        body = await self.call(subgraph, query, variables, token)
        assert "errors" not in body, body
        return dict(body["data"])

    async def deliver(self) -> None:
        """Runs the notifications consumer until the streams hold nothing new for it."""
        for consumer in CONSUMERS:
            while await self.runner.run_once(consumer, block_ms=50):
                pass

    async def form(self) -> Team:
        client = self.platform.client
        self.ann = await sign_up(client, path=self.path("accounts"), display_name="Ann")
        code = (
            await self.ok(
                "accounts",
                "mutation { createInvitation(input: {role: MEMBER}) { code } }",
                None,
                self.ann["token"],
            )
        )["createInvitation"]["code"]
        remember_secret(code)
        self.bob = await sign_up(client, path=self.path("accounts"), invitation_code=code, display_name="Bob")
        self.workspace = (
            await self.ok(
                "collaboration",
                'mutation { createWorkspace(input: {name: "Summer"}) { workspace { id } } }',
                None,
                self.ann["token"],
            )
        )["createWorkspace"]["workspace"]["id"]
        invite = await self.ok(
            "collaboration",
            "mutation($i: CreateWorkspaceInvitationInput!) { createWorkspaceInvitation(input: $i) { code } }",
            {"i": {"workspaceId": self.workspace, "role": "EDITOR"}},
            self.ann["token"],
        )
        remember_secret(invite["createWorkspaceInvitation"]["code"])
        await self.ok(
            "collaboration",
            "mutation($i: AcceptWorkspaceInvitationInput!) { acceptWorkspaceInvitation(input: $i) { workspace { id } } }",
            {"i": {"code": invite["createWorkspaceInvitation"]["code"]}},
            self.bob["token"],
        )
        self.project = (
            await self.ok(
                "collaboration",
                "mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id } } }",
                {"i": {"workspaceId": self.workspace, "type": "PLAYLIST_DRAFT", "title": "Road trip"}},
                self.ann["token"],
            )
        )["createProject"]["project"]["id"]
        await self.deliver()
        return self

    async def mention_bob(self, body: str = "Have a listen") -> str:
        found = await self.ok(
            "collaboration",
            COMMENT,
            {"i": {"projectId": self.project, "body": body, "mentions": [self.bob["user"]["id"]]}},
            self.ann["token"],
        )
        await self.deliver()
        return str(found["addComment"]["comment"]["id"])
