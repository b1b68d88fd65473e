"""Alembic environment: async engines, every subgraph's models, one branch per subgraph.
`-x branch=NAME` limits autogenerate to that branch's tables."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from casbin_async_sqlalchemy_adapter.adapter import Base as CasbinBase
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from gateway.subgraphs import branch_of_table, import_all_models

import_all_models()
config = context.config
target_metadata = [SQLModel.metadata, CasbinBase.metadata]
only_branch = context.get_x_argument(as_dictionary=True).get("branch")


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if type_ == "table" and only_branch:
        return branch_of_table(str(name)) == only_branch
    table = getattr(obj, "table", None)
    if table is not None and only_branch:
        return branch_of_table(str(table.name)) == only_branch
    return True


def _configure(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run() -> None:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    engine = create_async_engine(str(url))
    async with engine.connect() as connection:
        await connection.run_sync(_configure)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run against a database")
asyncio.run(_run())
