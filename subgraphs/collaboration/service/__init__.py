"""The rules of collaboration, one module per sub-domain (as in `schema/`); no GraphQL here.
Each change works in the caller's unit of work: it records its activity (appended to the
workspace's stream after commit, `activity`) and emits its domain events there. What the
caller was granted on a resource (`ProjectAccess`, `CommentAccess`, a membership) comes from
the field's declared permission, already read: a change reads its aggregate once."""

from subgraphs.collaboration.service.comments import add_comment, set_resolved
from subgraphs.collaboration.service.projects import (
    create_project,
    restore_version,
    set_project_deleted,
    update_project,
)
from subgraphs.collaboration.service.workspaces import (
    accept_invitation,
    change_role,
    create_invitation,
    create_workspace,
    follow_workspace,
    remove_member,
    update_presence,
)

__all__ = [
    "accept_invitation",
    "add_comment",
    "change_role",
    "create_invitation",
    "create_project",
    "create_workspace",
    "follow_workspace",
    "remove_member",
    "restore_version",
    "set_project_deleted",
    "set_resolved",
    "update_presence",
    "update_project",
]
