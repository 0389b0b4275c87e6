"""What a purge needs of storage beyond the domain's own transaction (ADR 0012, 0018):
the read models caught up on the purge, and the database compacted so that no
superseded copy of a purged row stays in its files.

Everything here works through the SQLAlchemy engine on the *primary* (where the events
and the read models are written), so adapters that may not import the entry points
(the GraphQL API) can use it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from sqlalchemy import Engine, bindparam, inspect, text

from application.app import OversightApplication
from projections.engine import Projection, Runner, Source, wait_for
from projections.registry import all_projections

log = logging.getLogger(__name__)

#: How long a SQLite checkpoint may wait for readers to leave the write-ahead log.
CHECKPOINT_TIMEOUT = 10.0


class CompactionIncomplete(RuntimeError):
    """Storage could not be compacted now (readers held the WAL): run it again."""


def source_for(app: OversightApplication) -> Source:
    """The application's event log as the projection runners read it."""
    recorder = app.recorder
    return Source(
        select_notifications=lambda start, limit: recorder.select_notifications(
            start=start, limit=limit
        ),
        max_notification_id=recorder.max_notification_id,
        mapper=app.mapper,
    )


class _NoLock:
    """``catch_up`` never takes the leader lock: each batch commits by compare-and-set of
    its position, so it is safe beside a leading runner (ADR 0006)."""

    def try_acquire(self) -> bool:
        return True

    def release(self) -> None:
        return None


def catch_up(
    app: OversightApplication,
    engine: Engine,
    position: int,
    *,
    projections: Sequence[Projection] | None = None,
    timeout: float = 60.0,
) -> None:
    """Bring every projection to ``position`` here and now (a runner elsewhere may be
    applying the same batches: whoever commits first wins, the other re-reads), then
    check it is there; ``ProjectionLagging`` if it is not within ``timeout``."""
    source = source_for(app)
    for projection in projections if projections is not None else all_projections():
        Runner(projection=projection, engine=engine, source=source, lock=_NoLock()).catch_up()
        wait_for(engine, projection.name, position, timeout=timeout)


def rows_at(engine: Engine, positions: Sequence[int]) -> int:
    """How many read-model rows derive from the events at ``positions``: the rows a
    purge of them redacts or deletes (every view with a ``position`` column)."""
    if not positions:
        return 0
    wanted = sorted(set(positions))
    total = 0
    with engine.connect() as conn:
        inspector = inspect(conn)
        for projection in all_projections():
            for view in projection.table_names:
                columns = {c["name"] for c in inspector.get_columns(view)}
                if "position" not in columns:
                    continue
                query = text(f'SELECT count(*) FROM "{view}" WHERE position IN :p').bindparams(
                    bindparam("p", expanding=True)
                )
                for start in range(0, len(wanted), 500):
                    total += int(
                        conn.execute(query, {"p": wanted[start : start + 500]}).scalar_one()
                    )
    return total


def compact(engine: Engine, *, full: bool = False, timeout: float = CHECKPOINT_TIMEOUT) -> None:
    """Leave no superseded copy of a purged row in the database's own files.

    SQLite: every connection that rewrites or deletes runs with ``secure_delete`` (freed
    bytes are zeroed), but the write-ahead log still holds the pages as they were before:
    checkpoint it into the main file and truncate it to nothing, retrying while readers
    hold it.

    PostgreSQL: ``VACUUM (ANALYZE, INDEX_CLEANUP ON)`` every table of the schema (the
    events, the receipts, every generation of every read model), so no live or dead tuple
    and no index entry holds a purged row, and the planner's statistics are sampled
    afresh; then ``pg_statistic``, so no superseded sample of a column survives there.
    Pages with no dead tuple are skipped by the visibility map, so the tables a purge did
    not touch cost next to nothing, and no list of tables is kept in step with the
    projections. VACUUM frees a dead tuple's space within its page without zeroing it:
    the bytes stay in the data file until the page is written over. ``full`` rewrites
    every table into new files (``VACUUM FULL``: an exclusive lock on each table while it
    is copied), which leaves none of those bytes in the data directory (ADR 0018)."""
    if engine.dialect.name == "sqlite":
        deadline = time.monotonic() + timeout
        while True:
            with engine.connect() as conn:
                busy, _, _ = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
            if not busy:
                return
            if time.monotonic() >= deadline:
                raise CompactionIncomplete(
                    "the SQLite write-ahead log is in use; run `oversight retention compact`"
                )
            time.sleep(0.05)
    options = "FULL, ANALYZE" if full else "ANALYZE, INDEX_CLEANUP ON"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        tables = [
            str(name)
            for name in conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            ).scalars()
        ]
        for table in sorted(tables):
            quoted = '"' + table.replace('"', '""') + '"'
            conn.exec_driver_sql(f"VACUUM ({options}) {quoted}")
        # The database's owner may vacuum its own catalogs; anyone else gets a warning.
        conn.exec_driver_sql(f"VACUUM ({'FULL' if full else 'INDEX_CLEANUP ON'}) pg_statistic")
    log.info("compacted: vacuumed %d tables%s", len(tables), " (full)" if full else "")
