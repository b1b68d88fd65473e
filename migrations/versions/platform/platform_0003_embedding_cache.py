"""embedding cache

Revision ID: platform_0003
Revises: platform_0002
Create Date: 2026-12-02 18:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import shared.db.mixins

revision: str = "platform_0003"
down_revision: str | Sequence[str] | None = "platform_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "embedding_cache",
        sa.Column("model_version", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", shared.db.mixins.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("model_version", "content_hash"),
    )


def downgrade() -> None:
    op.drop_table("embedding_cache")
