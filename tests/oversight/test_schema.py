"""Migrations create exactly the library's schema, and start-up refuses a stale one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from oversight.eventstore import PostgresOversightRecorder, SQLiteOversightRecorder
from oversight.schema import SchemaOutOfDate, check_schema, current_revision, head_revision, upgrade
from oversight.settings import DatabaseSettings
from oversight.wiring import open_application
from tests.conftest import drop_postgres_database, new_postgres_database


@pytest.fixture
def empty_database(backend: str, tmp_path: Path) -> Iterator[DatabaseSettings]:
    if backend == "sqlite":
        yield DatabaseSettings.from_url(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
        return
    url = new_postgres_database()
    try:
        yield DatabaseSettings.from_url(url)
    finally:
        drop_postgres_database(url)


def _sqlite_schema(path: str) -> dict[str, list[tuple[object, ...]]]:
    import sqlite3

    with sqlite3.connect(path) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name != 'alembic_version' "
                "ORDER BY name"
            )
        ]
        return {t: list(conn.execute(f"PRAGMA table_info({t})")) for t in tables}


def _postgres_schema(url: str) -> dict[str, list[tuple[object, ...]]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable, column_default "
            "FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name != 'alembic_version' ORDER BY table_name, ordinal_position"
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
            "AND tablename != 'alembic_version' ORDER BY indexname"
        ).fetchall()
        types = conn.execute(
            "SELECT t.typname, a.attname, format_type(a.atttypid, a.atttypmod) "
            "FROM pg_type t JOIN pg_class c ON c.oid = t.typrelid "
            "JOIN pg_attribute a ON a.attrelid = c.oid "
            "WHERE c.relkind = 'c' AND a.attnum > 0 ORDER BY t.typname, a.attnum"
        ).fetchall()
        options = conn.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname = 'oversight_events'"
        ).fetchall()
    schema: dict[str, list[tuple[object, ...]]] = {}
    for table, *column in rows:
        schema.setdefault(str(table), []).append(tuple(column))
    schema["__indexes__"] = [tuple(i) for i in indexes]
    schema["__types__"] = [tuple(t) for t in types]
    schema["__options__"] = [tuple(o) for o in options]
    return schema


def test_migrations_match_the_library_ddl_sqlite(tmp_path: Path) -> None:
    migrated = tmp_path / "migrated.sqlite3"
    upgrade(DatabaseSettings.from_url(f"sqlite:///{migrated}"), "0001")  # the event store
    library = tmp_path / "library.sqlite3"
    datastore = SQLiteDatastore(str(library))
    SQLiteOversightRecorder(datastore).create_table()
    datastore.close()
    assert _sqlite_schema(str(migrated)) == _sqlite_schema(str(library))


@pytest.mark.postgres
def test_migrations_match_the_library_ddl_postgres() -> None:
    migrated, library = new_postgres_database(), new_postgres_database()
    try:
        upgrade(DatabaseSettings.from_url(migrated), "0001")  # the event store
        settings = DatabaseSettings.from_url(library)
        datastore = PostgresDatastore(
            dbname=settings.dbname or "",
            host=settings.host or "",
            port=str(settings.port),
            user=settings.user or "",
            password=settings.password or "",
        )
        PostgresOversightRecorder(datastore, events_table_name="oversight_events").create_table()
        datastore.close()
        assert _postgres_schema(migrated) == _postgres_schema(library)
    finally:
        drop_postgres_database(migrated)
        drop_postgres_database(library)


def test_start_up_refuses_a_missing_schema_and_says_what_to_run(
    empty_database: DatabaseSettings,
) -> None:
    with pytest.raises(SchemaOutOfDate) as caught:
        open_application(empty_database)
    assert "run: oversight db upgrade" in str(caught.value)
    assert current_revision(empty_database) is None


def test_start_up_refuses_a_schema_that_is_behind(empty_database: DatabaseSettings) -> None:
    upgrade(empty_database)
    assert current_revision(empty_database) == head_revision()
    check_schema(empty_database)
    from sqlalchemy import create_engine, text

    engine = create_engine(empty_database.sqlalchemy_url())
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    engine.dispose()
    with pytest.raises(SchemaOutOfDate) as caught:
        check_schema(empty_database)
    message = str(caught.value)
    assert "is at schema revision 0000" in message
    assert f"needs {head_revision()}" in message
    assert "oversight db upgrade" in message


def test_upgrade_is_idempotent(empty_database: DatabaseSettings) -> None:
    upgrade(empty_database)
    upgrade(empty_database)
    app = open_application(empty_database)
    try:
        assert app.recorder.max_notification_id() in (None, 0)
    finally:
        app.close()


def test_migrations_downgrade_and_upgrade_again(empty_database: DatabaseSettings) -> None:
    from alembic import command

    from oversight.schema import alembic_config

    upgrade(empty_database)
    command.downgrade(alembic_config(empty_database), "base")
    assert current_revision(empty_database) is None
    upgrade(empty_database)
    check_schema(empty_database)


def test_0005_gives_a_compliance_generation_made_before_it_the_purge_schedule(
    empty_database: DatabaseSettings,
) -> None:
    """A database at 0004 has a compliance generation without ``retention_schedule``:
    0005 replaces it with a new generation at position 0 (ADR 0012)."""
    from sqlalchemy import text

    from oversight.projecting import read_engine
    from projections.engine import active_generation

    upgrade(empty_database, "0004")
    engine = read_engine(empty_database)
    try:
        with engine.begin() as conn:  # as 0004 made it before the table existed
            conn.execute(text('DROP VIEW "retention_schedule"'))
            conn.execute(text('DROP TABLE "retention_schedule__g1"'))
            conn.execute(text("UPDATE projection_state SET position = 7 WHERE name = 'compliance'"))
        upgrade(empty_database)
        check_schema(empty_database)
        with engine.connect() as conn:
            assert active_generation(conn, "compliance") == (2, 0)
            assert conn.execute(text('SELECT COUNT(*) FROM "retention_schedule"')).scalar() == 0
            assert conn.execute(text('SELECT COUNT(*) FROM "compliance_fact"')).scalar() == 0
    finally:
        engine.dispose()
