"""The merge train: a task row says whether its pull request is in the repository's train, and
each repository has one row naming its running train workflow (a new generation starts when the
last one ended empty) and what the train looks like now, for the status comment.

Revision ID: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("swarm_tasks") as batch:
        batch.add_column(sa.Column("train", sa.String(16), nullable=False, server_default=""))
    op.create_table(
        "swarm_trains",
        sa.Column("repo", sa.String(255), primary_key=True),
        sa.Column("workflow", sa.String(512), nullable=False, server_default=""),
        sa.Column("generation", sa.Integer, nullable=False, server_default="0"),
        sa.Column("summary", sa.JSON, nullable=False, server_default="{}"),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("swarm_trains")
    with op.batch_alter_table("swarm_tasks") as batch:
        batch.drop_column("train")
