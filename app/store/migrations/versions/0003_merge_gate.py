"""The merge gate's columns on task rows; goals no longer end at "pull requests open".

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TEXT_COLUMNS = {"gate": 512, "candidate_sha": 64, "verdict": 32, "verdict_sha": 64}
TEXT_COLUMNS |= {"tested_sha": 64, "landed_sha": 64}
COUNT_COLUMNS = ("rounds", "flakes", "ci_runs", "conflicts")


def upgrade() -> None:
    with op.batch_alter_table("swarm_tasks") as batch:
        for name, size in TEXT_COLUMNS.items():
            batch.add_column(sa.Column(name, sa.String(size), nullable=False, server_default=""))
        for name in COUNT_COLUMNS:
            batch.add_column(sa.Column(name, sa.Integer, nullable=False, server_default="0"))
    op.create_index("ix_swarm_tasks_candidate_sha", "swarm_tasks", ["candidate_sha"])
    # A goal that stopped at "pull requests open" is not done: its pull requests still need
    # the gate. `/swarm retry` takes it on from there.
    op.execute(
        "UPDATE swarm_goals SET state = 'incomplete', "
        "note = 'Pull requests open; `/swarm retry` to gate and land them.' "
        "WHERE state = 'prs_open'"
    )


def downgrade() -> None:
    op.drop_index("ix_swarm_tasks_candidate_sha", "swarm_tasks")
    with op.batch_alter_table("swarm_tasks") as batch:
        for name in (*TEXT_COLUMNS, *COUNT_COLUMNS):
            batch.drop_column(name)
