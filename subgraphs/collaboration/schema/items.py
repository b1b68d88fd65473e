"""Every tenant's projects and workspace memberships in pages, for platform services that
rebuild a projection from the source (`collaborationItems`)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from shared.pagination import PageCursor, PageInfo
from subgraphs.collaboration.service import items
from subgraphs.collaboration.service.items import CollaborationItemKind
from subgraphs.collaboration.types import CollabInfo, CollaborationItemPage


@strawberry.type
class ItemsQuery:
    @strawberry.field(
        description="Every tenant's projects (soft-deleted ones too) or current workspace memberships "
        "in pages (keyset, stable while they grow), each as its domain events describe it, for "
        "platform services that rebuild a projection (search); platform service tokens (acting for "
        "no tenant) only."
    )
    async def collaboration_items(
        self,
        info: CollabInfo,
        kind: Annotated[CollaborationItemKind, strawberry.argument(description="Which items to list.")],
        first: Annotated[
            int, strawberry.argument(description=f"Page size, 1 to {items.COLLABORATION_ITEMS_LIMIT}.")
        ] = 200,
        after: PageCursor = None,
    ) -> CollaborationItemPage:
        page = await items.collaboration_items(info.context, kind, first, after)
        return CollaborationItemPage(
            items=[JSON(item) for item in page.items],
            total_count=page.total,
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
        )
