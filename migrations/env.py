"""Alembic environment. The URL comes from the Alembic config (set by ``oversight db
upgrade``) or else from OVERSIGHT_DATABASE_URL, so plain ``alembic upgrade head`` works."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from oversight.settings import Settings

config = context.config
url = config.get_main_option("sqlalchemy.url") or Settings.from_env().database.sqlalchemy_url()


def run_migrations_offline() -> None:
    context.configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
