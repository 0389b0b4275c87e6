"""The purge use case: one path for every way a record is destroyed (ADR 0012, 0018).

The CLI (``oversight retention purge``), the API (``purgeRecord``, ``purgeDueRecords``),
a scheduled run (``oversight retention purge --scheduled``) and a reapply after a restore
(``oversight retention reapply``) all come here. For each record:

1. plan: the schedule proposes (a read model); the record is checked again from the event
   store and the authority's pack, legal holds included (``plan_purge``);
2. execute: its own ``PurgeRecord`` command through ``OversightApplication``: the
   ``RecordPurged`` event and the tombstones its stored events become, one transaction;
3. redact: every projection is brought past that event here (each redacts or deletes
   its rows for the record when it sees ``RecordPurged``), and checked to be there;
4. compact: SQLite's write-ahead log checkpointed and truncated; PostgreSQL vacuumed;
5. certify: a certificate per record appended to the ledger outside the database, then
   written to ``purge_certificates``.

A run that stops part way (a refused record does not stop it; the database going away
does) still redacts, compacts and certifies what it destroyed before the error goes up;
run again, what it destroyed reads "already purged". A process killed between a
record's ``PurgeRecord`` and its certificate leaves that record destroyed without one
(ADR 0018, Consequences).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine

from application import certificates as certs
from application import storage
from application.app import CommandResult, OversightApplication
from application.certificates import Certificate, Ledger, LedgerMissing
from application.purge_plan import plan_purge
from domain import commands as c
from domain.errors import DomainError, NotFound, ValidationError
from domain.provenance import Actor
from domain.vocabulary import ActorRole
from projections.engine import utc
from projections.purge_schedule import ScheduleRow, due_for_destruction

log = logging.getLogger(__name__)

#: Who runs a scheduled purge (the certificate's ``ran_by``).
SCHEDULE = "schedule"


@dataclass(frozen=True)
class PurgeOutcome:
    """One scheduled record and what the run did with it."""

    row: ScheduleRow
    destroyed: bool  # a dry run: would be destroyed
    refused: str | None = None  # why not, in the domain's own words
    position: int | None = None  # the RecordPurged event's position (a real run)
    certificate: Certificate | None = None


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


@dataclass(frozen=True)
class Reapplied:
    """What a reapply after a restore did with each certificate of the ledger."""

    destroyed_again: list[Certificate]
    already_destroyed: list[Certificate]
    refused: list[tuple[Certificate, str]]


def purge_command(
    row: ScheduleRow, as_of: date, dpo: Actor, now: datetime, command_id: str | None = None
) -> c.PurgeRecord:
    return c.PurgeRecord(
        command_id=command_id or f"purge-{uuid.uuid4().hex}",
        actor=dpo,
        occurred_at=now,
        staff_id=row.local_id if row.subject_kind == "worker" else None,
        child_id=row.local_id if row.subject_kind == "child" else None,
        record_class=row.record_class,
        record_id=row.record_id,
        as_of=as_of,
    )


def check_officer(dpo: Actor, authority_code: str) -> None:
    if dpo.role is not ActorRole.DATA_PROTECTION_OFFICER:
        raise DomainError("a purge is authorised by the data protection officer", field="actor")
    if dpo.authority_id != authority_code:
        raise DomainError("a purge is authorised within its own authority", field="actor")


@dataclass
class Purges:
    """The purge use case over one store. ``engine`` is the primary's (the read models
    are written and the storage compacted there)."""

    app: OversightApplication
    engine: Engine
    ledger: Ledger | None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    #: Seconds to wait for the projections to apply a purge before giving up.
    catch_up_timeout: float = 60.0

    @classmethod
    def on(
        cls,
        app: OversightApplication,
        engine: Engine,
        environ: Mapping[str, str] | None = None,
    ) -> Purges:
        """The use case with the ledger the environment names (``OVERSIGHT_PURGE_LEDGER``,
        or beside a SQLite file)."""
        return cls(app, engine, Ledger.configured(engine, environ))

    # -- one record ------------------------------------------------------------------------

    def purge_record(self, command: c.PurgeRecord) -> CommandResult:
        """Destroy one record the caller names (``purgeRecord``): the same steps as a run."""
        check_officer(command.actor, command.actor.authority_id)
        self._require_ledger()
        before = self._before(command)
        result = self.app.execute(command, retries=2)
        if result.replayed or result.position is None:
            return result
        certificate = self._certificate(command, result.position, before)
        self._finish(result.position, [certificate])
        return result

    # -- a run over the schedule -----------------------------------------------------------

    def run(
        self,
        *,
        authority_code: str,
        as_of: date,
        dpo: Actor,
        dry_run: bool,
        limit: int | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> PurgeRun:
        """Check, and unless ``dry_run`` destroy, every record the schedule has due by
        ``as_of`` in the authority. A data protection officer's, or the schedule's under
        the officer's role (``ran_by`` "schedule")."""
        check_officer(dpo, authority_code)
        if not dry_run:
            self._require_ledger()
        candidates = due_for_destruction(self.engine, authority_code=authority_code, as_of=as_of)
        if limit is not None:
            candidates = candidates[:limit]
        outcomes: list[PurgeOutcome] = []
        try:
            for done, row in enumerate(candidates, start=1):
                outcomes.append(self._one(row, as_of, dpo, dry_run))
                if on_progress is not None:
                    on_progress(done, len(candidates))
        finally:
            # Stopped part way (the database gone, say): what was destroyed is still
            # redacted, compacted and certified before the error goes up.
            issued = [o.certificate for o in outcomes if o.certificate is not None]
            last = max((k.position for k in issued), default=None)
            if last is not None:
                self._finish(last, issued)
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

    def _one(self, row: ScheduleRow, as_of: date, dpo: Actor, dry_run: bool) -> PurgeOutcome:
        command = purge_command(row, as_of, dpo, self.clock())
        try:
            if dry_run:
                plan_purge(self.app, command)
                return PurgeOutcome(row, destroyed=True)
            before = self._before(command)
            result = self.app.execute(command, retries=2)
        except DomainError as error:
            return PurgeOutcome(row, destroyed=False, refused=str(error))
        assert result.position is not None
        certificate = self._certificate(command, result.position, before)
        return PurgeOutcome(row, True, position=result.position, certificate=certificate)

    # -- after a restore -------------------------------------------------------------------

    def reapply(self) -> Reapplied:
        """Destroy again every record the ledger names (a restored backup brings them
        back); write back the certificates the restored table lacks. Idempotent."""
        ledger = self._require_ledger()
        again: list[tuple[Certificate, int]] = []
        already: list[Certificate] = []
        refused: list[tuple[Certificate, str]] = []
        for certificate in sorted(ledger.read(), key=lambda k: (k.purged_at, k.certificate_id)):
            command = c.PurgeRecord(
                command_id=f"reapply-{uuid.uuid4().hex}",
                actor=Actor(
                    certificate.ran_by,
                    ActorRole.DATA_PROTECTION_OFFICER,
                    certificate.authority_code,
                ),
                occurred_at=self.clock(),
                staff_id=certificate.local_id if certificate.subject_kind == "worker" else None,
                child_id=certificate.local_id if certificate.subject_kind == "child" else None,
                record_class=certificate.record_class,
                record_id=certificate.record_id,
                as_of=certificate.as_of,
            )
            try:
                result = self.app.execute(command, retries=2)
            except NotFound:
                already.append(certificate)  # the backup is older than the record
                continue
            except ValidationError as error:
                if "already purged" in error.message:
                    already.append(certificate)
                else:
                    refused.append((certificate, str(error)))
                continue
            except DomainError as error:
                refused.append((certificate, str(error)))
                continue
            assert result.position is not None
            again.append((certificate, result.position))
        last = max((position for _, position in again), default=None)
        if last is not None:
            storage.catch_up(self.app, self.engine, last, timeout=self.catch_up_timeout)
            storage.compact(self.engine)
        # The ledger's own certificates (not new ones): the table says what it said.
        certs.store(self.engine, [k for k, _ in again] + already)
        log.info(
            "reapply: %d destroyed again, %d already destroyed, %d refused",
            len(again),
            len(already),
            len(refused),
        )
        return Reapplied([k for k, _ in again], already, refused)

    def unapplied(self) -> list[Certificate]:
        """Certificates in the ledger that the database does not hold: records a restore
        has brought back (or a purge interrupted before its certificate was stored)."""
        if self.ledger is None:
            return []
        held = certs.stored_ids(self.engine)
        return [k for k in self.ledger.read() if k.certificate_id not in held]

    def compact(self, *, full: bool = False) -> None:
        storage.compact(self.engine, full=full)

    # -- the steps -----------------------------------------------------------------------

    def _require_ledger(self) -> Ledger:
        if self.ledger is None:
            raise LedgerMissing(
                f"{certs.LEDGER_SETTING} is not set: on PostgreSQL a purge needs its ledger "
                "outside the database (a restored backup would otherwise bring the records "
                "back unnoticed)"
            )
        return self.ledger

    def _before(self, command: c.PurgeRecord) -> tuple[int, int]:
        """What the purge will redact, read before it runs: the read-model rows of the
        record's events, and the legal holds on the subject, all lifted (a refused
        purge: nothing)."""
        try:
            plan = plan_purge(self.app, command)
        except DomainError:
            return 0, 0
        lifted = sum(1 for h in plan.subject.legal_holds.values() if h.lifted_at is not None)
        return storage.rows_at(self.engine, plan.positions), lifted

    def _certificate(
        self, command: c.PurgeRecord, position: int, before: tuple[int, int]
    ) -> Certificate:
        """The certificate of the purge whose ``RecordPurged`` is at ``position``."""
        rows, lifted = before
        notification = self.app.recorder.select_notifications(start=position, limit=1)[0]
        event: Any = self.app.mapper.to_domain_event(notification)  # a RecordPurged
        kind = "worker" if command.staff_id is not None else "child"
        local_id = str(command.staff_id if command.staff_id is not None else command.child_id)
        subject_id = str(event.originator_id)
        authority = str(event.authority_code)
        return Certificate(
            certificate_id=certs.certificate_id(
                authority, subject_id, command.record_class, command.record_id
            ),
            authority_code=authority,
            subject_kind=kind,
            subject_id=subject_id,
            local_id=local_id,
            record_class=command.record_class,
            record_id=command.record_id,
            rule_id=str(event.rule_id),
            due_on=event.due_on,
            as_of=command.as_of,
            legal_hold_check=(
                f"clear: no open legal hold on the {kind} in the event store "
                f"({lifted} lifted before)"
            ),
            events_rewritten=len(event.positions),
            read_model_rows_redacted=rows,
            ran_by=command.actor.id,
            purged_at=utc(event.timestamp),
            position=position,
        )

    def _finish(self, last_position: int, issued: list[Certificate]) -> None:
        """Redact, compact, certify: after the commands of a run or of one record."""
        storage.catch_up(self.app, self.engine, last_position, timeout=self.catch_up_timeout)
        storage.compact(self.engine)
        ledger = self._require_ledger()
        ledger.append(issued)
        certs.store(self.engine, issued)
