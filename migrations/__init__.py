"""Alembic migrations: the only way the production schema is created or changed."""
