"""What the GraphQL adapter calls: authorization, the access log, commands and reads.

Synchronous (the application and the read models are), and free of GraphQL: resolvers
run these in a worker thread. Every read of a child's record or a personal file is
authorised first and then written to the subject's access log (``RecordAccess``) before
any of it is returned: if the log cannot be written, nothing is read (fail closed).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Engine, literal, select

from domain import commands as c
from domain.application import CommandResult, OversightApplication
from domain.authorization import (
    MANAGERS,
    AccessRole,
    ChildRelations,
    Decision,
    Operation,
    Principal,
    Record,
    ReportScope,
    WorkerRelations,
    chain_of,
    decide,
)
from domain.errors import DomainError, Forbidden, NotFound, ValidationError
from domain.identifiers import check_local_id
from domain.policy.packs import PackLibrary
from domain.provenance import Actor
from domain.subject import SubjectPurged
from projections.compliance import view
from projections.engine import wait_for

#: How far up a line-management chain access reaches (as ``chain_of``'s default).
CHAIN_LIMIT = 10

#: Commands the API never takes from a client: it records reads itself.
INTERNAL_COMMANDS: frozenset[type[c.Command]] = frozenset({c.RecordAccess})

#: Commands that configure the authority (administrators).
AUTHORITY_COMMANDS: frozenset[type[c.Command]] = frozenset(
    {c.RegisterAuthority, c.AdoptPolicyPack, c.AddClosureDay}
)
#: Employment records (HR and administrators) [RegisterWorker and the worker's changes].
#: Absences are recorded by the worker's own chain too (a manager records sickness).
EMPLOYMENT_COMMANDS: frozenset[type[c.Command]] = frozenset(
    {
        c.RegisterWorker,
        c.ChangeRole,
        c.ChangeTeam,
        c.ChangeLineManager,
        c.ChangeWorkingPattern,
        c.LeaveEmployment,
    }
)
EMPLOYMENT_ROLES = frozenset({AccessRole.HR, AccessRole.ADMINISTRATOR})
#: Legal holds and purges are the data protection officer's (ADR 0012).
HOLD_COMMANDS: frozenset[type[c.Command]] = frozenset(
    {c.PlaceLegalHold, c.LiftLegalHold, c.PurgeRecord}
)


@dataclass
class Service:
    app: OversightApplication
    engine: Engine
    library: PackLibrary
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    #: The projection reads wait on for ``consistentWith`` (read-your-writes).
    consistency_projection: str = "compliance"

    # -- relationships, from the compliance projection -----------------------------------

    def _subject_row(self, authority: str, kind: str, local_id: str) -> Any:
        subject = view("compliance_subject")
        with self.engine.connect() as conn:
            return conn.execute(
                select(subject).where(
                    subject.c.authority_code == authority,
                    subject.c.subject_kind == kind,
                    subject.c.local_id == local_id,
                )
            ).one_or_none()

    def _chain(self, authority: str, staff_id: str | None) -> tuple[str, ...]:
        """A worker's line-management chain, nearest first: one recursive query up the
        chain (bounded), not every worker of the authority."""
        if not staff_id:
            return ()
        subject = view("compliance_subject")
        step = (
            select(subject.c.local_id, subject.c.manager_id, literal(0).label("depth"))
            .where(
                subject.c.authority_code == authority,
                subject.c.subject_kind == "worker",
                subject.c.local_id == staff_id,
            )
            .cte("chain", recursive=True)
        )
        above = subject.alias("above")
        step = step.union_all(
            select(above.c.local_id, above.c.manager_id, step.c.depth + 1).where(
                above.c.authority_code == authority,
                above.c.subject_kind == "worker",
                above.c.local_id == step.c.manager_id,
                step.c.depth < CHAIN_LIMIT,
            )
        )
        with self.engine.connect() as conn:
            rows = conn.execute(select(step.c.local_id, step.c.manager_id)).all()
        managers = {str(r[0]): (str(r[1]) if r[1] else None) for r in rows}
        return chain_of(staff_id, managers, CHAIN_LIMIT)

    def worker_relations(self, authority: str, staff_id: str) -> WorkerRelations | None:
        check_local_id(staff_id, field="staff_id")  # before any query: typed, named
        row = self._subject_row(authority, "worker", staff_id)
        if row is None:
            return self._worker_from_store(authority, staff_id)
        supervisors = [str(s) for s in orjson.loads(row.supervisors) if s != staff_id]
        chain = self._chain(authority, staff_id)
        ordered = tuple(dict.fromkeys([*supervisors, *chain]))
        return WorkerRelations(authority, staff_id, row.team, ordered)

    def child_relations(self, authority: str, child_id: str) -> ChildRelations | None:
        check_local_id(child_id, field="child_id")
        row = self._subject_row(authority, "child", child_id)
        if row is None:
            return self._child_from_store(authority, child_id)
        allocated = str(row.worker_id) if row.worker_id else None
        chain = self._chain(authority, allocated)
        return ChildRelations(authority, child_id, row.team, allocated, chain)

    # A subject the read models have not settled yet (just registered, say) is read from
    # the event store, which is the source of truth: a client that registers a child and
    # allocates it straight away is not told the child does not exist.

    def _worker_from_store(self, authority: str, staff_id: str) -> WorkerRelations | None:
        try:
            worker = self.app.get_worker(authority, staff_id)
        except SubjectPurged:
            raise  # only its tombstones are left: say so (ADR 0012)
        except DomainError:
            return None
        manager = worker.employment.line_manager_id
        chain = (manager, *self._chain(authority, manager)) if manager else ()
        return WorkerRelations(authority, staff_id, worker.employment.team, chain)

    def _child_from_store(self, authority: str, child_id: str) -> ChildRelations | None:
        try:
            child = self.app.get_child(authority, child_id)
        except SubjectPurged:
            raise  # only its tombstones are left: say so (ADR 0012)
        except DomainError:
            return None
        allocated = child.allocated_worker_id
        chain = self._chain(authority, allocated)
        return ChildRelations(authority, child_id, child.team, allocated, chain)

    def team_of(self, principal: Principal) -> str | None:
        row = self._subject_row(principal.authority_code, "worker", principal.staff_id)
        return str(row.team) if row is not None and row.team else None

    # -- deciding ------------------------------------------------------------------------

    def decide(self, principal: Principal, operation: Operation, record: Record) -> Decision:
        return decide(
            principal, operation, record, self.clock(), principal_team=self.team_of(principal)
        )

    def authorize(self, principal: Principal, operation: Operation, record: Record) -> None:
        decision = self.decide(principal, operation, record)
        if not decision:
            raise Forbidden(decision.reason, rule=decision.rule)

    # -- reads of records (authorised, then logged) ---------------------------------------

    def open_child(
        self, principal: Principal, child_id: str, *, what: str, purpose: str
    ) -> ChildRelations:
        """Authorise a read of a child's record and log it; NotFound hides other
        authorities' children and children not (yet) known to the read models."""
        relations = self.child_relations(principal.authority_code, child_id)
        if relations is None:
            raise NotFound("no such child in this authority", field="childId")
        self.authorize(principal, Operation.READ, relations)
        self._log_read(principal, child_id=child_id, what=what, purpose=purpose)
        return relations

    def open_worker(
        self, principal: Principal, staff_id: str, *, what: str, purpose: str
    ) -> WorkerRelations:
        relations = self.worker_relations(principal.authority_code, staff_id)
        if relations is None:
            raise NotFound("no such worker in this authority", field="staffId")
        self.authorize(principal, Operation.READ, relations)
        self._log_read(principal, staff_id=staff_id, what=what, purpose=purpose)
        return relations

    def open_reports(self, principal: Principal, team: str | None) -> None:
        self.authorize(principal, Operation.READ, ReportScope(principal.authority_code, team=team))

    def _log_read(
        self,
        principal: Principal,
        *,
        what: str,
        purpose: str,
        staff_id: str | None = None,
        child_id: str | None = None,
    ) -> None:
        self.app.execute(
            c.RecordAccess(
                command_id=f"read-{uuid.uuid4().hex}",
                actor=self.actor(principal),
                occurred_at=self.clock(),
                what=what[:500],
                purpose=purpose[:500],
                staff_id=staff_id,
                child_id=child_id,
            )
        )

    # -- commands --------------------------------------------------------------------------

    def actor(self, principal: Principal) -> Actor:
        return Actor(principal.staff_id, principal.actor_role, principal.authority_code)

    def execute(self, principal: Principal, command: c.Command) -> CommandResult:
        """Authorise a command against the record it writes to, then run it once."""
        if type(command) in INTERNAL_COMMANDS:
            raise Forbidden("the API records reads itself", rule="ACCESS-LOG")
        self.authorize(principal, Operation.WRITE, self._target(principal, command))
        return self.app.execute(command, retries=2)

    def _target(self, principal: Principal, command: c.Command) -> Record:
        authority = principal.authority_code
        kind = type(command)
        if kind in AUTHORITY_COMMANDS:
            return ReportScope(authority)
        if kind in EMPLOYMENT_COMMANDS and principal.role not in EMPLOYMENT_ROLES:
            raise Forbidden("employment records are kept by HR and administrators", rule="HR")
        if kind in HOLD_COMMANDS and principal.role is not AccessRole.DATA_PROTECTION_OFFICER:
            raise Forbidden("legal holds and purges are the data protection officer's", rule="DP")
        if isinstance(command, c.AllocateWorker | c.AllocateTeam) and principal.role not in (
            *MANAGERS,
            AccessRole.ADMINISTRATOR,
        ):
            raise Forbidden("allocating a case is a manager's decision", rule="ALLOCATION")
        if isinstance(command, c.RegisterWorker):
            return WorkerRelations(authority, command.staff_id, command.team)
        if isinstance(command, c.RegisterChild):
            if principal.role in (AccessRole.PRACTITIONER, AccessRole.TEAM_MANAGER):
                # A new referral: recorded by the front door before any allocation.
                return ChildRelations(authority, command.child_id, None, principal.staff_id)
            return ChildRelations(authority, command.child_id, None, None)
        staff_id = getattr(command, "staff_id", None)
        child_id = getattr(command, "child_id", None)
        if child_id:
            found = self.child_relations(authority, str(child_id))
            if found is None:
                raise NotFound("no such child in this authority", field="childId")
            if found.team is None and isinstance(command, c.AllocateWorker):
                # A new referral, not yet with any team: decided by the receiving team,
                # or by the line-management chain of the worker receiving it.
                chain = self._chain(authority, command.worker_id)
                return replace(
                    found, team=command.team, allocated_worker=command.worker_id, chain=chain
                )
            if found.team is None and isinstance(command, c.AllocateTeam):
                return replace(found, team=command.team)
            return found
        if staff_id:
            worker = self.worker_relations(authority, str(staff_id))
            if worker is None:
                raise NotFound("no such worker in this authority", field="staffId")
            return worker
        return ReportScope(authority)

    # -- read-your-writes ----------------------------------------------------------------

    def consistent_with(self, position: int | None, timeout: float = 5.0) -> None:
        """Wait (bounded) until the read models have applied ``position``. A position
        beyond the log's head was never returned by a mutation: refused at once, so a
        client cannot hold a worker thread for the whole timeout."""
        if position is None:
            return
        head = self.app.recorder.max_notification_id() or 0
        if position < 1 or position > head:
            raise ValidationError(
                "consistentWith is a position a mutation returned", field="consistentWith"
            )
        wait_for(self.engine, self.consistency_projection, position, timeout)
