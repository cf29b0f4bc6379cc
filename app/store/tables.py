"""The swarm's tables (their history is in `migrations/`: change both together)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

installations = sa.Table(
    "swarm_installations",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("account", sa.String(255), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("updated_at", sa.Float, nullable=False),
)

goals = sa.Table(
    "swarm_goals",
    metadata,
    sa.Column("repo", sa.String(255), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("installation_id", sa.BigInteger, nullable=False),
    sa.Column("title", sa.Text, nullable=False, default=""),
    sa.Column("requested_by", sa.String(255), nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.Column("tokens", sa.BigInteger, nullable=False, default=0),  # planner's own usage
    sa.Column("cost_usd", sa.Float, nullable=False, default=0.0),
    sa.Column("note", sa.Text, nullable=False, default=""),  # why it stopped, if it did
    sa.Column("workflow_id", sa.String(512), nullable=False, default=""),  # the active run
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

tasks = sa.Table(
    "swarm_tasks",
    metadata,
    sa.Column("repo", sa.String(255), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),  # the sub-issue
    sa.Column("goal_number", sa.Integer, nullable=False, index=True),
    sa.Column("key", sa.String(64), nullable=False),  # the plan's name for it
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("depends_on", sa.JSON, nullable=False, default=list),  # issue numbers
    sa.Column("files", sa.JSON, nullable=False, default=list),  # the plan's footprint
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("branch", sa.String(255), nullable=False, default=""),
    sa.Column("agent", sa.String(255), nullable=False, default=""),
    sa.Column("pr_number", sa.Integer, nullable=True),
    sa.Column("head_sha", sa.String(64), nullable=False, default=""),
    sa.Column("ci", sa.String(32), nullable=False, default=""),  # last check conclusion
    sa.Column("tokens", sa.BigInteger, nullable=False, default=0),
    sa.Column("cost_usd", sa.Float, nullable=False, default=0.0),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("run", sa.String(512), nullable=False, default=""),  # its latest run's workflow id
    # The merge gate's: its workflow, the candidate it tests, the verdict (bound to a head),
    # the rounds handed back, and what landed.
    sa.Column("gate", sa.String(512), nullable=False, default=""),
    sa.Column("candidate_sha", sa.String(64), nullable=False, default="", index=True),
    sa.Column("verdict", sa.String(32), nullable=False, default=""),
    sa.Column("verdict_sha", sa.String(64), nullable=False, default=""),
    sa.Column("rounds", sa.Integer, nullable=False, default=0),
    sa.Column("flakes", sa.Integer, nullable=False, default=0),
    sa.Column("ci_runs", sa.Integer, nullable=False, default=0),
    sa.Column("conflicts", sa.Integer, nullable=False, default=0),  # resolved by an agent
    sa.Column("tested_sha", sa.String(64), nullable=False, default=""),
    sa.Column("landed_sha", sa.String(64), nullable=False, default=""),
    # In the repository's merge train: "" (no), "in" (waiting for its verdict), "approved".
    sa.Column("train", sa.String(16), nullable=False, default=""),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.Column("updated_at", sa.Float, nullable=False),
)

inbox = sa.Table(
    "swarm_inbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("target", sa.String(255), nullable=False, index=True),  # e.g. task:owner/repo#12
    sa.Column("sender", sa.String(255), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False, default="message"),  # or "stop"
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("consumed_at", sa.Float, nullable=True),
)

# What a maintainer should know about a goal beyond its tasks' states (e.g. hidden text that
# was removed from an issue before any agent read it), keyed so a replay adds nothing twice.
goal_notes = sa.Table(
    "swarm_goal_notes",
    metadata,
    sa.Column("repo", sa.String(255), primary_key=True),
    sa.Column("goal_number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

# One merge train per repository: its running workflow ("" once it ended empty; the next one is
# generation + 1) and what it looks like now, for the status comment.
trains = sa.Table(
    "swarm_trains",
    metadata,
    sa.Column("repo", sa.String(255), primary_key=True),
    sa.Column("workflow", sa.String(512), nullable=False, default=""),
    sa.Column("generation", sa.Integer, nullable=False, default=0),
    sa.Column("summary", sa.JSON, nullable=False, default=dict),
    sa.Column("updated_at", sa.Float, nullable=False),
)
