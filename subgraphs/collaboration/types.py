"""GraphQL types of collaboration. Tracks, playlists, assets and users are entity stubs
(`@key(fields: "id")`) the router joins from their own subgraphs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from shared.auth.principal import tenant_of
from shared.context import RequestContext
from shared.pagination import (
    Connection,
    PageCursor,
    PageInfo,
    PageSize,
    check_first,
    connection,
    decode_cursor,
)
from shared.permissions import protected
from shared.references import Playlist, Track
from shared.runtime import NoSettings
from shared.schema import UserExtension, described_enum, reference_only
from subgraphs.collaboration import access
from subgraphs.collaboration.access import WorkspaceRole, on_workspace
from subgraphs.collaboration.config import CollaborationServices
from subgraphs.collaboration.loaders import project_loader
from subgraphs.collaboration.models import ActivityEvent as ActivityRow
from subgraphs.collaboration.models import Comment as CommentRow
from subgraphs.collaboration.models import Project as ProjectRow
from subgraphs.collaboration.models import ProjectVersion as VersionRow
from subgraphs.collaboration.models import Workspace as WorkspaceRow
from subgraphs.collaboration.models import WorkspaceMember as MemberRow
from subgraphs.collaboration.repository import (
    ActivityRepository,
    CommentRepository,
    MemberRepository,
    ProjectRepository,
    VersionRepository,
    WorkspaceRepository,
)
from subgraphs.collaboration.service import presence
from subgraphs.collaboration.service.activity import EventKind, StreamEvent
from subgraphs.collaboration.service.content import ProjectType
from subgraphs.collaboration.service.items import CollaborationItemKind

CollabInfo = Info[RequestContext[NoSettings, CollaborationServices], None]

described_enum(
    WorkspaceRole,
    "A role in a workspace, from most to least power: OWNER, EDITOR, COMMENTER, VIEWER.",
    {
        WorkspaceRole.VIEWER: "Reads the workspace, its projects and comments, and follows its events.",
        WorkspaceRole.COMMENTER: "A viewer who also comments, resolves threads and sees version history.",
        WorkspaceRole.EDITOR: "A commenter who also creates, edits and deletes projects, and invites others.",
        WorkspaceRole.OWNER: "An editor who also manages members and roles and sees invitees' e-mail.",
    },
)
described_enum(
    ProjectType,
    "What a project holds; each type has its own content schema.",
    {
        ProjectType.PLAYLIST_DRAFT: "A playlist in the making: "
        "`{description, trackIds, playlistId?, coverAssetId?}`.",
        ProjectType.RELEASE_PLAN: "A release: "
        "`{releaseDate, milestones: [{title, due, done}], trackIds, assetIds}`.",
        ProjectType.DOCUMENT: "Lyrics or notes: `{kind: lyrics|notes, body, assetIds, trackId?}`.",
    },
)
described_enum(
    CollaborationItemKind,
    "What `collaborationItems` lists, across every tenant.",
    {
        CollaborationItemKind.PROJECT: "Projects, soft-deleted ones too: "
        "`{tenant_id, project_id, workspace_id, title, content, version, deleted}`.",
        CollaborationItemKind.MEMBERSHIP: "Current members of the workspaces: "
        "`{tenant_id, workspace_id, user_id, role}`.",
    },
)
described_enum(
    EventKind,
    "What happened in a workspace.",
    name="WorkspaceEventKind",
    values={
        EventKind.PROJECT_CREATED: "A project was created.",
        EventKind.PROJECT_CHANGED: "A project's content or title changed; `operations` holds the JSON Patch.",
        EventKind.PROJECT_DELETED: "A project was soft-deleted.",
        EventKind.PROJECT_RESTORED: "A deleted project was brought back.",
        EventKind.COMMENT_ADDED: "A comment or reply was posted.",
        EventKind.COMMENT_RESOLVED: "A comment thread was marked resolved.",
        EventKind.COMMENT_UNRESOLVED: "A resolved thread was reopened.",
        EventKind.MEMBER_JOINED: "Someone joined with an invitation.",
        EventKind.MEMBER_LEFT: "A member left or was removed.",
        EventKind.MEMBER_ROLE_CHANGED: "A member's role changed.",
        EventKind.PRESENCE_CHANGED: "Someone arrived, left, or now looks at something else.",
    },
)


@strawberry.type(
    description="A page of every tenant's projects or workspace memberships for platform services, "
    "each item as the domain events describe it (`collaboration.project.created` and `.changed`; "
    "`collaboration.member.added`)."
)
class CollaborationItemPage:
    items: list[JSON] = strawberry.field(
        description="The page's items in key order. Projects (by project id): `{tenant_id, project_id, "
        "workspace_id, title, content, version, deleted}` with the current title, content and version; "
        "memberships (by workspace id, then user id): `{tenant_id, workspace_id, user_id, role}`, role "
        "one of `owner`, `editor`, `commenter`, `viewer`."
    )
    total_count: int = strawberry.field(
        description="How many items of this kind there are, in every tenant (deleted projects included)."
    )
    page_info: PageInfo = strawberry.field(
        description="Whether more items follow, and the cursor to ask for them with `after`."
    )


@strawberry.federation.type(
    keys=reference_only(), description="A stored file of the storage subgraph, joined by the router."
)
class Asset:
    id: strawberry.ID = strawberry.field(description="Storage asset id (opaque).")


@strawberry.federation.type(keys=["id"], description="A person with an account.")
class User(UserExtension):
    @protected("User.workspaces", description="The workspaces the user is a member of (the user only).")
    async def workspaces(
        self,
        info: CollabInfo,
        first: PageSize = 50,
        after: PageCursor = None,
    ) -> Connection[Workspace] | None:
        check_first(first)
        database, tenant_id = info.context.runtime.db, tenant_of(info.context.principal)
        rows = await MemberRepository.load_page(
            database,
            tenant_id,
            order="workspace_id",
            limit=first + 1,
            after=decode_cursor(after),
            user_id=str(self.id),
        )
        found = await WorkspaceRepository.load_many(database, tenant_id, [row.workspace_id for row in rows])
        roles = {row.workspace_id: row.role for row in rows}
        live = [found[row.workspace_id] for row in rows if row.workspace_id in found]
        return connection(
            live, first, key=lambda row: row.id, node=lambda row: Workspace.from_row(row, roles[row.id])
        )


def _user(user_id: str) -> User:
    return User(id=strawberry.ID(user_id))


async def _session_and_tenant(info: CollabInfo) -> tuple[Any, str]:
    return await info.context.session(), tenant_of(info.context.principal)


@strawberry.type(description="A member of a workspace and their role.")
class WorkspaceMember:
    id: strawberry.ID = strawberry.field(description="Membership id (opaque); not the user's id, see `user`.")
    role: WorkspaceRole = strawberry.field(description="The member's role in this workspace.")
    joined_at: datetime = strawberry.field(description="When they joined (UTC).")
    workspace_id: strawberry.Private[str]
    user_id: strawberry.Private[str]
    stored_email: strawberry.Private[str | None]

    @classmethod
    def from_row(cls, row: MemberRow) -> WorkspaceMember:
        return cls(
            id=strawberry.ID(row.id),
            role=WorkspaceRole(row.role),
            joined_at=row.joined_at,
            workspace_id=row.workspace_id,
            user_id=row.user_id,
            stored_email=row.email,
        )

    @strawberry.field(description="The member's account (joined from accounts).")
    def user(self) -> User:
        return _user(self.user_id)

    @strawberry.field(
        description="The address the invitation went to; workspace owners only.",
        extensions=[on_workspace(parent="workspace_id")],
    )
    async def email(self) -> str | None:
        return self.stored_email


@strawberry.type(description="Someone in the workspace right now.")
class PresenceEntry:
    viewing: str | None = strawberry.field(description="What they look at (a project id, or free text).")
    expires_at: datetime = strawberry.field(
        description="When this presence lapses unless renewed by `updatePresence` (about 30 s)."
    )
    user_id: strawberry.Private[str]

    @classmethod
    def from_entry(cls, entry: presence.PresenceEntry) -> PresenceEntry:
        return cls(
            viewing=entry.viewing,
            expires_at=datetime.fromtimestamp(entry.expires_at).astimezone(),
            user_id=entry.user_id,
        )

    @strawberry.field(description="Who is present (joined from accounts).")
    def user(self) -> User:
        return _user(self.user_id)


@strawberry.type(description="One accepted change of a project.")
class ProjectVersion:
    version: int = strawberry.field(description="Version number, from 1, one more per accepted change.")
    created_at: datetime = strawberry.field(description="When the change was accepted (UTC).")
    operations: JSON = strawberry.field(description="The JSON Patch (RFC 6902) operations of this change.")
    content: JSON = strawberry.field(description="The project's whole content after this change.")
    message: str | None = strawberry.field(
        description="The author's note on the change; null when none was given."
    )
    restored_from: int | None = strawberry.field(
        description="The version this one restored, for a `restoreProjectVersion`; else null."
    )
    author_id: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: VersionRow) -> ProjectVersion:
        return cls(
            version=row.version,
            created_at=row.created_at,
            operations=JSON(row.operations),
            content=JSON(row.content),
            message=row.message,
            restored_from=row.restored_from,
            author_id=row.author_id,
        )

    @strawberry.field(description="Who made the change (joined from accounts).")
    def author(self) -> User:
        return _user(self.author_id)


@strawberry.type(description="A comment; replies share their thread's first comment as `threadId`.")
class Comment:
    id: strawberry.ID = strawberry.field(description="Comment id (opaque).")
    thread_id: strawberry.ID = strawberry.field(
        description="Id of the thread's first comment; equal to `id` for a thread's start."
    )
    body: str = strawberry.field(description="The comment's text, 1 to 5000 characters.")
    created_at: datetime = strawberry.field(description="When it was posted (UTC).")
    resolved_at: datetime | None = strawberry.field(
        description="When its thread was resolved (UTC); null while open."
    )
    project_id: strawberry.ID = strawberry.field(
        description="Collaboration project id of the project commented on."
    )
    author_id: strawberry.Private[str]
    mention_ids: strawberry.Private[list[str]]

    @classmethod
    def from_row(cls, row: CommentRow) -> Comment:
        return cls(
            id=strawberry.ID(row.id),
            thread_id=strawberry.ID(row.thread_id),
            body=row.body,
            created_at=row.created_at,
            resolved_at=row.resolved_at,
            project_id=strawberry.ID(row.project_id),
            author_id=row.author_id,
            mention_ids=list(row.mentions),
        )

    @strawberry.field(description="Who wrote it (joined from accounts).")
    def author(self) -> User:
        return _user(self.author_id)

    @strawberry.field(description="Workspace members mentioned in it (joined from accounts).")
    def mentions(self) -> list[User]:
        return [_user(id) for id in self.mention_ids]


@strawberry.federation.type(
    keys=["id"], description="A shared piece of work: a playlist draft, a release plan, lyrics or notes."
)
class Project:
    id: strawberry.ID = strawberry.field(description="Collaboration project id (opaque).")

    @classmethod
    async def resolve_reference(cls, info: CollabInfo, id: strawberry.ID) -> Project | None:
        """A project another subgraph refers to (a search hit): null unless the caller is a
        member of its workspace."""
        return await readable_project(info, str(id))

    type: ProjectType = strawberry.field(description="What the project holds; fixes the shape of `content`.")
    title: str = strawberry.field(description="The project's title, 1 to 200 characters.")
    content: JSON = strawberry.field(
        description="The current content, a JSON object of the shape its `type` describes."
    )
    version: int = strawberry.field(
        description="Current version; send it with `updateProject` (a stale one gets CONFLICT)."
    )
    created_at: datetime = strawberry.field(description="When the project was created (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")
    deleted_at: datetime | None = strawberry.field(
        description="When it was soft-deleted (UTC); null unless deleted."
    )
    workspace_id: strawberry.ID = strawberry.field(description="Id of the workspace it belongs to.")
    raw: strawberry.Private[dict[str, Any]]

    @classmethod
    def from_row(cls, row: ProjectRow) -> Project:
        return cls(
            id=strawberry.ID(row.id),
            type=ProjectType(row.type),
            title=row.title,
            content=JSON(row.content),
            raw=row.content,
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
            deleted_at=row.deleted_at,
            workspace_id=strawberry.ID(row.workspace_id),
        )

    def _ids(self, key: str) -> list[str]:
        value = self.raw.get(key)
        return [str(id) for id in value] if isinstance(value, list) else []

    @strawberry.field(description="The tracks the content names, joined from the spotify subgraph.")
    def tracks(self) -> list[Track]:
        ids = self._ids("trackIds") or ([str(self.raw["trackId"])] if self.raw.get("trackId") else [])
        return [Track(id=strawberry.ID(id)) for id in ids]

    @strawberry.field(description="The assets the content names, joined from the storage subgraph.")
    def assets(self) -> list[Asset]:
        ids = self._ids("assetIds") + (
            [str(self.raw["coverAssetId"])] if self.raw.get("coverAssetId") else []
        )
        return [Asset(id=strawberry.ID(id)) for id in ids]

    @strawberry.field(description="The Spotify or platform playlist this draft is for, if any.")
    def playlist(self) -> Playlist | None:
        playlist_id = self.raw.get("playlistId")
        return Playlist(id=strawberry.ID(str(playlist_id))) if playlist_id else None

    @strawberry.field(
        description="Every accepted change, newest first (hidden from viewers).",
        extensions=[on_workspace(parent="workspace_id")],
    )
    async def versions(
        self,
        info: CollabInfo,
        first: Annotated[int, strawberry.argument(description="How many versions, 1 to 100.")] = 20,
        before: Annotated[
            int | None,
            strawberry.argument(
                description="Only versions older than this version number; null from the newest."
            ),
        ] = None,
    ) -> list[ProjectVersion] | None:
        check_first(first)
        session, tenant_id = await _session_and_tenant(info)
        rows = await VersionRepository(session, tenant_id).page(str(self.id), before, first)
        return [ProjectVersion.from_row(row) for row in rows]

    @strawberry.field(description="Comments in order; `threadId` groups replies.")
    async def comments(
        self,
        info: CollabInfo,
        first: PageSize = 50,
        after: PageCursor = None,
    ) -> Connection[Comment]:
        check_first(first)
        session, tenant_id = await _session_and_tenant(info)
        rows = await CommentRepository(session, tenant_id).page(str(self.id), decode_cursor(after), first + 1)
        return connection(rows, first, key=lambda row: row.id, node=Comment.from_row)


@strawberry.type(description="An entry of a workspace's activity feed.")
class ActivityEvent:
    id: strawberry.ID = strawberry.field(description="Activity entry id (opaque).")
    kind: EventKind = strawberry.field(description="What happened.")
    created_at: datetime = strawberry.field(description="When it happened (UTC).")
    project_id: strawberry.ID | None = strawberry.field(
        description="The project it concerns; null for workspace-wide events."
    )
    payload: JSON = strawberry.field(
        description="Details of the event as a JSON object; its keys depend on `kind`."
    )
    actor_id: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: ActivityRow) -> ActivityEvent:
        return cls(
            id=strawberry.ID(row.id),
            kind=EventKind(row.kind),
            created_at=row.created_at,
            project_id=strawberry.ID(row.project_id) if row.project_id else None,
            payload=JSON(row.payload),
            actor_id=row.actor_id,
        )

    @strawberry.field(description="Who did it (joined from accounts).")
    def actor(self) -> User:
        return _user(self.actor_id)


@strawberry.federation.type(
    keys=["id"], description="A shared space where a team works on projects together."
)
class Workspace:
    id: strawberry.ID = strawberry.field(description="Collaboration workspace id (opaque).")
    name: str = strawberry.field(description="The workspace's name, 1 to 100 characters.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    my_role: WorkspaceRole = strawberry.field(description="Your role here; it decides what you may do.")

    @classmethod
    def from_row(cls, row: WorkspaceRow, role: str) -> Workspace:
        return cls(
            id=strawberry.ID(row.id), name=row.name, created_at=row.created_at, my_role=WorkspaceRole(role)
        )

    @classmethod
    async def resolve_reference(cls, info: CollabInfo, id: strawberry.ID) -> Workspace | None:
        return await readable_workspace(info, str(id))

    @strawberry.field(description="Members with their roles, a page at a time.")
    async def members(
        self,
        info: CollabInfo,
        first: PageSize = 50,
        after: PageCursor = None,
    ) -> Connection[WorkspaceMember]:
        check_first(first)
        session, tenant_id = await _session_and_tenant(info)
        rows = await MemberRepository(session, tenant_id).page(str(self.id), decode_cursor(after), first + 1)
        return connection(rows, first, key=lambda row: row.id, node=WorkspaceMember.from_row)

    @strawberry.field(description="The workspace's projects (not deleted ones), a page at a time.")
    async def projects(
        self,
        info: CollabInfo,
        first: PageSize = 50,
        after: PageCursor = None,
    ) -> Connection[Project]:
        check_first(first)
        rows = await ProjectRepository.load_page(
            info.context.runtime.db,
            tenant_of(info.context.principal),
            order="id",
            limit=first + 1,
            after=decode_cursor(after),
            workspace_id=str(self.id),
        )
        return connection(rows, first, key=lambda row: row.id, node=Project.from_row)

    @strawberry.field(description="What happened here, newest first.")
    async def activity(
        self,
        info: CollabInfo,
        first: PageSize = 50,
        after: PageCursor = None,
    ) -> Connection[ActivityEvent]:
        check_first(first)
        session, tenant_id = await _session_and_tenant(info)
        rows = await ActivityRepository(session, tenant_id).page(
            str(self.id), decode_cursor(after), first + 1
        )
        return connection(rows, first, key=lambda row: row.id, node=ActivityEvent.from_row)

    @strawberry.field(description="Who is here now and what they look at.")
    async def presence(self, info: CollabInfo) -> list[PresenceEntry]:
        entries = await presence.present(info.context.runtime.redis, str(self.id))
        return [PresenceEntry.from_entry(entry) for entry in entries]


@strawberry.type(description="Something that happened in a workspace, as the stream delivers it.")
class WorkspaceEvent:
    id: strawberry.ID = strawberry.field(description="The stream id: resume with `after` set to it.")
    kind: EventKind = strawberry.field(description="What happened.")
    workspace_id: strawberry.ID = strawberry.field(description="Id of the workspace it happened in.")
    project_id: strawberry.ID | None = strawberry.field(
        description="The project it concerns; null for workspace-wide events."
    )
    at: datetime = strawberry.field(description="When it happened (UTC).")
    version: int | None = strawberry.field(description="The project's version after the change.")
    operations: JSON | None = strawberry.field(description="The JSON Patch operations of a project change.")
    payload: JSON = strawberry.field(
        description="Details of the event as a JSON object; its keys depend on `kind`."
    )
    actor_id: strawberry.Private[str]

    @classmethod
    def from_event(cls, event: StreamEvent) -> WorkspaceEvent:
        return cls(
            id=strawberry.ID(event.id),
            kind=event.kind,
            workspace_id=strawberry.ID(event.workspace_id),
            project_id=strawberry.ID(event.project_id) if event.project_id else None,
            at=event.at,
            version=event.payload.get("version"),
            operations=JSON(event.payload["operations"]) if "operations" in event.payload else None,
            payload=JSON(event.payload),
            actor_id=event.actor_id,
        )

    @strawberry.field(description="Who did it (joined from accounts).")
    def actor(self) -> User:
        return _user(self.actor_id)


async def readable_workspace(info: CollabInfo, workspace_id: str) -> Workspace | None:
    """Members only: for anyone else the workspace does not exist."""
    member = await access.membership(info.context, workspace_id)
    if member is None:
        return None
    session, tenant_id = await _session_and_tenant(info)
    row = await WorkspaceRepository(session, tenant_id).get(workspace_id)
    return Workspace.from_row(row, member.role) if row else None


async def readable_project(info: CollabInfo, project_id: str) -> Project | None:
    row = await project_loader(info.context).load(project_id)
    if row is None or await access.membership(info.context, row.workspace_id) is None:
        return None
    return Project.from_row(row)
