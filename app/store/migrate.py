"""Bring the database to this release's schema, one versioned migration (Alembic) at a time.

Many processes, of different releases during an upgrade, share one database, and each runs this
when it starts; they take turns behind a lock held only while migrating (PostgreSQL: an advisory
lock; SQLite, one machine: a lock file beside the database). A migration only adds what this
release needs and never removes what an older one still reads.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "swarm_schema_version"
_PG_LOCK = 0x53574152  # "SWAR": the advisory lock's key


def _config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("version_table", VERSION_TABLE)
    config.attributes["connection"] = connection
    return config


@contextlib.contextmanager
def _sqlite_lock(engine: sa.Engine) -> Iterator[None]:
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def migrate(engine: sa.Engine) -> str:
    """Upgrade to the newest revision; returns it."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            # A session lock: it outlives the transaction that takes it, until unlocked.
            conn.exec_driver_sql(f"SELECT pg_advisory_lock({_PG_LOCK})")
            conn.commit()
            try:
                with conn.begin():
                    command.upgrade(_config(conn), "head")
            finally:
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_PG_LOCK})")
                conn.commit()
    else:
        with _sqlite_lock(engine):
            # Write-ahead logging is a property of the file, so DBOS's connections to it use it
            # too: readers stop blocking the writer, and a commit is one append, not a journal.
            # Switched under the lock: two processes switching a fresh file at once collide.
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            with engine.begin() as conn:
                command.upgrade(_config(conn), "head")
    return current_revision(engine)


def current_revision(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        row = conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").first()
    return str(row[0]) if row else ""
