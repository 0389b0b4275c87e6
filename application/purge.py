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

Before step 2 an *intent* line naming the record and the command goes to the ledger,
fsynced: a process killed between the command's commit and the certificate (or a
backup restored after such a crash) still leaves outside the database the trace that
makes ``reapply`` destroy the record again and certify it (ADR 0018, addendum).

A run that stops part way (a refused record does not stop it; the database going away
does) still redacts, compacts and certifies what it destroyed before the error goes up;
run again, what it destroyed reads "already purged".
"""

from __future__ import annotations

import logging
import os
import signal
import uuid
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine

from application import certificates as certs
from application import storage
from application.app import CommandResult, OversightApplication
from application.certificates import Certificate, Intent, Ledger, LedgerMissing
from application.purge_plan import plan_purge
from domain import commands as c
from domain.errors import DomainError, NotFound, ValidationError
from domain.provenance import Actor
from domain.vocabulary import (
    Role,
)
from projections.engine import utc
from projections.purge_schedule import ScheduleRow, due_for_destruction

log = logging.getLogger(__name__)

#: Who runs a scheduled purge (the certificate's ``ran_by``).
SCHEDULE = "schedule"

#: Test only (tests/application/test_purge_crash.py): the point at which a purge kills
#: its own process with SIGKILL, as a crash would, with no cleanup: ``before-purge-command``
#: (the intent is on disk, the command not run) or ``after-purge-command`` (the command
#: committed, no certificate yet). Never set it in a deployment.
CRASH_SETTING = "OVERSIGHT_TEST_CRASH_AT"
BEFORE_COMMAND, AFTER_COMMAND = "before-purge-command", "after-purge-command"


def _crash_point(point: str) -> None:
    """Die here, uncleanly, when the test-only ``OVERSIGHT_TEST_CRASH_AT`` names ``point``."""
    if os.environ.get(CRASH_SETTING) == point:
        os.kill(os.getpid(), signal.SIGKILL)


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
    """What a reapply after a restore did with each certificate of the ledger, and with
    each intent that had none (a purge interrupted between its command and its
    certificate, or before its command)."""

    destroyed_again: list[Certificate]
    already_destroyed: list[Certificate]
    refused: list[tuple[Certificate, str]]
    #: Intents now certified: destroyed by this reapply, or found committed (a replay).
    completed: list[Certificate] = field(default_factory=list)
    #: Intents whose record this database does not hold (absent, or destroyed by
    #: another command): nothing to destroy; they stay pending for an older restore.
    not_held: list[Intent] = field(default_factory=list)
    #: Intents the domain refuses now (a legal hold, not due under the pack): reported,
    #: never forced; they stay pending until the officer decides.
    intents_refused: list[tuple[Intent, str]] = field(default_factory=list)


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


def intent_command(intent: Intent) -> c.PurgeRecord:
    """The very command an intent named: executed again, it replays where it committed
    (same id, same fingerprint) and runs afresh where it did not."""
    return c.PurgeRecord(
        command_id=intent.command_id,
        actor=Actor(intent.authorised_by, Role.DATA_PROTECTION_OFFICER, intent.authority_code),
        occurred_at=intent.occurred_at,
        staff_id=intent.local_id if intent.subject_kind == "worker" else None,
        child_id=intent.local_id if intent.subject_kind == "child" else None,
        record_class=intent.record_class,
        record_id=intent.record_id,
        as_of=intent.as_of,
    )


def check_officer(dpo: Actor, authority_code: str) -> None:
    if dpo.role is not Role.DATA_PROTECTION_OFFICER:
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

    def purge_record(
        self, command: c.PurgeRecord, *, occurred_at_given: bool = True
    ) -> CommandResult:
        """Destroy one record the caller names (``purgeRecord``): the same steps as a run.
        Without ``occurred_at_given`` the valid time is the adapter's "now", which a retry
        need not repeat (ADR 0027)."""
        check_officer(command.actor, command.actor.authority_id)
        self._require_ledger()
        try:
            intent: Intent | None = self._intend(command)
        except DomainError:
            intent = None  # refused (the command says why), or a retry: it replays
        result = self._execute(command, intent, occurred_at_given=occurred_at_given)
        if result.replayed or result.position is None:
            return result
        certificate = self._certificate(command, result.position, intent)
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
            intent = self._intend(command)
            result = self._execute(command, intent)
        except DomainError as error:
            return PurgeOutcome(row, destroyed=False, refused=str(error))
        assert result.position is not None
        certificate = self._certificate(command, result.position, intent)
        return PurgeOutcome(row, True, position=result.position, certificate=certificate)

    # -- after a restore -------------------------------------------------------------------

    def reapply(self) -> Reapplied:
        """Destroy again every record the ledger certifies (a restored backup brings them
        back); write back the certificates the restored table lacks; settle every intent
        without a certificate (``_settle``) and certify it. Idempotent."""
        ledger = self._require_ledger()
        contents = ledger.contents()
        again: list[tuple[Certificate, int]] = []
        already: list[Certificate] = []
        refused: list[tuple[Certificate, str]] = []
        for certificate in sorted(
            contents.certificates, key=lambda k: (k.purged_at, k.certificate_id)
        ):
            command = c.PurgeRecord(
                command_id=f"reapply-{uuid.uuid4().hex}",
                actor=Actor(
                    certificate.ran_by,
                    Role.DATA_PROTECTION_OFFICER,
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
        completed, not_held, intents_refused = self._settle(contents.pending)
        last = max(
            [position for _, position in again] + [k.position for k in completed], default=None
        )
        if last is not None:
            # A replayed intent's purge committed, but its process died before this: the
            # projections and the storage still need it.
            storage.catch_up(self.app, self.engine, last, timeout=self.catch_up_timeout)
            storage.compact(self.engine)
        # The intents' certificates are new: the ledger first, as for any purge.
        ledger.append(completed)
        # The ledger's own certificates (not new ones): the table says what it said.
        certs.store(self.engine, [k for k, _ in again] + already + completed)
        log.info(
            "reapply: %d destroyed again, %d already destroyed, %d refused; intents: "
            "%d certified, %d not held, %d refused",
            len(again),
            len(already),
            len(refused),
            len(completed),
            len(not_held),
            len(intents_refused),
        )
        return Reapplied(
            [k for k, _ in again], already, refused, completed, not_held, intents_refused
        )

    def _settle(
        self, pending: list[Intent]
    ) -> tuple[list[Certificate], list[Intent], list[tuple[Intent, str]]]:
        """Run each pending intent's own command again: where it committed it replays
        and is certified; where it did not (killed before, or a restore undid it) it
        runs now, checked like any purge (legal holds included), or is refused."""
        completed: list[Certificate] = []
        not_held: list[Intent] = []
        refused: list[tuple[Intent, str]] = []
        for intent in pending:
            command = intent_command(intent)
            # Still to be destroyed here: counted again now, and intended again. If not
            # (refused, or committed), the command itself says which.
            with suppress(DomainError):
                intent = self._intend(command)
            try:
                result = self.app.execute(command, retries=2)
            except NotFound:
                not_held.append(intent)  # the backup is older than the record
                continue
            except DomainError as error:
                if isinstance(error, ValidationError) and "already purged" in error.message:
                    not_held.append(intent)  # destroyed by another command
                else:
                    refused.append((intent, str(error)))
                continue
            assert result.position is not None
            completed.append(self._certificate(command, result.position, intent))
        return completed, not_held, refused

    def unapplied(self) -> list[Certificate]:
        """Certificates in the ledger that the database does not hold: records a restore
        has brought back (or a purge interrupted before its certificate was stored)."""
        if self.ledger is None:
            return []
        held = certs.stored_ids(self.engine)
        return [k for k in self.ledger.read() if k.certificate_id not in held]

    def interrupted(self) -> list[Intent]:
        """Pending intents whose record this database still holds and would destroy now
        (checked as a purge is, legal holds included): a purge interrupted before its
        certificate, perhaps undone by a restore. Those it refuses, or does not hold,
        are not listed (``reapply`` reports them)."""
        if self.ledger is None:
            return []
        due = []
        for intent in self.ledger.pending():
            try:
                plan_purge(self.app, intent_command(intent))
            except DomainError:
                continue
            due.append(intent)
        return due

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

    def _intend(self, command: c.PurgeRecord) -> Intent:
        """Check the purge (raising the domain's refusal) and put its intent on disk in
        the ledger before its command can commit. What it will redact is counted here,
        before: the read-model rows of the record's events, and the legal holds on the
        subject, all lifted."""
        plan = plan_purge(self.app, command)
        assert plan.item.rule_id is not None and plan.item.due_on is not None
        subject_id = str(plan.subject.id)
        kind = "worker" if command.staff_id is not None else "child"
        intent = Intent(
            command_id=command.command_id,
            certificate_id=certs.certificate_id(
                plan.subject.authority_code, subject_id, command.record_class, command.record_id
            ),
            authority_code=plan.subject.authority_code,
            subject_kind=kind,
            subject_id=subject_id,
            local_id=str(command.staff_id if command.staff_id is not None else command.child_id),
            record_class=command.record_class,
            record_id=command.record_id,
            rule_id=plan.item.rule_id,
            due_on=plan.item.due_on,
            as_of=command.as_of,
            authorised_by=command.actor.id,
            occurred_at=command.occurred_at,  # as given: the fingerprint's
            read_model_rows_redacted=storage.rows_at(self.engine, plan.positions),
            legal_holds_lifted=sum(
                1 for h in plan.subject.legal_holds.values() if h.lifted_at is not None
            ),
        )
        self._require_ledger().intend(intent)
        return intent

    def _execute(
        self, command: c.PurgeRecord, intent: Intent | None, *, occurred_at_given: bool = True
    ) -> CommandResult:
        """The command, after its intent: a refusal is written to the ledger as the
        intent abandoned (it certainly did not commit)."""
        _crash_point(BEFORE_COMMAND)
        try:
            result = self.app.execute(command, retries=2, occurred_at_given=occurred_at_given)
        except DomainError as error:
            if intent is not None:
                self._require_ledger().abandon(intent, str(error))
            raise
        _crash_point(AFTER_COMMAND)
        return result

    def _certificate(
        self, command: c.PurgeRecord, position: int, intent: Intent | None
    ) -> Certificate:
        """The certificate of the purge whose ``RecordPurged`` is at ``position``, with
        the counts its intent took before it ran (none: a purge that raced its check)."""
        rows = intent.read_model_rows_redacted if intent is not None else 0
        lifted = intent.legal_holds_lifted if intent is not None else 0
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
