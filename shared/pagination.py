"""Cursor-paginated connections (keyset on an ordered id; cursors are opaque)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Annotated, Generic, TypeVar

import strawberry

from shared.errors import BadUserInput

T = TypeVar("T")
R = TypeVar("R")
MAX_PAGE = 100

PageSize = Annotated[int, strawberry.argument(description="Page size, 1 to 100.")]
"""The `first` argument of a connection field."""
PageCursor = Annotated[str | None, strawberry.argument(description="Cursor to continue after (`endCursor`).")]
"""The `after` argument of a connection field."""


# Value types every subgraph defines the same way: shareable in the supergraph.
@strawberry.federation.type(shareable=True, description="Where a page ends and whether more follow.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="True when another page follows: ask again with `after: endCursor`."
    )
    end_cursor: str | None = strawberry.field(
        description="Opaque cursor of this page's last item, to pass as `after`; null when the page is empty."
    )


@strawberry.federation.type(shareable=True, description="One item of a connection with its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(
        description="Opaque cursor of this item, to pass as `after` to continue from it."
    )
    node: T = strawberry.field(description="The item itself.")


@strawberry.federation.type(shareable=True, description="A page of items.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(
        description="The items of this page, in order, each with its cursor."
    )
    page_info: PageInfo = strawberry.field(
        description="Whether more items follow, and the cursor to fetch them."
    )


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(f"k:{key}".encode()).decode()


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadUserInput("Invalid cursor", field="after") from exc
    if not raw.startswith("k:"):
        raise BadUserInput("Invalid cursor", field="after")
    return raw[2:]


def check_page_size(first: int, limit: int) -> None:
    if not 1 <= first <= limit:
        raise BadUserInput(f"first must be between 1 and {limit}", field="first", limit=limit)


def check_first(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise BadUserInput(f"first must be between 1 and {MAX_PAGE}", field="first")
    return first


def connection(
    rows: Sequence[R], first: int, key: Callable[[R], str], node: Callable[[R], T]
) -> Connection[T]:
    """`rows` holds up to first + 1 rows: the extra one only says a next page exists."""
    page = rows[:first]
    edges = [Edge(cursor=encode_cursor(key(row)), node=node(row)) for row in page]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=len(rows) > first, end_cursor=edges[-1].cursor if edges else None),
    )
