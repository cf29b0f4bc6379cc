"""The schema's history: a fresh database, an older release's database, a second run, and
several processes migrating at once, on a SQLite file and on a fresh PostgreSQL database."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app.clock import ManualClock
from app.domain.states import IllegalMove, TaskState
from app.store import Store
from app.store.migrate import VERSION_TABLE
from app.store.tables import metadata
from tests.conftest import POSTGRES_ADMIN_URL

HEAD = "0005"
# Columns the gate added (0003), the task's footprint (0004) and its place in the merge train
# (0005), with what an older row gets.
GATE_COLUMNS = {
    **dict.fromkeys(
        ("gate", "candidate_sha", "verdict", "verdict_sha", "tested_sha", "landed_sha"), ""
    ),
    **dict.fromkeys(("rounds", "flakes", "ci_runs", "conflicts"), 0),
    "files": [],
    "train": "",
}
ROOT = Path(__file__).resolve().parents[2]


def schema(engine: sa.Engine) -> dict[str, dict[str, Any]]:
    """Each table's columns (nullable, part of the primary key) and indexed columns."""
    inspector = sa.inspect(engine)
    found: dict[str, dict[str, Any]] = {}
    for name in inspector.get_table_names():
        primary = set(inspector.get_pk_constraint(name)["constrained_columns"])
        found[name] = {
            "columns": {
                c["name"]: (bool(c["nullable"]), c["name"] in primary)
                for c in inspector.get_columns(name)
            },
            "indexes": sorted(tuple(i["column_names"]) for i in inspector.get_indexes(name)),
        }
    return found


def revisions(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}")]


def rows(engine: sa.Engine) -> dict[str, list[dict[str, Any]]]:
    with engine.connect() as conn:
        return {
            table.name: sorted((dict(r._mapping) for r in conn.execute(table.select())), key=repr)
            for table in metadata.sorted_tables
        }


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url, clock=ManualClock())
    yield store
    store.engine.dispose()


def assert_is_this_releases_schema(engine: sa.Engine) -> None:
    found = schema(engine)
    for table in metadata.sorted_tables:
        assert table.name in found, f"{table.name} missing"
        columns = found[table.name]["columns"]
        expected = {c.name: (bool(c.nullable), c.primary_key) for c in table.columns}
        assert columns == expected, table.name
        for column in table.columns:
            if column.index:
                assert (column.name,) in found[table.name]["indexes"], (table.name, column.name)
    assert VERSION_TABLE in found
    assert revisions(engine) == [HEAD]


# (a) a fresh database


def test_a_fresh_database_migrates_to_head_with_every_table_and_column(store: Store) -> None:
    assert store.migrate() == HEAD
    assert_is_this_releases_schema(store.engine)


async def test_a_migrated_database_accepts_an_older_release_s_task_insert(store: Store) -> None:
    """An older process, whose tables have no tasks.version, still inserts tasks mid-upgrade;
    its rows start at version 1 and take part in compare-and-swap."""
    store.migrate()
    old_tasks = old_release_metadata().tables["swarm_tasks"]
    with store.engine.begin() as conn:
        conn.execute(old_tasks.insert().values(**old_task_row(number=5)))
    task = await store.task("octo/app", 5)
    assert task is not None and task.version == 1
    moved = await store.move_task("octo/app", 5, TaskState.PR_OPEN)
    assert (moved.state, moved.version) == (TaskState.PR_OPEN, 2)


# (b) an older release's database, made with create_all before migrations


def old_task_row(number: int) -> dict[str, Any]:
    return {
        "repo": "octo/app", "number": number, "goal_number": 1, "key": f"k{number}",
        "title": "an old task", "depends_on": [1], "state": "working", "branch": "swarm/x",
        "agent": "claude", "pr_number": None, "head_sha": "abc", "ci": "", "tokens": 1200,
        "cost_usd": 0.25, "note": "", "run": f"task:octo/app#{number}", "updated_at": 10.0,
    }  # fmt: skip


