"""Task rows carry the files the plan expects each task to touch: its footprint, which the goal
reads to avoid starting two tasks at once on the same files.

Revision ID: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("swarm_tasks") as batch:
        batch.add_column(sa.Column("files", sa.JSON, nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("swarm_tasks") as batch:
        batch.drop_column("files")
