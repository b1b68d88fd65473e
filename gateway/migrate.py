"""Alembic with one branch per subgraph (plus `platform` for shared tables)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.subgraphs import BRANCHES

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    locations = [MIGRATIONS_DIR / "versions" / name for name in BRANCHES]
    config.set_main_option("version_locations", " ".join(str(path) for path in locations))
    config.set_main_option("version_path_separator", "space")
    config.set_main_option("path_separator", "space")
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, target: str = "heads") -> None:
    command.upgrade(alembic_config(database_url), target)


async def missing_revisions(database_url: str) -> list[str]:
    """The newest revisions of our branches the database has not reached (empty when it is
    up to date, or ahead of this code, e.g. during a rollback)."""
    script = ScriptDirectory.from_config(alembic_config(database_url))
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(
                lambda sync: set(MigrationContext.configure(sync).get_current_heads())
            )
    finally:
        await engine.dispose()
    try:
        reached = {revision.revision for revision in script.iterate_revisions(tuple(current), "base")}
    except CommandError:
        return []  # the database knows revisions this code does not: it is ahead
    return sorted(set(script.get_heads()) - reached)
