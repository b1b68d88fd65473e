"""search: projected documents and workspace memberships

Revision ID: search_0001
Revises:
Create Date: 2026-12-02 13:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import shared.db.mixins

revision: str = "search_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("search",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_document",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=96), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("entity_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("workspace_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("source_version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.Column("changed_at", shared.db.mixins.UTCDateTime(timezone=True), nullable=False),
        sa.Column("indexed_at", shared.db.mixins.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("search_document", schema=None) as batch_op:
        batch_op.create_index("ix_search_document_pending", ["pending", "changed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_search_document_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_search_document_workspace_id"), ["workspace_id"], unique=False)
    op.create_table(
        "search_workspace_member",
        sa.Column("workspace_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "user_id"),
    )
    with op.batch_alter_table("search_workspace_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_workspace_member_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_search_workspace_member_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    op.drop_table("search_workspace_member")
    op.drop_table("search_document")
