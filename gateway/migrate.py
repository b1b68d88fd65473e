"""Alembic with one branch per subgraph (plus `platform` for shared tables)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

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
