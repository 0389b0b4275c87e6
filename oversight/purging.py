"""After a purge run (``projections.purge_schedule.run_purge``) and the projections'
catch-up (their rows for the purged records redacted or deleted), storage is compacted:
the SQLite write-ahead log is truncated (pages were overwritten with ``secure_delete``),
PostgreSQL's dead row versions are vacuumed (ADR 0012).
"""

from __future__ import annotations

import psycopg
from psycopg import sql
from sqlalchemy import Engine

from oversight.eventstore import POSTGRES_EVENTS_TABLE
from oversight.settings import DatabaseSettings, psycopg_conninfo
from projections.registry import all_projections


def compact(database: DatabaseSettings, engine: Engine) -> None:
    """After a purge and the projections' catch-up: leave no superseded copy of a purged
    row in the database's own files where the engine lets us (ADR 0012)."""
    if database.backend == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    # The events table, and every generation of every projection's tables.
    patterns = [f"{name}\\_\\_g%" for p in all_projections() for name in p.table_names]
    with psycopg.connect(psycopg_conninfo(database), autocommit=True) as conn:
        tables = [
            str(name)
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND (tablename = %s OR tablename LIKE ANY(%s))",
                (POSTGRES_EVENTS_TABLE, patterns),
            ).fetchall()
        ]
        for table in tables:
            conn.execute(sql.SQL("VACUUM {}").format(sql.Identifier(table)))
