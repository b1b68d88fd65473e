"""covering indexes for track and playlist listeners

The plays' (track, day) and (playlist, day) indexes also carry whether the play is a stream
and its listener, so a track's or a playlist's distinct listeners are counted from the index
without reading the plays' rows.

Revision ID: analytics_0003
Revises: analytics_0002
Create Date: 2026-12-07 12:55:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "analytics_0003"
down_revision: str | Sequence[str] | None = "analytics_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("analytics_play", schema=None) as batch_op:
        batch_op.create_index(
            "ix_analytics_play_track_listeners", ["track_id", "day", "stream", "listener"], unique=False
        )
        batch_op.create_index(
            "ix_analytics_play_context_listeners",
            ["context_uri", "day", "track_id", "stream", "listener"],
            unique=False,
        )
        batch_op.drop_index("ix_analytics_play_track_day")
        batch_op.drop_index("ix_analytics_play_context_day")


def downgrade() -> None:
    with op.batch_alter_table("analytics_play", schema=None) as batch_op:
        batch_op.create_index("ix_analytics_play_context_day", ["context_uri", "day"], unique=False)
        batch_op.create_index("ix_analytics_play_track_day", ["track_id", "day"], unique=False)
        batch_op.drop_index("ix_analytics_play_context_listeners")
        batch_op.drop_index("ix_analytics_play_track_listeners")
