"""Alembic migrations of the swarm's tables (a package, so that an installed wheel carries them)."""
