"""Schema version: upgrade it, and refuse to start against a database that is behind."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool

from oversight.settings import DatabaseSettings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class SchemaOutOfDate(RuntimeError):
    """The database schema is not the one this code needs; the message says what to run."""


def alembic_config(database: DatabaseSettings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database.sqlalchemy_url().replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None
    return head


def current_revision(database: DatabaseSettings) -> str | None:
    engine = create_engine(database.sqlalchemy_url(), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def upgrade(database: DatabaseSettings, revision: str = "head") -> None:
    if database.backend == "sqlite":
        assert database.sqlite_path is not None
        Path(database.sqlite_path).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database), revision)


def check_schema(database: DatabaseSettings) -> None:
    """Raise ``SchemaOutOfDate`` naming the command to run, unless the schema is at head."""
    current = current_revision(database)
    head = head_revision()
    if current == head:
        return
    where = (
        database.sqlite_path
        if database.backend == "sqlite"
        else (f"{database.host}:{database.port}/{database.dbname}")
    )
    if current is None:
        raise SchemaOutOfDate(
            f"the database at {where} has no oversight schema; run: oversight db upgrade"
        )
    raise SchemaOutOfDate(
        f"the database at {where} is at schema revision {current}, and this version "
        f"needs {head}; run: oversight db upgrade"
    )
