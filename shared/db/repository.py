"""Tenant-scoped data access. Every query a repository builds is filtered by tenant and
hides soft-deleted rows unless the caller asks for them by name."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import Select, func, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel
from sqlmodel import select as sqlmodel_select
from sqlmodel.sql.expression import SelectOfScalar

from shared.db.engine import Database
from shared.db.mixins import utcnow
from shared.errors import Conflict, NotFound

M = TypeVar("M", bound=SQLModel)


def changed_copy(row: M, **changes: Any) -> M:
    """A transient copy of `row` with `changes`: the answer to a write made by an UPDATE
    statement, built without reading the row again."""
    values = {name: getattr(row, name) for name in type(row).model_fields}
    return type(row)(**{**values, **changes})


class TenantRepository(Generic[M]):
    model: ClassVar[type[Any]]

    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        if not tenant_id:
            raise ValueError("a tenant-scoped repository needs a tenant id")
        self.session = session
        self.tenant_id = tenant_id

    def select(self, *, include_deleted: bool = False) -> SelectOfScalar[M]:
        stmt: SelectOfScalar[M] = sqlmodel_select(self.model).where(self.model.tenant_id == self.tenant_id)
        if not include_deleted and hasattr(self.model, "deleted_at"):
            stmt = stmt.where(self.model.deleted_at.is_(None))
        return stmt

    async def get(self, id: str, *, include_deleted: bool = False) -> M | None:
        stmt = self.select(include_deleted=include_deleted).where(self.model.id == id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def require(self, id: str) -> M:
        row = await self.get(id)
        if row is None:
            raise NotFound(f"{self.model.__name__} not found", id=id)
        return row

    async def get_many(self, ids: Iterable[str]) -> dict[str, M]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        stmt = self.select().where(self.model.id.in_(wanted))
        return {row.id: row for row in (await self.session.execute(stmt)).scalars()}  # type: ignore[attr-defined]

    @classmethod
    async def load_where(
        cls, database: Database, tenant_id: str, key: str, values: Iterable[str], **equals: Any
    ) -> Sequence[M]:
        """The rows whose `key` is one of `values` (and that match `equals`), for the loaders
        of the request path, off the ORM (`shared/db/keyed.py`); the rows are read-only."""
        wanted = list(dict.fromkeys(values))
        if not database.keyed.in_process:
            async with database.read() as session:
                return await cls(session, tenant_id).rows_where(key, wanted, **equals)
        return await database.keyed.fetch(cls.model, tenant_id, key=key, values=wanted, equals=equals)

    @classmethod
    async def load_many(cls, database: Database, tenant_id: str, ids: Iterable[str]) -> dict[str, M]:
        """`get_many` for the loaders (`load_where` on the id)."""
        return {row.id: row for row in await cls.load_where(database, tenant_id, "id", ids)}  # type: ignore[attr-defined]

    async def rows_where(self, key: str, values: Sequence[str], **equals: Any) -> Sequence[M]:
        if not values:
            return []
        stmt = self.select().where(getattr(self.model, key).in_(values))
        stmt = stmt.where(*(getattr(self.model, name) == value for name, value in equals.items()))
        return (await self.session.execute(stmt)).scalars().all()

    @classmethod
    async def load_page(
        cls,
        database: Database,
        tenant_id: str,
        *,
        order: str,
        limit: int,
        after: str | None = None,
        **equals: Any,
    ) -> Sequence[M]:
        """A keyset page (rows matching `equals`, by `order`, after `after`) for the lists of
        the request path, off the ORM (`shared/db/keyed.py`); the rows are read-only."""
        if not database.keyed.in_process:
            async with database.read() as session:
                return await cls(session, tenant_id).page_where(order, limit, after, **equals)
        keyed = database.keyed
        return await keyed.page(cls.model, tenant_id, order=order, limit=limit, after=after, equals=equals)

    async def page_where(
        self, order: str, limit: int, after: str | None = None, **equals: Any
    ) -> Sequence[M]:
        column = getattr(self.model, order)
        stmt = self.select().where(*(getattr(self.model, name) == value for name, value in equals.items()))
        if after is not None:
            stmt = stmt.where(column > after)
        return (await self.session.execute(stmt.order_by(column).limit(limit))).scalars().all()

    async def list(self, *filters: Any, limit: int = 100, offset: int = 0) -> Sequence[M]:
        stmt = self.select().where(*filters).order_by(self.model.id).limit(limit).offset(offset)
        return (await self.session.execute(stmt)).scalars().all()

    async def count(self, *filters: Any) -> int:
        stmt = select(func.count()).select_from(self.select().where(*filters).subquery())
        return int((await self.session.execute(stmt)).scalar_one())

    def add(self, row: M) -> M:
        row_tenant = getattr(row, "tenant_id", None)
        if row_tenant and row_tenant != self.tenant_id:
            raise ValueError("row belongs to another tenant")
        row.tenant_id = self.tenant_id  # type: ignore[attr-defined]
        self.session.add(row)
        return row

    async def soft_delete(self, row: M, *, by: str) -> None:
        row.deleted_at = utcnow()  # type: ignore[attr-defined]
        row.deleted_by = by  # type: ignore[attr-defined]
        self.session.add(row)
        await self.session.flush()

    async def restore(self, row: M) -> None:
        row.deleted_at = None  # type: ignore[attr-defined]
        row.deleted_by = None  # type: ignore[attr-defined]
        self.session.add(row)
        await self.session.flush()

    async def set_deleted(self, id: str, by: str | None, at: datetime | None) -> bool:
        """Soft-deletes (`at` set) or restores (`at` None) a row that is in the other state,
        by one UPDATE; False when it is not (someone else was first)."""
        model = self.model
        values: dict[str, Any] = {"deleted_at": at, "deleted_by": by}
        if hasattr(model, "updated_at"):
            values["updated_at"] = utcnow()
        stmt = (
            update(model)
            .where(model.tenant_id == self.tenant_id, model.id == id)
            .where(model.deleted_at.is_(None) if at is not None else model.deleted_at.is_not(None))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool((await self.session.execute(stmt)).rowcount)  # type: ignore[attr-defined]

    async def update_versioned(self, id: str, expected_version: int, **changes: Any) -> int:
        """Compare-and-set on `version`: a stale writer gets CONFLICT and changes nothing."""
        stmt = (
            update(self.model)
            .where(
                self.model.tenant_id == self.tenant_id,
                self.model.id == id,
                self.model.version == expected_version,
            )
            .values(**changes, version=expected_version + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        if result.rowcount != 1:  # type: ignore[attr-defined]
            current = await self.get(id)
            if current is None:
                raise NotFound(f"{self.model.__name__} not found", id=id)
            raise Conflict(
                f"{self.model.__name__} was changed by someone else",
                currentVersion=current.version,  # type: ignore[attr-defined]
            )
        return expected_version + 1


AnySelect = Select[*tuple[Any, ...]]
"""A SELECT of any columns (what `page_with_total` takes)."""


async def page_with_total(
    session: AsyncSession, page: AnySelect, counted: AnySelect, order: Sequence[str]
) -> tuple[list[dict[str, Any]], int]:
    """A keyset page and how many rows there are in all, in one statement: the count, left
    joined with the page, so an empty page still brings its total. `page` is limited and
    ordered; `order` names its columns again for the outer query (the first one is never
    NULL in a row of the page); `counted` selects one count."""
    rows = page.subquery("page")
    total = counted.subquery("total")
    stmt = (
        select(total.c[0].label("_total"), *rows.c)
        .select_from(total.outerjoin(rows, true()))
        .order_by(*(rows.c[name] for name in order))
    )
    found: list[dict[str, Any]] = []
    count = 0
    for row in (await session.execute(stmt)).mappings():
        count = int(row["_total"])
        if row[order[0]] is not None:
            found.append({name: row[name] for name in rows.c.keys()})
    return found, count


async def insert_new(
    session: AsyncSession, model: type[Any], rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> int:
    """Inserts `rows`, skipping those whose `keys` (a unique constraint's columns) are already
    stored, on SQLite and PostgreSQL alike; returns how many were new. One cached statement
    run over the rows (SQLAlchemy's insertmanyvalues batches it, RETURNING counts the new
    ones): a multi-row VALUES clause is compiled afresh for every call, which cost 8x here."""
    if not rows:
        return 0
    bind = session.bind
    insert: Any = (
        postgresql.insert if bind is not None and bind.dialect.name == "postgresql" else sqlite.insert
    )
    table = model.__table__
    statement = insert(table).on_conflict_do_nothing(index_elements=list(keys)).returning(table.c[keys[0]])
    result = await session.execute(statement, list(rows))
    return len(result.all())
