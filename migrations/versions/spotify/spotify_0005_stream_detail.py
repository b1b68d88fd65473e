"""spotify: what a listening history knows of a play (time played, source of stream)

Revision ID: spotify_0005
Revises: spotify_0004
Create Date: 2026-12-07 05:30:11.821997
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "spotify_0005"
down_revision: str | Sequence[str] | None = "spotify_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("spotify_stream_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ms_played", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("spotify_stream_event", schema=None) as batch_op:
        batch_op.drop_column("source")
        batch_op.drop_column("ms_played")
