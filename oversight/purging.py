"""Purge runs: destroy every record of an authority that is due and not held (ADR 0012).

The schedule (the compliance projection) proposes; each record is then checked again
from the event store and the authority's pack (``plan_purge``) and destroyed by its own
``PurgeRecord`` command, so a stale schedule can never destroy what is not due, and a
dry run, which stops after that check, lists exactly what a real run would destroy.
A run interrupted at any point is run again: what it destroyed reads "already purged".

After a real run the projections catch up (their rows for the purged records are
redacted or deleted) and storage is compacted: the SQLite write-ahead log is truncated
(pages were overwritten with ``secure_delete``), PostgreSQL's dead row versions are
vacuumed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import psycopg
from psycopg import sql
from sqlalchemy import Engine

from domain import commands as c
from domain.application import OversightApplication, plan_purge
from domain.errors import DomainError
from domain.provenance import Actor
from domain.vocabulary import ActorRole
from oversight.settings import DatabaseSettings, psycopg_conninfo
from projections.purge_schedule import ScheduleRow, due_for_destruction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PurgeOutcome:
    """One scheduled record and what the run did with it."""

    row: ScheduleRow
    destroyed: bool  # a dry run: would be destroyed
    refused: str | None = None  # why not, in the domain's own words
    position: int | None = None  # the RecordPurged event's position (a real run)


@dataclass(frozen=True)
class PurgeRun:
    authority_code: str
    as_of: date
    dry_run: bool
    outcomes: list[PurgeOutcome]

    @property
    def destroyed(self) -> list[PurgeOutcome]:
        return [o for o in self.outcomes if o.destroyed]

    @property
    def last_position(self) -> int | None:
        return max((o.position for o in self.outcomes if o.position), default=None)


def purge_command(row: ScheduleRow, as_of: date, dpo: Actor, now: datetime) -> c.PurgeRecord:
    return c.PurgeRecord(
        command_id=f"purge-{uuid.uuid4().hex}",
        actor=dpo,
        occurred_at=now,
        staff_id=row.local_id if row.subject_kind == "worker" else None,
        child_id=row.local_id if row.subject_kind == "child" else None,
        record_class=row.record_class,
        record_id=row.record_id,
        as_of=as_of,
    )


def run_purge(
    app: OversightApplication,
    engine: Engine,
    *,
    authority_code: str,
    as_of: date,
    dpo: Actor,
    dry_run: bool,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    limit: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> PurgeRun:
    """Check, and unless ``dry_run`` destroy, every record the schedule has due by
    ``as_of`` in the authority. Only a data protection officer may."""
    if dpo.role is not ActorRole.DATA_PROTECTION_OFFICER:
        raise DomainError("a purge is authorised by the data protection officer", field="actor")
    if dpo.authority_id != authority_code:
        raise DomainError("a purge is authorised within its own authority", field="actor")
    candidates = due_for_destruction(engine, authority_code=authority_code, as_of=as_of)
    if limit is not None:
        candidates = candidates[:limit]
    outcomes: list[PurgeOutcome] = []
    for done, row in enumerate(candidates, start=1):
        command = purge_command(row, as_of, dpo, clock())
        try:
            if dry_run:
                plan_purge(app, command)
                outcomes.append(PurgeOutcome(row, destroyed=True))
            else:
                result = app.execute(command, retries=2)
                outcomes.append(PurgeOutcome(row, destroyed=True, position=result.position))
        except DomainError as error:
            outcomes.append(PurgeOutcome(row, destroyed=False, refused=str(error)))
        if on_progress is not None:
            on_progress(done, len(candidates))
    run = PurgeRun(authority_code, as_of, dry_run, outcomes)
    if not dry_run:
        log.info(
            "purge %s as of %s: %d destroyed, %d refused",
            authority_code,
            as_of,
            len(run.destroyed),
            len(outcomes) - len(run.destroyed),
        )
    return run


def compact(database: DatabaseSettings, engine: Engine) -> None:
    """After a purge and the projections' catch-up: leave no superseded copy of a purged
    row in the database's own files where the engine lets us (ADR 0012)."""
    if database.backend == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    with psycopg.connect(psycopg_conninfo(database), autocommit=True) as conn:
        tables = [
            str(name)
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND (tablename = 'oversight_events' OR tablename LIKE 'audit%%' "
                "OR tablename LIKE 'subject_history%%' OR tablename LIKE 'compliance%%' "
                "OR tablename LIKE 'retention%%' OR tablename LIKE 'oversight_register%%')"
            ).fetchall()
        ]
        for table in tables:
            conn.execute(sql.SQL("VACUUM {}").format(sql.Identifier(table)))
