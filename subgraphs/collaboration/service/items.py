"""Every tenant's projects and workspace memberships in keyset pages, in the shape of the
domain events that announce them, so a platform service (search) can rebuild its projection
from the source of truth (`collaboration_items`). Platform service tokens only."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

from shared.auth.principal import platform_service
from shared.context import RequestContext
from shared.errors import BadUserInput
from shared.pagination import check_page_size, decode_cursor, encode_cursor
from subgraphs.collaboration.repository import AllTenantsPage, MemberRepository, ProjectRepository

COLLABORATION_ITEMS_LIMIT = 1000
"""Largest page of `collaboration_items` (each item is one JSON value: cheap to serialise)."""


class CollaborationItemKind(enum.StrEnum):
    PROJECT = "project"
    MEMBERSHIP = "membership"


@dataclass(frozen=True)
class CollaborationItems:
    items: list[dict[str, Any]]
    """In key order: projects as `{tenant_id, project_id, workspace_id, title, content, version,
    deleted}`, memberships as `{tenant_id, workspace_id, user_id, role}`."""
    total: int
    has_next: bool
    end_cursor: str | None


def _member_cursor(workspace_id: str, user_id: str) -> str:
    return encode_cursor(json.dumps([workspace_id, user_id]))


def _member_after(cursor: str | None) -> tuple[str, str] | None:
    """The (workspace id, user id) a membership cursor names; BAD_USER_INPUT for anything else."""
    key = decode_cursor(cursor)
    if key is None:
        return None
    try:
        parts = json.loads(key)
    except ValueError:
        parts = None
    if not (isinstance(parts, list) and len(parts) == 2 and all(isinstance(part, str) for part in parts)):
        raise BadUserInput("Invalid cursor", field="after")
    return parts[0], parts[1]


def _project_item(row: dict[str, Any]) -> dict[str, Any]:
    """What `collaboration.project.created` / `.changed` carry of the project now (its
    current title, content and version), with its tenant and whether it is deleted."""
    return {
        "tenant_id": row["tenant_id"],
        "project_id": row["id"],
        "workspace_id": row["workspace_id"],
        "title": row["title"],
        "content": row["content"],
        "version": int(row["version"]),
        "deleted": bool(row["deleted"]),
    }


def _member_item(row: dict[str, Any]) -> dict[str, Any]:
    """What `collaboration.member.added` carries of a current member, with its tenant."""
    return {
        "tenant_id": row["tenant_id"],
        "workspace_id": row["workspace_id"],
        "user_id": row["user_id"],
        "role": row["role"],
    }


async def collaboration_items(
    context: RequestContext, kind: CollaborationItemKind, first: int, after: str | None
) -> CollaborationItems:
    """A keyset page of every tenant's projects (by project id, soft-deleted ones too) or
    current workspace memberships (by workspace id, then user id), each as its domain events
    describe it, so a platform service can rebuild a projection from the source. Platform
    service tokens only; one SQL statement a page, the total included."""
    platform_service(context.principal)
    check_page_size(first, COLLABORATION_ITEMS_LIMIT)
    session = await context.session()
    page: AllTenantsPage
    if kind is CollaborationItemKind.PROJECT:
        page = await ProjectRepository.page_across_all_tenants(session, decode_cursor(after), first + 1)
        items = [_project_item(row) for row in page.rows[:first]]
        end = encode_cursor(items[-1]["project_id"]) if items else None
    else:
        page = await MemberRepository.page_across_all_tenants(session, _member_after(after), first + 1)
        items = [_member_item(row) for row in page.rows[:first]]
        end = _member_cursor(items[-1]["workspace_id"], items[-1]["user_id"]) if items else None
    return CollaborationItems(items=items, total=page.total, has_next=len(page.rows) > first, end_cursor=end)
