"""The swarm's own durable records, beside DBOS's tables in the same database.

DBOS records what ran; these tables record what the swarm knows about GitHub (installations,
goals and their tasks) and the messages waiting for a running agent. Goal and task rows carry a
version: every change reads the row, checks the move against `app.domain.states`, and writes
only if the version is still the one it read (compare-and-swap, retried on fresh state). Many
processes may write the same row; none holds a lock, and none overwrites another's move.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa

from app.clock import SYSTEM_CLOCK, Clock
from app.domain.records import Goal, Task
from app.domain.states import GoalState, IllegalMove, TaskState, can_move_goal, can_move_task
from app.store.migrate import migrate
from app.store.tables import goal_notes, goals, inbox, installations, tasks, trains

T = TypeVar("T")


def _sqlalchemy_url(database_url: str) -> str:
    # psycopg 3 is the PostgreSQL driver we install; SQLAlchemy's default would be psycopg2.
    if database_url.startswith("postgresql://"):
        return "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    if database_url.startswith("postgres://"):
        return "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    return database_url


class Store:
    def __init__(self, database_url: str, clock: Clock = SYSTEM_CLOCK) -> None:
        url = _sqlalchemy_url(database_url)
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 30}
        self.engine = sa.create_engine(url, pool_pre_ping=True, **kwargs)
        self.clock = clock

    def migrate(self) -> str:
        """Bring the database to this release's schema; returns its revision."""
        if self.engine.dialect.name == "postgresql":
            self._create_database_if_missing()
        return migrate(self.engine)

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
        except sa.exc.IntegrityError:  # the same race, lost inside PostgreSQL's own catalogue
            pass
        finally:
            admin.dispose()

    async def _run(self, fn: Callable[[sa.Connection], T]) -> T:
        def in_transaction() -> T:
            with self.engine.begin() as conn:
                return fn(conn)

        return await asyncio.to_thread(in_transaction)

    async def ping(self) -> None:
        await self._run(lambda conn: conn.execute(sa.text("SELECT 1")).scalar())

    # Installations

    async def record_installation(self, installation_id: int, account: str, active: bool) -> None:
        def upsert(conn: sa.Connection) -> None:
            values = {"account": account, "active": active, "updated_at": self.clock.now()}
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

    # Goals

    async def record_goal(
        self, repo: str, number: int, installation_id: int, title: str, requested_by: str
    ) -> Goal:
        """Record the goal once; a second call returns the existing record unchanged."""

        def insert_or_get(conn: sa.Connection) -> Goal:
            where = (goals.c.repo == repo, goals.c.number == number)
            if conn.execute(goals.select().where(*where)).first() is None:
                now = self.clock.now()
                try:
                    with conn.begin_nested():
                        conn.execute(
                            goals.insert().values(
                                repo=repo, number=number, installation_id=installation_id,
                                title=title, requested_by=requested_by,
                                state=GoalState.REQUESTED, version=1, tokens=0, cost_usd=0.0,
                                note="", workflow_id="", created_at=now, updated_at=now,
                            )
                        )  # fmt: skip
                except sa.exc.IntegrityError:
                    pass  # recorded concurrently by another process: read theirs
            return _goal(conn.execute(goals.select().where(*where)).one())

        return await self._run(insert_or_get)

    async def goal(self, repo: str, number: int) -> Goal | None:
        def get(conn: sa.Connection) -> Goal | None:
            row = conn.execute(
                goals.select().where(goals.c.repo == repo, goals.c.number == number)
            ).first()
            return _goal(row) if row else None

        return await self._run(get)

    async def goals(self) -> list[Goal]:
        def all_goals(conn: sa.Connection) -> list[Goal]:
            rows = conn.execute(goals.select().order_by(goals.c.created_at)).all()
            return [_goal(row) for row in rows]

        return await self._run(all_goals)

    async def move_goal(
        self, repo: str, number: int, state: GoalState, *,
        leaving: frozenset[GoalState] | None = None, **values: Any,
    ) -> Goal:  # fmt: skip
        """Move the goal to `state` (with other fields); IllegalMove if it cannot go there now,
        or — with `leaving` — if it is no longer in one of the states the writer left it in (a
        move the table allows, like a retry's, must not revive a goal stopped meanwhile)."""
        return await self._swap_goal(repo, number, {**values, "state": state}, leaving)

    async def change_goal(self, repo: str, number: int, **values: Any) -> Goal:
        """Set fields of the goal other than its state."""
        assert "state" not in values, "a change of state is a move: move_goal"
        return await self._swap_goal(repo, number, values)

    async def _swap_goal(
        self, repo: str, number: int, values: dict[str, Any],
        leaving: frozenset[GoalState] | None = None,
    ) -> Goal:  # fmt: skip
        where = (goals.c.repo == repo, goals.c.number == number)

        def check(row: sa.Row[Any]) -> None:
            if "state" not in values:
                return
            current = GoalState(row.state)
            stale = leaving is not None and current not in leaving and current != values["state"]
            if stale or not can_move_goal(current, values["state"]):
                raise IllegalMove(f"goal {repo}#{number}", row.state, values["state"])

        return _goal(await self._swap(goals, where, check, values))

    async def add_goal_usage(self, repo: str, number: int, tokens: int, cost_usd: float) -> None:
        def add(conn: sa.Connection) -> None:
            conn.execute(
                goals.update()
                .where(goals.c.repo == repo, goals.c.number == number)
                .values(tokens=goals.c.tokens + tokens, cost_usd=goals.c.cost_usd + cost_usd)
            )

        await self._run(add)

    # Tasks

    async def upsert_task(self, task: Task) -> Task:
        """Record a planned task once; an existing row (a replay) is returned unchanged."""

        def insert_or_get(conn: sa.Connection) -> Task:
            where = (tasks.c.repo == task.repo, tasks.c.number == task.number)
            if conn.execute(tasks.select().where(*where)).first() is None:
                values = {k: v for k, v in task.__dict__.items() if k != "version"}
                try:
                    with conn.begin_nested():
                        conn.execute(
                            tasks.insert().values(**values, version=1, updated_at=self.clock.now())
                        )
                except sa.exc.IntegrityError:
                    pass  # recorded concurrently by another process: read theirs
            return _task(conn.execute(tasks.select().where(*where)).one())

        return await self._run(insert_or_get)

    async def move_task(self, repo: str, number: int, state: TaskState, **values: Any) -> Task:
        """Move the task to `state` (with other fields); IllegalMove if it cannot go there now."""
        return await self._swap_task(repo, number, {**values, "state": state})

    async def change_task(self, repo: str, number: int, **values: Any) -> Task:
        """Set fields of the task other than its state."""
        assert "state" not in values, "a change of state is a move: move_task"
        return await self._swap_task(repo, number, values)

    async def _swap_task(self, repo: str, number: int, values: dict[str, Any]) -> Task:
        where = (tasks.c.repo == repo, tasks.c.number == number)

        def check(row: sa.Row[Any]) -> None:
            if "state" in values and not can_move_task(TaskState(row.state), values["state"]):
                raise IllegalMove(f"task {repo}#{number}", row.state, values["state"])

        return _task(await self._swap(tasks, where, check, values))

    async def _swap(
        self,
        table: sa.Table,
        where: tuple[sa.ColumnElement[bool], ...],
        check: Callable[[sa.Row[Any]], None],
        values: dict[str, Any],
    ) -> sa.Row[Any]:
        """Read, check, write if the version is unchanged; on a lost race, again on fresh state.

        Each attempt is its own short transaction, so no lock is held across the check."""

        def attempt(conn: sa.Connection) -> sa.Row[Any] | None:
            row = conn.execute(table.select().where(*where)).first()
            if row is None:
                raise KeyError(f"no row in {table.name} where {where}")
            check(row)
            changed = conn.execute(
                table.update()
                .where(*where, table.c.version == row.version)
                .values(**values, version=row.version + 1, updated_at=self.clock.now())
            ).rowcount
            return conn.execute(table.select().where(*where)).one() if changed else None

        while True:
            row = await self._run(attempt)
            if row is not None:
                return row

    async def add_task_usage(self, repo: str, number: int, tokens: int, cost_usd: float) -> None:
        def add(conn: sa.Connection) -> None:
            conn.execute(
                tasks.update()
                .where(tasks.c.repo == repo, tasks.c.number == number)
                .values(tokens=tasks.c.tokens + tokens, cost_usd=tasks.c.cost_usd + cost_usd)
            )

        await self._run(add)

    COUNTERS = frozenset({"rounds", "flakes", "ci_runs", "conflicts"})

    async def count_task(self, repo: str, number: int, counter: str, by: int = 1) -> None:
        """Add to one of the task's counters in place (no read, so no lost update)."""
        if counter not in self.COUNTERS:
            raise ValueError(f"not a task counter: {counter}")
        column = tasks.c[counter]

        def add(conn: sa.Connection) -> None:
            conn.execute(
                tasks.update()
                .where(tasks.c.repo == repo, tasks.c.number == number)
                .values({column: column + by, tasks.c.version: tasks.c.version + 1})
            )

        await self._run(add)

    async def tasks_by_candidate(self, repo: str, sha: str) -> list[Task]:
        """The tasks whose gate tests the candidate `sha`."""

        def select(conn: sa.Connection) -> list[Task]:
            query = tasks.select().where(tasks.c.repo == repo, tasks.c.candidate_sha == sha)
            return [_task(row) for row in conn.execute(query)]

        return await self._run(select)

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
            spent = [
                conn.execute(
                    sa.select(
                        sa.func.coalesce(sa.func.sum(table.c.tokens), 0),
                        sa.func.coalesce(sa.func.sum(table.c.cost_usd), 0.0),
                    ).where(table.c.repo == repo)
                ).one()
                for table in (tasks, goals)
            ]
            return sum(int(s[0]) for s in spent), sum(float(s[1]) for s in spent)

        return await self._run(total)

    # Notes on goals

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
                            created_at=self.clock.now(),
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

    # The merge train

    async def train(self, repo: str) -> tuple[str, int, dict[str, Any]]:
        """The repository's train: its running workflow ("" if none), generation, summary."""

        def get(conn: sa.Connection) -> tuple[str, int, dict[str, Any]]:
            row = conn.execute(trains.select().where(trains.c.repo == repo)).first()
            return (row.workflow, row.generation, dict(row.summary or {})) if row else ("", 0, {})

        return await self._run(get)

    async def claim_train(self, repo: str, generation: int, workflow: str) -> bool:
        """Make `workflow` the repository's train if the train is still at `generation`
        (compare-and-swap: two gates starting a train at once start one)."""

        def swap(conn: sa.Connection) -> bool:
            values = {"workflow": workflow, "generation": generation + 1}
            if generation == 0:
                try:
                    with conn.begin_nested():
                        conn.execute(
                            trains.insert().values(repo=repo, updated_at=self.clock.now(), **values)
                        )
                    return True
                except sa.exc.IntegrityError:
                    return False
            changed = conn.execute(
                trains.update()
                .where(trains.c.repo == repo, trains.c.generation == generation)
                .values(**values, updated_at=self.clock.now())
            ).rowcount
            return bool(changed)

        return await self._run(swap)

    async def end_train(self, repo: str, workflow: str) -> bool:
        """The train `workflow` ends, unless a pull request joined it meanwhile: one statement,
        so a gate that puts a pull request in the train either is seen here or finds the train
        ended and starts the next one."""

        def end(conn: sa.Connection) -> bool:
            waiting = (
                sa.select(tasks.c.number).where(tasks.c.repo == repo, tasks.c.train != "").exists()
            )
            changed = conn.execute(
                trains.update()
                .where(trains.c.repo == repo, trains.c.workflow == workflow, ~waiting)
                .values(workflow="", summary={}, updated_at=self.clock.now())
            ).rowcount
            return bool(changed)

        return await self._run(end)

    async def save_train(self, repo: str, workflow: str, summary: dict[str, Any]) -> None:
        def save(conn: sa.Connection) -> None:
            conn.execute(
                trains.update()
                .where(trains.c.repo == repo, trains.c.workflow == workflow)
                .values(summary=summary, updated_at=self.clock.now())
            )

        await self._run(save)

    async def set_train(
        self, repo: str, number: int, head: str, value: str, was: tuple[str, ...] | None = None
    ) -> bool:
        """Put the task's pull request in the train (or take it out: ""), only while its head is
        `head` (and its place is one of `was`): one statement, so a late writer loses."""

        def swap(conn: sa.Connection) -> bool:
            where = [tasks.c.repo == repo, tasks.c.number == number, tasks.c.head_sha == head]
            if was is not None:
                where.append(tasks.c.train.in_(was))
            changed = conn.execute(
                tasks.update()
                .where(*where)
                .values(train=value, version=tasks.c.version + 1, updated_at=self.clock.now())
            ).rowcount
            return bool(changed)

        return await self._run(swap)

    async def tasks_in_train(self, repo: str) -> list[Task]:
        def select(conn: sa.Connection) -> list[Task]:
            query = tasks.select().where(tasks.c.repo == repo, tasks.c.train != "")
            return [_task(row) for row in conn.execute(query.order_by(tasks.c.updated_at))]

        return await self._run(select)

    # Inboxes

    async def post_message(self, target: str, sender: str, text: str, kind: str = "message") -> int:
        def insert(conn: sa.Connection) -> int:
            result = conn.execute(
                inbox.insert().values(
                    target=target, sender=sender, kind=kind, text=text,
                    created_at=self.clock.now(),
                )
            )  # fmt: skip
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
                    .values(consumed_at=self.clock.now())
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
        state=GoalState(m["state"]),
        version=m["version"],
        tokens=m["tokens"] or 0,
        cost_usd=m["cost_usd"] or 0.0,
        note=m["note"] or "",
        workflow_id=m["workflow_id"] or "",
        created_at=m["created_at"] or 0.0,
    )


def _task(row: sa.Row[Any]) -> Task:
    m = row._mapping
    fields = {name: m[name] for name in Task.__dataclass_fields__}
    return Task(**{**fields, "state": TaskState(m["state"])})
