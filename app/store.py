"""The swarm's own durable records, beside DBOS's tables in the same database.

DBOS records what ran; these tables record what the swarm knows about GitHub (installations,
goals and their tasks) and the messages waiting for a running agent. Rows that change carry a
version and are updated by compare-and-swap: no locks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

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

T = TypeVar("T")


@dataclass(frozen=True)
class Goal:
    repo: str
    number: int
    installation_id: int
    title: str
    requested_by: str
    state: str
    version: int
    tokens: int = 0
    cost_usd: float = 0.0
    note: str = ""
    workflow_id: str = ""


# Task states in which an agent is (about to be) at work on the task.
ACTIVE_STATES = frozenset({"queued", "working"})


@dataclass(frozen=True)
class Task:
    repo: str
    number: int
    goal_number: int
    key: str
    title: str
    depends_on: list[int]
    state: str
    branch: str = ""
    agent: str = ""
    pr_number: int | None = None
    head_sha: str = ""
    ci: str = ""
    tokens: int = 0
    cost_usd: float = 0.0
    note: str = ""
    run: str = ""

    @property
    def workflow_id(self) -> str:
        return f"task:{self.repo}#{self.number}"


def _sqlalchemy_url(database_url: str) -> str:
    # psycopg 3 is the PostgreSQL driver we install; SQLAlchemy's default would be psycopg2.
    if database_url.startswith("postgresql://"):
        return "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    if database_url.startswith("postgres://"):
        return "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    return database_url


class Store:
    def __init__(self, database_url: str) -> None:
        url = _sqlalchemy_url(database_url)
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 30}
        self.engine = sa.create_engine(url, pool_pre_ping=True, **kwargs)

    def create_tables(self) -> None:
        if self.engine.dialect.name == "postgresql":
            self._create_database_if_missing()
        if self.engine.dialect.name == "sqlite":
            # Write-ahead logging is a property of the file, so DBOS's connections to it use it
            # too: readers stop blocking the writer, and a commit is one append, not a journal.
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        metadata.create_all(self.engine)

    def _create_database_if_missing(self) -> None:
        """A fresh PostgreSQL database for a new deployment, as DBOS would make it."""
        try:
            with self.engine.connect():
                return
        except sa.exc.OperationalError as exc:
            if "does not exist" not in str(exc):
                raise
        name = self.engine.url.database
        admin = sa.create_engine(
            self.engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT"
        )
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        except sa.exc.ProgrammingError as exc:  # created meanwhile by another process
            if "already exists" not in str(exc):
                raise
        finally:
            admin.dispose()

    async def _run(self, fn: Callable[[sa.Connection], T]) -> T:
        def in_transaction() -> T:
            with self.engine.begin() as conn:
                return fn(conn)

        return await asyncio.to_thread(in_transaction)

    async def ping(self) -> None:
        await self._run(lambda conn: conn.execute(sa.text("SELECT 1")).scalar())

    async def record_installation(self, installation_id: int, account: str, active: bool) -> None:
        def upsert(conn: sa.Connection) -> None:
            values = {"account": account, "active": active, "updated_at": time.time()}
            updated = conn.execute(
                installations.update().where(installations.c.id == installation_id).values(values)
            ).rowcount
            if not updated:
                conn.execute(installations.insert().values(id=installation_id, **values))

        await self._run(upsert)

    async def installation(self, installation_id: int) -> dict[str, Any] | None:
        def get(conn: sa.Connection) -> dict[str, Any] | None:
            row = conn.execute(
                installations.select().where(installations.c.id == installation_id)
            ).first()
            return dict(row._mapping) if row else None

        return await self._run(get)

    async def record_goal(
        self, repo: str, number: int, installation_id: int, title: str, requested_by: str
    ) -> Goal:
        """Record the goal once; a second call returns the existing record unchanged."""

        def insert_or_get(conn: sa.Connection) -> Goal:
            now = time.time()
            existing = conn.execute(
                goals.select().where(goals.c.repo == repo, goals.c.number == number)
            ).first()
            if existing is None:
                try:
                    with conn.begin_nested():
                        conn.execute(
                            goals.insert().values(
                                repo=repo,
                                number=number,
                                installation_id=installation_id,
                                title=title,
                                requested_by=requested_by,
                                state="requested",
                                version=1,
                                tokens=0,
                                cost_usd=0.0,
                                note="",
                                workflow_id="",
                                created_at=now,
                                updated_at=now,
                            )
                        )
                except sa.exc.IntegrityError:
                    pass  # recorded concurrently by another process: read theirs
                existing = conn.execute(
                    goals.select().where(goals.c.repo == repo, goals.c.number == number)
                ).one()
            return _goal(existing)

        return await self._run(insert_or_get)

    async def goal(self, repo: str, number: int) -> Goal | None:
        def get(conn: sa.Connection) -> Goal | None:
            row = conn.execute(
                goals.select().where(goals.c.repo == repo, goals.c.number == number)
            ).first()
            return _goal(row) if row else None

        return await self._run(get)

    async def update_goal(self, goal: Goal, **values: Any) -> Goal | None:
        """Compare-and-swap on the version: None when someone changed the goal meanwhile."""

        def swap(conn: sa.Connection) -> Goal | None:
            updated = conn.execute(
                goals.update()
                .where(
                    goals.c.repo == goal.repo,
                    goals.c.number == goal.number,
                    goals.c.version == goal.version,
                )
                .values(**values, version=goal.version + 1, updated_at=time.time())
            ).rowcount
            if not updated:
                return None
            row = conn.execute(
                goals.select().where(goals.c.repo == goal.repo, goals.c.number == goal.number)
            ).one()
            return _goal(row)

        return await self._run(swap)

    async def goals(self) -> list[Goal]:
        def all_goals(conn: sa.Connection) -> list[Goal]:
            rows = conn.execute(goals.select().order_by(goals.c.created_at)).all()
            return [_goal(row) for row in rows]

        return await self._run(all_goals)

    async def change_goal(self, repo: str, number: int, **values: Any) -> Goal:
        """Set fields of the goal, retrying the compare-and-swap on fresh state."""
        while True:
            goal = await self.goal(repo, number)
            if goal is None:
                raise KeyError(f"no goal {repo}#{number}")
            changed = await self.update_goal(goal, **values)
            if changed is not None:
                return changed

    async def add_goal_usage(self, repo: str, number: int, tokens: int, cost_usd: float) -> None:
        def add(conn: sa.Connection) -> None:
            conn.execute(
                goals.update()
                .where(goals.c.repo == repo, goals.c.number == number)
                .values(tokens=goals.c.tokens + tokens, cost_usd=goals.c.cost_usd + cost_usd)
            )

        await self._run(add)

    async def upsert_task(self, task: Task) -> Task:
        """Record a planned task once; an existing row (a replay) is returned unchanged."""

        def insert_or_get(conn: sa.Connection) -> Task:
            where = (tasks.c.repo == task.repo, tasks.c.number == task.number)
            row = conn.execute(tasks.select().where(*where)).first()
            if row is None:
                values = {k: v for k, v in task.__dict__.items()}
                conn.execute(tasks.insert().values(**values, updated_at=time.time()))
                row = conn.execute(tasks.select().where(*where)).one()
            return _task(row)

        return await self._run(insert_or_get)

    async def update_task(self, repo: str, number: int, **values: Any) -> Task:
        def update(conn: sa.Connection) -> Task:
            where = (tasks.c.repo == repo, tasks.c.number == number)
            conn.execute(tasks.update().where(*where).values(**values, updated_at=time.time()))
            return _task(conn.execute(tasks.select().where(*where)).one())

        return await self._run(update)

    async def add_task_usage(self, repo: str, number: int, tokens: int, cost_usd: float) -> None:
        def add(conn: sa.Connection) -> None:
            conn.execute(
                tasks.update()
                .where(tasks.c.repo == repo, tasks.c.number == number)
                .values(tokens=tasks.c.tokens + tokens, cost_usd=tasks.c.cost_usd + cost_usd)
            )

        await self._run(add)

    async def task(self, repo: str, number: int) -> Task | None:
        def get(conn: sa.Connection) -> Task | None:
            row = conn.execute(
                tasks.select().where(tasks.c.repo == repo, tasks.c.number == number)
            ).first()
            return _task(row) if row else None

        return await self._run(get)

    async def task_by_pr(self, repo: str, pr_number: int) -> Task | None:
        def get(conn: sa.Connection) -> Task | None:
            row = conn.execute(
                tasks.select().where(tasks.c.repo == repo, tasks.c.pr_number == pr_number)
            ).first()
            return _task(row) if row else None

        return await self._run(get)

    async def tasks_of(self, repo: str, goal_number: int | None = None) -> list[Task]:
        def select(conn: sa.Connection) -> list[Task]:
            query = tasks.select().where(tasks.c.repo == repo)
            if goal_number is not None:
                query = query.where(tasks.c.goal_number == goal_number)
            return [_task(row) for row in conn.execute(query.order_by(tasks.c.number)).all()]

        return await self._run(select)

    async def repo_usage(self, repo: str) -> tuple[int, float]:
        """Tokens and dollars spent on the repository so far (planners and workers)."""

        def total(conn: sa.Connection) -> tuple[int, float]:
            t = conn.execute(
                sa.select(
                    sa.func.coalesce(sa.func.sum(tasks.c.tokens), 0),
                    sa.func.coalesce(sa.func.sum(tasks.c.cost_usd), 0.0),
                ).where(tasks.c.repo == repo)
            ).one()
            g = conn.execute(
                sa.select(
                    sa.func.coalesce(sa.func.sum(goals.c.tokens), 0),
                    sa.func.coalesce(sa.func.sum(goals.c.cost_usd), 0.0),
                ).where(goals.c.repo == repo)
            ).one()
            return int(t[0]) + int(g[0]), float(t[1]) + float(g[1])

        return await self._run(total)

    async def add_goal_note(self, repo: str, goal_number: int, key: str, text: str) -> None:
        """Record a note once per key; the same key again changes nothing."""

        def insert(conn: sa.Connection) -> None:
            where = (
                goal_notes.c.repo == repo,
                goal_notes.c.goal_number == goal_number,
                goal_notes.c.key == key,
            )
            if conn.execute(goal_notes.select().where(*where)).first() is not None:
                return
            try:
                with conn.begin_nested():
                    conn.execute(
                        goal_notes.insert().values(
                            repo=repo, goal_number=goal_number, key=key, text=text,
                            created_at=time.time(),
                        )
                    )  # fmt: skip
            except sa.exc.IntegrityError:
                pass  # recorded concurrently

        await self._run(insert)

    async def goal_notes(self, repo: str, goal_number: int) -> list[str]:
        def select(conn: sa.Connection) -> list[str]:
            rows = conn.execute(
                goal_notes.select()
                .where(goal_notes.c.repo == repo, goal_notes.c.goal_number == goal_number)
                .order_by(goal_notes.c.created_at, goal_notes.c.key)
            ).all()
            return [row.text for row in rows]

        return await self._run(select)

    async def post_message(self, target: str, sender: str, text: str, kind: str = "message") -> int:
        def insert(conn: sa.Connection) -> int:
            result = conn.execute(
                inbox.insert().values(
                    target=target, sender=sender, kind=kind, text=text, created_at=time.time()
                )
            )
            return int(result.inserted_primary_key[0])  # type: ignore[index]

        return await self._run(insert)

    async def take_messages(self, target: str) -> list[tuple[str, str, str]]:
        """Claim the unread messages for `target` (sender, kind, text), oldest first."""

        def claim(conn: sa.Connection) -> list[tuple[str, str, str]]:
            rows = conn.execute(
                inbox.select()
                .where(inbox.c.target == target, inbox.c.consumed_at.is_(None))
                .order_by(inbox.c.id)
            ).all()
            taken = []
            for row in rows:
                # Compare-and-swap per row: a concurrent reader claims each message once.
                claimed = conn.execute(
                    inbox.update()
                    .where(inbox.c.id == row.id, inbox.c.consumed_at.is_(None))
                    .values(consumed_at=time.time())
                ).rowcount
                if claimed:
                    taken.append((row.sender, row.kind, row.text))
            return taken

        return await self._run(claim)


def _goal(row: sa.Row[Any]) -> Goal:
    m = row._mapping
    return Goal(
        repo=m["repo"],
        number=m["number"],
        installation_id=m["installation_id"],
        title=m["title"],
        requested_by=m["requested_by"],
        state=m["state"],
        version=m["version"],
        tokens=m["tokens"] or 0,
        cost_usd=m["cost_usd"] or 0.0,
        note=m["note"] or "",
        workflow_id=m["workflow_id"] or "",
    )


def _task(row: sa.Row[Any]) -> Task:
    m = row._mapping
    return Task(**{name: m[name] for name in Task.__dataclass_fields__})
