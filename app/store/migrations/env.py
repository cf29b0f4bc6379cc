"""Alembic's entry for the swarm's migrations: always run by `app.store.migrate`, which hands
over a connection that already holds the migration lock."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    render_as_batch=True,  # SQLite alters tables by copying them
    version_table=context.config.get_main_option("version_table") or "alembic_version",
)
with context.begin_transaction():
    context.run_migrations()
