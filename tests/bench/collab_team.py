"""A workspace with members and projects, made through the public API (router or subgraph host)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.graphql import codes, gql, sign_up
from tests.support.secrets import remember_secret

TENANT_INVITE = "mutation($input: CreateInvitationInput!) { createInvitation(input: $input) { code } }"
CREATE_WORKSPACE = "mutation($i: CreateWorkspaceInput!) { createWorkspace(input: $i) { workspace { id } } }"
INVITE = "mutation($i: CreateWorkspaceInvitationInput!) { createWorkspaceInvitation(input: $i) { code } }"
ACCEPT = "mutation($i: AcceptWorkspaceInvitationInput!) { acceptWorkspaceInvitation(input: $i) { workspace { id } } }"
CREATE_PROJECT = "mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id version } } }"
UPDATE_PROJECT = "mutation($i: UpdateProjectInput!) { updateProject(input: $i) { project { version } } }"
PRESENCE = "mutation($i: UpdatePresenceInput!) { updatePresence(input: $i) { present { viewing } } }"


class ApiError(Exception):
    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(str(body.get("errors"))[:500])
        self.codes = codes(body)
        self.extensions = (body.get("errors") or [{}])[0].get("extensions", {})


@dataclass(frozen=True)
class Api:
    """GraphQL over one HTTP client. Through the router both subgraphs answer at /graphql."""

    client: httpx.AsyncClient
    accounts_path: str = "/graphql"
    collaboration_path: str = "/graphql"

    async def accounts(self, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
        return _data(await gql(self.client, query, variables, token=token, path=self.accounts_path))

    async def collaboration(self, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
        return _data(await gql(self.client, query, variables, token=token, path=self.collaboration_path))

    async def sign_up(self, invitation_code: str | None = None) -> str:
        account = await sign_up(self.client, invitation_code=invitation_code, path=self.accounts_path)
        return str(account["token"])


def _data(body: dict[str, Any]) -> dict[str, Any]:
    if body.get("errors"):
        raise ApiError(body)
    return dict(body["data"])


@dataclass
class Team:
    workspace_id: str
    owner: str
    """The owner's access token."""
    members: list[str] = field(default_factory=list)
    """Access tokens of every member, the owner first."""


async def make_team(api: Api, members: int, role: str) -> Team:
    """An owner, a workspace, and `members - 1` more people of the owner's tenant in `role`."""
    owner = await api.sign_up()
    created = await api.collaboration(CREATE_WORKSPACE, {"i": {"name": "Bench"}}, owner)
    team = Team(created["createWorkspace"]["workspace"]["id"], owner, [owner])
    for _ in range(members - 1):
        team.members.append(await _join(api, team, role))
    return team


async def _join(api: Api, team: Team, role: str) -> str:
    invited = await api.accounts(TENANT_INVITE, {"input": {"role": "MEMBER"}}, team.owner)
    tenant_code = invited["createInvitation"]["code"]
    remember_secret(tenant_code)
    token = await api.sign_up(invitation_code=tenant_code)
    variables = {"i": {"workspaceId": team.workspace_id, "role": role}}
    code = (await api.collaboration(INVITE, variables, team.owner))["createWorkspaceInvitation"]["code"]
    remember_secret(code)
    await api.collaboration(ACCEPT, {"i": {"code": code}}, token)
    return token


async def create_project(api: Api, team: Team, token: str) -> str:
    variables = {"i": {"workspaceId": team.workspace_id, "type": "PLAYLIST_DRAFT", "title": "Draft"}}
    return str((await api.collaboration(CREATE_PROJECT, variables, token))["createProject"]["project"]["id"])


async def update_project(api: Api, token: str, project_id: str, version: int) -> int:
    """One edit made on `version`; returns the new version. Replacing the description keeps
    the content the same size however many edits are made (track lists are capped at 500)."""
    operations = [{"op": "replace", "path": "/description", "value": f"edit on version {version}"}]
    variables = {"i": {"id": project_id, "version": version, "operations": operations}}
    answer = await api.collaboration(UPDATE_PROJECT, variables, token)
    return int(answer["updateProject"]["project"]["version"])


async def announce_presence(api: Api, team: Team, viewing: str) -> None:
    """A PRESENCE_CHANGED event to every subscriber of the workspace (`viewing` must change)."""
    await api.collaboration(
        PRESENCE, {"i": {"workspaceId": team.workspace_id, "viewing": viewing}}, team.owner
    )