def old_release_metadata(with_goal_notes: bool = True) -> sa.MetaData:
    """The tables as an older release's `metadata.create_all` made them (0001_baseline):
    no swarm_tasks.version."""
    old = sa.MetaData()
    sa.Table(
        "swarm_installations", old,
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("account", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )  # fmt: skip
    sa.Table(
        "swarm_goals", old,
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
    )  # fmt: skip
    sa.Table(
        "swarm_tasks", old,
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
    )  # fmt: skip
    sa.Table(
        "swarm_inbox", old,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("target", sa.String(255), nullable=False, index=True),
        sa.Column("sender", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("consumed_at", sa.Float, nullable=True),
    )  # fmt: skip
    if with_goal_notes:
        sa.Table(
            "swarm_goal_notes", old,
            sa.Column("repo", sa.String(255), primary_key=True),
            sa.Column("goal_number", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("key", sa.String(255), primary_key=True),
            sa.Column("text", sa.Text, nullable=False),
            sa.Column("created_at", sa.Float, nullable=False),
        )  # fmt: skip
    return old


def create_old_release_schema(engine: sa.Engine, with_goal_notes: bool) -> None:
    """An older release's database: its tables, no version table, and rows in them."""
    old = old_release_metadata(with_goal_notes)
    old.create_all(engine)
    t = old.tables
    with engine.begin() as conn:
        conn.execute(
            t["swarm_installations"]
            .insert()
            .values(id=9, account="octo", active=True, updated_at=1.0)
        )
        conn.execute(
            t["swarm_goals"].insert().values(
                repo="octo/app", number=1, installation_id=9, title="ship it",
                requested_by="ann", state="working", version=4, tokens=300, cost_usd=0.1,
                note="", workflow_id="goal:octo/app#1", created_at=2.0, updated_at=3.0,
            )
        )  # fmt: skip
        conn.execute(t["swarm_tasks"].insert().values(**old_task_row(number=2)))
        conn.execute(t["swarm_tasks"].insert().values(**{**old_task_row(3), "state": "planned"}))
        conn.execute(
            t["swarm_inbox"]
            .insert()
            .values(
                target="task:octo/app#2", sender="ann", kind="message", text="hi", created_at=4.0
            )
        )
        if with_goal_notes:
            conn.execute(
                t["swarm_goal_notes"]
                .insert()
                .values(repo="octo/app", goal_number=1, key="k", text="a note", created_at=5.0)
            )


@pytest.mark.parametrize("with_goal_notes", [True, False], ids=["notes", "before-notes"])
async def test_an_older_release_s_database_keeps_its_rows_and_gains_task_versions(
    store: Store, with_goal_notes: bool
) -> None:
    create_old_release_schema(store.engine, with_goal_notes)
    before = rows_without_version(store.engine, with_goal_notes)

    assert store.migrate() == HEAD

    assert_is_this_releases_schema(store.engine)
    after = rows(store.engine)
    for task_row in after["swarm_tasks"]:
        assert task_row.pop("version") == 1
        assert {name: task_row.pop(name) for name in GATE_COLUMNS} == GATE_COLUMNS
    if not with_goal_notes:
        assert after.pop("swarm_goal_notes") == []
    assert after.pop("swarm_trains") == []
    assert after == before

    # The old rows now take part in compare-and-swap.
    task = await store.task("octo/app", 2)
    assert task is not None
    assert (task.state, task.version, task.tokens, task.depends_on) == ("working", 1, 1200, [1])
    moved = await store.move_task("octo/app", 2, TaskState.PR_OPEN, pr_number=7)
    assert (moved.version, moved.pr_number, moved.run) == (2, 7, "task:octo/app#2")
    with pytest.raises(IllegalMove):  # PLANNED -> WORKING, as in the table
        await store.move_task("octo/app", 3, TaskState.WORKING)
    goal = await store.goal("octo/app", 1)
    assert goal is not None and goal.version == 4


def rows_without_version(engine: sa.Engine, with_goal_notes: bool) -> dict[str, Any]:
    """The rows of the old schema, read by reflecting it (it has no tasks.version)."""
    reflected = sa.MetaData()
    reflected.reflect(engine)
    assert "version" not in reflected.tables["swarm_tasks"].columns
    with engine.connect() as conn:
        return {
            name: sorted((dict(r._mapping) for r in conn.execute(table.select())), key=repr)
            for name, table in reflected.tables.items()
        }


# (c) a second run


def test_migrating_twice_changes_nothing(store: Store, database_url: str) -> None:
    assert store.migrate() == HEAD
    asyncio.run(store.record_goal("octo/app", 1, 9, "ship it", "ann"))
    before = (schema(store.engine), rows(store.engine))

    again = Store(database_url)  # as another process starting later would
    statements: list[str] = []

    @sa.event.listens_for(again.engine, "before_cursor_execute")
    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement.lstrip().split(None, 1)[0].upper())

    try:
        assert again.migrate() == HEAD
    finally:
        again.engine.dispose()
    written = {"CREATE", "ALTER", "DROP", "INSERT", "UPDATE", "DELETE"} & set(statements)
    assert not written, statements
    assert (schema(store.engine), rows(store.engine)) == before
    assert revisions(store.engine) == [HEAD]


# (d) processes migrating at once

MIGRATE_WHEN_TOLD = textwrap.dedent(
    """
    import sys
    from app.store import Store

    store = Store(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()  # everyone waits here until the test releases them all at once
    print(store.migrate(), flush=True)
    """
)


def migrate_at_once(database_url: str, processes: int) -> None:
    """Start processes that each migrate `database_url`, release them together, and check
    that every one of them reached head."""
    children = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE_WHEN_TOLD, database_url],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready", child.stderr
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        outcomes = [child.communicate(timeout=60) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    for child, (out, err) in zip(children, outcomes, strict=True):
        assert child.returncode == 0, err
        assert out.strip() == HEAD, (out, err)


def test_processes_migrating_one_fresh_database_at_once_all_succeed(
    store: Store, database_url: str
) -> None:
    migrate_at_once(database_url, processes=2)
    assert_is_this_releases_schema(store.engine)


@pytest.fixture
def missing_postgres_database() -> Iterator[str]:
    """The URL of a PostgreSQL database that does not exist yet; dropped afterwards."""
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc}")
    name = f"swarm_test_{uuid.uuid4().hex[:10]}"
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.mark.postgres
def test_migrating_creates_a_missing_postgres_database(missing_postgres_database: str) -> None:
    store = Store(missing_postgres_database)
    try:
        assert store.migrate() == HEAD
        assert_is_this_releases_schema(store.engine)
    finally:
        store.engine.dispose()


@pytest.mark.postgres
def test_processes_migrating_one_missing_postgres_database_at_once_all_succeed(
    missing_postgres_database: str,
) -> None:
    migrate_at_once(missing_postgres_database, processes=3)
    store = Store(missing_postgres_database)
    try:
        assert_is_this_releases_schema(store.engine)
    finally:
        store.engine.dispose()


async def test_a_goal_an_older_release_left_at_pull_requests_open_is_incomplete(
    store: Store,
) -> None:
    """Goals ended at "pull requests open" before the gate existed: their pull requests still
    need gating, so they become incomplete (a retry takes them on), and they still load."""
    create_old_release_schema(store.engine, with_goal_notes=True)
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE swarm_goals SET state = 'prs_open'"))

    store.migrate()

    goal = await store.goal("octo/app", 1)
    assert goal is not None
    assert goal.state == "incomplete" and "retry" in goal.note
