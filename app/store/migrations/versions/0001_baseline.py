"""The tables as Swarm made them before migrations (with `create_all`): made here when missing.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "swarm_installations" not in existing:
        op.create_table(
            "swarm_installations",
            sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("account", sa.String(255), nullable=False),
            sa.Column("active", sa.Boolean, nullable=False),
            sa.Column("updated_at", sa.Float, nullable=False),
        )
    if "swarm_goals" not in existing:
        op.create_table(
            "swarm_goals",
            sa.Column("repo", sa.String(255), primary_key=True),
            sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("installation_id", sa.BigInteger, nullable=False),
            sa.Column("title", sa.Text, nullable=False),
            sa.Column("requested_by", sa.String(255), nullable=False),
            sa.Column("state", sa.String(32), nullable=False),
            sa.Column("version", sa.Integer, nullable=False),
            sa.Column("tokens", sa.BigInteger, nullable=False),
            sa.Column("cost_usd", sa.Float, nullable=False),
            sa.Column("note", sa.Text, nullable=False),
            sa.Column("workflow_id", sa.String(512), nullable=False),
            sa.Column("created_at", sa.Float, nullable=False),
            sa.Column("updated_at", sa.Float, nullable=False),
        )
    if "swarm_tasks" not in existing:
        op.create_table(
            "swarm_tasks",
            sa.Column("repo", sa.String(255), primary_key=True),
            sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("goal_number", sa.Integer, nullable=False, index=True),
            sa.Column("key", sa.String(64), nullable=False),
            sa.Column("title", sa.Text, nullable=False),
            sa.Column("depends_on", sa.JSON, nullable=False),
            sa.Column("state", sa.String(32), nullable=False),
            sa.Column("branch", sa.String(255), nullable=False),
            sa.Column("agent", sa.String(255), nullable=False),
            sa.Column("pr_number", sa.Integer, nullable=True),
            sa.Column("head_sha", sa.String(64), nullable=False),
            sa.Column("ci", sa.String(32), nullable=False),
            sa.Column("tokens", sa.BigInteger, nullable=False),
            sa.Column("cost_usd", sa.Float, nullable=False),
            sa.Column("note", sa.Text, nullable=False),
            sa.Column("run", sa.String(512), nullable=False),
            sa.Column("updated_at", sa.Float, nullable=False),
        )
    if "swarm_inbox" not in existing:
        op.create_table(
            "swarm_inbox",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("target", sa.String(255), nullable=False, index=True),
            sa.Column("sender", sa.String(255), nullable=False),
            sa.Column("kind", sa.String(16), nullable=False),
            sa.Column("text", sa.Text, nullable=False),
            sa.Column("created_at", sa.Float, nullable=False),
            sa.Column("consumed_at", sa.Float, nullable=True),
        )
    if "swarm_goal_notes" not in existing:
        op.create_table(
            "swarm_goal_notes",
            sa.Column("repo", sa.String(255), primary_key=True),
            sa.Column("goal_number", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("key", sa.String(255), primary_key=True),
            sa.Column("text", sa.Text, nullable=False),
            sa.Column("created_at", sa.Float, nullable=False),
        )


def downgrade() -> None:
    for table in (
        "swarm_goal_notes",
        "swarm_inbox",
        "swarm_tasks",
        "swarm_goals",
        "swarm_installations",
    ):
        op.drop_table(table)
