"""Migrations, not create_all, build the schema: and they agree with the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from casbin_async_sqlalchemy_adapter.adapter import Base as CasbinBase
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from gateway.migrate import alembic_config
from gateway.subgraphs import SUBGRAPHS, import_all_models


async def test_models_and_migrations_agree(database_url):
    import_all_models()

    merged = MetaData()
    for metadata in (SQLModel.metadata, CasbinBase.metadata):
        for table in metadata.tables.values():
            table.to_metadata(merged)

    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, merged)

    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            changes = await connection.run_sync(diff)
    finally:
        await engine.dispose()
    assert changes == []


def test_one_branch_per_subgraph_plus_platform_and_registry():
    script = ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite://"))
    labels = {label for revision in script.walk_revisions() for label in revision.branch_labels}
    assert labels == {"platform", "registry", *SUBGRAPHS}
    assert len(script.get_heads()) == len(labels)
