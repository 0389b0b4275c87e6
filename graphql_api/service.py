"""What the GraphQL adapter calls: authorization, the access log, commands and reads.

Synchronous (the application and the read models are), and free of GraphQL: resolvers
run these in a worker thread. Every read of a child's record or a personal file is
authorised first and then written to the subject's access log (``RecordAccess``) before
any of it is returned: if the log cannot be written, nothing is returned (fail closed).
The API may read a record's state while its log entry is being written, and answers only
once the entry is committed (ADR 0035).

No existence oracle (issue 23): within an authority, a child or worker the caller may not
see answers exactly as one that does not exist (``hidden``: the same code, message and
field), after the same database work: the subject is looked up the same way (a read:
its row of the relationship table, its line-management chain and the caller's team in
one statement, ``_lookup``; a write: its row, then its chain, on one connection, and the
caller's team), and nothing is logged or validated before the answer.
The relationship table is written with the events (ADR 0020, addendum), so what a write
changed counts in the next request, with no read model running.
A write is authorised on every subject it names before any rule of the domain or check of
its input runs, so no rule can tell a hidden subject's state either. FORBIDDEN is kept
for a subject the caller may see but may not write: that tells them nothing new.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import (
    CompoundSelect,
    Connection,
    Engine,
    String,
    bindparam,
    literal,
    select,
    union_all,
)

from application.app import CommandResult, OversightApplication, SubjectPurged
from application.policy import cite_refusal
from application.purge import Purges
from application.relationships import COLUMNS, Relationship, from_values, subject_relationship
from domain import commands as c
from domain.authorization import (
    READ_ONLY,
    WRITES,
    Act,
    ChildRelations,
    Decision,
    Operation,
    Principal,
    Record,
    ReportScope,
    WorkerRelations,
    act_of,
    authorize_acts,
    chain_of,
    decide,
    record_classes_of,
)
from domain.errors import DomainError, Forbidden, NotFound, ValidationError
from domain.identifiers import check_local_id
from domain.policy.packs import PackLibrary
from domain.provenance import Actor
from domain.vocabulary import Role
from projections.engine import wait_for

#: How far up a line-management chain access reaches (as ``chain_of``'s default).
CHAIN_LIMIT = 10

#: Commands the API never takes from a client: it records reads itself; only an import
#: declares care begun before its record or corrects an imported episode, and missing
#: periods come from the return for now (ADR 0025).
INTERNAL_COMMANDS: frozenset[type[c.Command]] = frozenset(
    {c.RecordAccess, c.RecordCareBeganBeforeRecord, c.CorrectCareEpisode, c.RecordMissingFromCare}
)

#: Commands that configure the authority (administrators).
AUTHORITY_COMMANDS: frozenset[type[c.Command]] = frozenset(
    {c.RegisterAuthority, c.AdoptPolicyPack, c.AddClosureDay}
)
#: Employment records (HR) [the worker's changes; registering, HR and administrators].
#: Absences are recorded by HR and by the worker's own chain (a manager records sickness).
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
#: Acts that are one role's remit (employment, holds, allocation, configuration): a
#: caller whose role never does them is refused before any subject is looked up.
REMITS: frozenset[Act] = frozenset(
    {
        Act.CONFIGURE,
        Act.REGISTER_WORKER,
        Act.KEEP_EMPLOYMENT,
        Act.HOLD_OR_PURGE,
        Act.REGISTER_CHILD,
        Act.ALLOCATE,
    }
)
#: Legal holds and purges are the data protection officer's (ADR 0012).
HOLD_COMMANDS: frozenset[type[c.Command]] = frozenset(
    {c.PlaceLegalHold, c.LiftLegalHold, c.PurgeRecord}
)

#: What a subject answers when it does not exist in the caller's authority, or exists but
#: the caller may not see it: one message per kind, the same for both, never the id.
HIDDEN_MESSAGES = {
    "child": "no such child in this authority, or you may not see it",
    "worker": "no such worker in this authority, or you may not see it",
}

SubjectRelations = ChildRelations | WorkerRelations

#: The parts of ``Service._lookup``'s one statement.
_SUBJECT, _CALLER, _CHAIN = 0, 1, 2


@functools.cache
def _lookup_statement(kind: str) -> CompoundSelect[Any]:
    """``Service._lookup``'s statement for a subject of ``kind``, built once (building
    it cost more than running it): the subject's row, the caller's row, and the chain
    up from the subject's worker (a child's allocated worker, found in the same
    statement; a worker themself), each row tagged with its part."""
    table = subject_relationship
    authority, local_id = bindparam("authority", type_=String), bindparam("local_id", type_=String)
    start = (
        select(table.c.allocated_worker_id)
        .where(
            table.c.authority_code == authority,
            table.c.subject_kind == "child",
            table.c.local_id == local_id,
        )
        .scalar_subquery()
        if kind == "child"
        else local_id
    )
    step = (
        select(*table.columns, literal(0).label("depth"))
        .where(
            table.c.authority_code == authority,
            table.c.subject_kind == "worker",
            table.c.local_id == start,
        )
        .cte("chain", recursive=True)
    )
    above = table.alias("above")
    step = step.union_all(
        select(*above.columns, step.c.depth + 1).where(
            above.c.authority_code == authority,
            above.c.subject_kind == "worker",
            above.c.local_id == step.c.line_manager_id,
            step.c.depth < CHAIN_LIMIT,
        )
    )
    return union_all(
        select(literal(_SUBJECT).label("part"), *table.columns).where(
            table.c.authority_code == authority,
            table.c.subject_kind == kind,
            table.c.local_id == local_id,
        ),
        select(literal(_CALLER).label("part"), *table.columns).where(
            table.c.authority_code == authority,
            table.c.subject_kind == "worker",
            table.c.local_id == bindparam("caller", type_=String),
        ),
        select(literal(_CHAIN).label("part"), *(step.c[name] for name in COLUMNS)),
    )


def _purged(row: Relationship) -> SubjectPurged:
    """What a subject whose own record was purged answers (as its tombstones say in
    the store: ``Subject.ContentPurged``)."""
    record = "worker file" if row.subject_kind == "worker" else "child record"
    return SubjectPurged(f"this {record} was purged", field="subject")


def hidden(kind: str, field: str) -> NotFound:
    """The one answer for a subject that is not there and for one the caller may not see
    (issue 23): the same code, message and field, so the two cannot be told apart."""
    return NotFound(HIDDEN_MESSAGES[kind], field=field)


@dataclass(frozen=True)
class Named:
    """A subject a command names: the record it writes on (``written``), or a party whose
    record it reads or changes as well (the worker a case is allocated to)."""

    kind: str  # child | worker
    local_id: str
    field: str  # the input field naming it (snake case, as the domain names fields)
    written: bool = True


def named_subjects(command: c.Command) -> list[Named]:
    """Every subject ``command`` names whose record the domain reads or writes, the one it
    writes on first. Ids that are only recorded (a supervisor's, a decision maker's) are
    never looked up, so they cannot be probed, and are not listed."""
    named: list[Named] = []
    child_id = getattr(command, "child_id", None)
    staff_id = getattr(command, "staff_id", None)
    if child_id is not None:
        named.append(Named("child", str(child_id), "child_id"))
    if staff_id is not None:
        named.append(Named("worker", str(staff_id), "staff_id"))
    if isinstance(command, c.AllocateWorker):
        named.append(Named("worker", command.worker_id, "worker_id", written=False))
    if isinstance(command, c.HoldSupervisionSession):
        named.extend(
            Named("child", discussion.child_id, f"case_discussions[{index}].child_id")
            for index, discussion in enumerate(command.case_discussions)
        )
    return named


@dataclass
class Service:
    app: OversightApplication
    engine: Engine
    library: PackLibrary
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    #: The projection reads wait on for ``consistentWith`` (read-your-writes).
    consistency_projection: str = "compliance"

    # -- relationships, from the relationship table ------------------------------------
    #
    # ``subject_relationship`` is part of the write model: the recorders write it in the
    # same transaction as the events that change a relationship (ADR 0020, addendum), so
    # a worker moved to a new manager, a child reallocated or a worker moved team counts
    # in the very next request, with no read model running. Every subject the store
    # holds has a row (a purged one: a row saying only that), so a lookup is always the
    # same two queries on one connection: the subject's row, then the chain up from it
    # (run whatever the row holds, finding nothing for a missing subject). A subject
    # there, hidden or missing costs the same (issue 23).

    def _subject_row(
        self, authority: str, kind: str, local_id: str, conn: Connection | None = None
    ) -> Relationship | None:
        table = subject_relationship
        query = select(*table.columns).where(
            table.c.authority_code == authority,
            table.c.subject_kind == kind,
            table.c.local_id == local_id,
        )
        if conn is not None:
            row = conn.execute(query).one_or_none()
        else:
            with self.engine.connect() as own:
                row = own.execute(query).one_or_none()
        return None if row is None else from_values(tuple(row))

    def _chain(
        self,
        authority: str,
        staff_id: str | None,
        *,
        always: bool = False,
        conn: Connection | None = None,
    ) -> tuple[str, ...]:
        """A worker's line-management chain, nearest first: one recursive query up the
        chain (bounded), not every worker of the authority. ``always``: run the query
        even with no worker (it finds nothing), so that looking up a subject costs the
        same whatever it holds."""
        if not staff_id and not always:
            return ()
        staff_id = staff_id or ""
        table = subject_relationship
        step = (
            select(table.c.local_id, table.c.line_manager_id, literal(0).label("depth"))
            .where(
                table.c.authority_code == authority,
                table.c.subject_kind == "worker",
                table.c.local_id == staff_id,
            )
            .cte("chain", recursive=True)
        )
        above = table.alias("above")
        step = step.union_all(
            select(above.c.local_id, above.c.line_manager_id, step.c.depth + 1).where(
                above.c.authority_code == authority,
                above.c.subject_kind == "worker",
                above.c.local_id == step.c.line_manager_id,
                step.c.depth < CHAIN_LIMIT,
            )
        )
        query = select(step.c.local_id, step.c.line_manager_id)
        if conn is not None:
            rows = conn.execute(query).all()
        else:
            with self.engine.connect() as own:
                rows = own.execute(query).all()
        managers = {str(r[0]): (str(r[1]) if r[1] else None) for r in rows}
        return chain_of(staff_id, managers, CHAIN_LIMIT)

    def _lookup(
        self, authority: str, kind: str, local_id: str, caller: str
    ) -> tuple[Relationship | None, tuple[str, ...], Relationship | None]:
        """The subject's row, its line-management chain (a child's: from its allocated
        worker; a worker's: from them) and the caller's own row, in one statement: one
        round trip where the subject's row, the chain and the caller's team were three,
        each on a connection of its own (session 10, issue 18). The same statement
        whatever the subject holds, so a subject there, hidden or missing costs the
        same (issue 23)."""
        query = _lookup_statement(kind)
        params = {"authority": authority, "local_id": local_id, "caller": caller}
        with self.engine.connect() as conn:
            rows = conn.execute(query, params).all()
        subject = mine = None
        managers: dict[str, str | None] = {}
        for part, *values in rows:
            row = from_values(values)
            if part == _SUBJECT:
                subject = row
            elif part == _CALLER:
                mine = row
            else:
                managers[row.local_id] = row.line_manager_id or None
        start_id = (
            local_id
            if kind == "worker"
            else (subject.allocated_worker_id if subject is not None else None)
        )
        return subject, chain_of(start_id, managers, CHAIN_LIMIT), mine

    def _relations(
        self,
        authority: str,
        kind: str,
        local_id: str,
        row: Relationship | None,
        chain: tuple[str, ...],
    ) -> SubjectRelations | None:
        """A subject's relationships from its row and chain (None: no such subject in the
        authority); ``SubjectPurged`` when only what says it was purged is left."""
        if row is None:
            return None
        if row.purged:
            raise _purged(row)
        if kind == "child":
            return ChildRelations(authority, local_id, row.team, row.allocated_worker_id, chain)
        supervisors = [s for s in row.supervisor_ids if s != local_id]
        ordered = tuple(p for p in dict.fromkeys([*supervisors, *chain]) if p != local_id)
        return WorkerRelations(authority, local_id, row.team, ordered)

    def worker_relations(self, authority: str, staff_id: str) -> WorkerRelations | None:
        """A worker's file and its people (None: no such worker in the authority);
        ``SubjectPurged`` when only what says it was purged is left."""
        check_local_id(staff_id, field="staff_id")  # before any query: typed, named
        with self.engine.connect() as conn:
            row = self._subject_row(authority, "worker", staff_id, conn)
            chain = self._chain(authority, staff_id, always=True, conn=conn)
        if row is None:
            return None
        if row.purged:
            raise _purged(row)
        supervisors = [s for s in row.supervisor_ids if s != staff_id]
        ordered = tuple(p for p in dict.fromkeys([*supervisors, *chain]) if p != staff_id)
        return WorkerRelations(authority, staff_id, row.team, ordered)

    def child_relations(self, authority: str, child_id: str) -> ChildRelations | None:
        check_local_id(child_id, field="child_id")
        with self.engine.connect() as conn:
            row = self._subject_row(authority, "child", child_id, conn)
            allocated = row.allocated_worker_id if row is not None else None
            # Queried even for an unallocated or missing child (it finds nothing then).
            chain = self._chain(authority, allocated, always=True, conn=conn)
        if row is None:
            return None
        if row.purged:
            raise _purged(row)
        return ChildRelations(authority, child_id, row.team, allocated, chain)

    def team_of(self, principal: Principal) -> str | None:
        """The caller's team, from their own row (as the write that set it left it)."""
        row = self._subject_row(principal.authority_code, "worker", principal.staff_id)
        if row is None or row.purged:
            return None
        return row.team or None

    # -- deciding ------------------------------------------------------------------------

    def decide(self, principal: Principal, operation: Operation, record: Record) -> Decision:
        return decide(
            principal, operation, record, self.clock(), principal_team=self.team_of(principal)
        )

    def authorize(self, principal: Principal, operation: Operation, record: Record) -> None:
        decision = self.decide(principal, operation, record)
        if not decision:
            refused = Forbidden(decision.reason, rule=decision.rule)
            raise cite_refusal(self.app, principal.authority_code, refused)

    def _may(
        self, principal: Principal, operation: Operation, record: Record, team: str | None
    ) -> Decision:
        """``decide``, with the caller's team already read (once per request)."""
        return decide(principal, operation, record, self.clock(), principal_team=team)

    def _find(
        self, authority: str, kind: str, local_id: str
    ) -> tuple[SubjectRelations | None, SubjectPurged | None]:
        """A subject's relationships (None: not in this authority), or what says its own
        record was purged. The same database work whether it is there or not."""
        try:
            if kind == "child":
                return self.child_relations(authority, local_id), None
            return self.worker_relations(authority, local_id), None
        except SubjectPurged as purged:
            return None, purged

    def _hide(
        self,
        principal: Principal,
        named: Named,
        purged: SubjectPurged | None,
        team: str | None,
    ) -> DomainError:
        """What a subject the caller may not see, or that is not there, answers. A purged
        one says so only to a caller who would see any such subject of the authority
        (quality assurance, senior managers, the supervisee of their own file...): its
        relationships went with it, so no one else may learn it ever existed."""
        if purged is not None:
            bare: SubjectRelations = (
                ChildRelations(principal.authority_code, named.local_id, None, None)
                if named.kind == "child"
                else WorkerRelations(principal.authority_code, named.local_id, None)
            )
            if self._may(principal, Operation.READ, bare, team) or self._may(
                principal, Operation.WRITE, bare, team
            ):
                return purged
        return hidden(named.kind, named.field)

    # -- reads of records (authorised, then logged) ---------------------------------------

    def open_child(
        self, principal: Principal, child_id: str, *, what: str, purpose: str
    ) -> ChildRelations:
        """Authorise a read of a child's record and log it. A child the caller may not
        read answers as one that does not exist (``hidden``), as do other authorities'
        children and children not known to the read models or the store."""
        found = self.authorise_child(principal, child_id)
        self.log_read(principal, child_id=child_id, what=what, purpose=purpose)
        return found

    def authorise_child(self, principal: Principal, child_id: str) -> ChildRelations:
        """``open_child`` without the log: the caller must log the read
        (``log_read``) before anything of the record is returned."""
        found = self._open(principal, Named("child", child_id, "child_id"))
        assert isinstance(found, ChildRelations)
        return found

    def authorise_worker(
        self, principal: Principal, staff_id: str, purpose: str
    ) -> WorkerRelations:
        """``open_worker`` without the log (see ``authorise_child``)."""
        _check_purpose(purpose)
        found = self._open(principal, Named("worker", staff_id, "staff_id"))
        assert isinstance(found, WorkerRelations)
        return found

    def open_worker(
        self, principal: Principal, staff_id: str, *, what: str, purpose: str
    ) -> WorkerRelations:
        found = self.authorise_worker(principal, staff_id, purpose)
        self.log_read(principal, staff_id=staff_id, what=what, purpose=purpose)
        return found

    def _open(self, principal: Principal, named: Named) -> SubjectRelations:
        """The subject, if the caller may read it. Refused or not there, the work done is
        the same (one statement: the subject's row and chain and the caller's team;
        nothing logged)."""
        check_local_id(named.local_id, field=named.field)  # before any query: typed, named
        authority = principal.authority_code
        row, chain, mine = self._lookup(authority, named.kind, named.local_id, principal.staff_id)
        team = None if mine is None or mine.purged else (mine.team or None)
        found: SubjectRelations | None
        purged: SubjectPurged | None = None
        try:
            found = self._relations(authority, named.kind, named.local_id, row, chain)
        except SubjectPurged as error:
            found, purged = None, error
        if found is not None and self._may(principal, Operation.READ, found, team):
            return found
        raise self._hide(principal, named, purged, team)

    def still_readable(self, principal: Principal, kind: str, local_id: str) -> None:
        """Raise what ``open_child`` or ``open_worker`` would for a record the caller may no
        longer read (reallocated, moved team, a grant expired); nothing is logged. A live
        view asks it again before each entry it sends."""
        field = "child_id" if kind == "child" else "staff_id"
        self._open(principal, Named(kind, local_id, field))

    def open_reports(self, principal: Principal, team: str | None) -> None:
        self.authorize(principal, Operation.READ, ReportScope(principal.authority_code, team=team))

    def open_purge_schedule(self, principal: Principal) -> None:
        """The purge schedule is the data protection officer's to work from (ADR 0012), and
        an authority report for everyone else who may read those."""
        if principal.role is not Role.DATA_PROTECTION_OFFICER:
            self.open_reports(principal, None)

    def log_read(
        self,
        principal: Principal,
        *,
        what: str,
        purpose: str,
        staff_id: str | None = None,
        child_id: str | None = None,
    ) -> None:
        """Write a read of the child's record or the worker's file on its access log,
        committed: nothing of the record may be returned before this returns."""
        self.app.execute(
            c.RecordAccess(
                command_id=f"read-{uuid.uuid4().hex}",
                actor=self.actor(principal),
                occurred_at=self.clock(),
                what=what[:500],
                purpose=purpose,
                staff_id=staff_id,
                child_id=child_id,
            )
        )

    # -- commands --------------------------------------------------------------------------

    def actor(self, principal: Principal) -> Actor:
        return Actor(principal.staff_id, principal.actor_role, principal.authority_code)

    def execute(
        self,
        principal: Principal,
        command: c.Command,
        *,
        checks: Callable[[], object] | None = None,
        occurred_at_given: bool = True,
    ) -> CommandResult:
        """Authorise a command on every subject it names, then run the adapter's own
        checks of its input (``checks``), then run it once: no check of the input and no
        rule of the domain runs before the caller is known to be allowed (issue 23). A
        purge that cannot finish raises one of ``errors.UNFINISHED_PURGE``. Without
        ``occurred_at_given`` the valid time is the adapter's "now", which a retry need
        not repeat (ADR 0027)."""
        self.authorize_command(principal, command)
        if checks is not None:
            checks()
        if isinstance(command, c.PurgeRecord):
            # A purge is the purge use case's: redacted, compacted, certified (ADR 0018).
            return self.purge_use_case().purge_record(command, occurred_at_given=occurred_at_given)
        return self.app.execute(
            command,
            retries=2,
            authorize=lambda app: authorize_acts(app, principal, command),
            occurred_at_given=occurred_at_given,
        )

    def purge_use_case(self) -> Purges:
        """The purge use case on this service's store, with the ledger the environment
        names (ADR 0018)."""
        return Purges.on(self.app, self.engine)

    def authorize_command(self, principal: Principal, command: c.Command) -> None:
        """Refuse ``command`` unless the caller may write it: first what their role alone
        decides (whatever the subject), then each subject it names, in order: one not
        there or not visible to them is ``hidden``. Only the ids' form is checked before
        (they are looked up). Each act on each subject is then decided on the aggregates,
        inside the command's own execution (``authorize_acts``): one they see but may
        not write on is FORBIDDEN."""
        if type(command) in INTERNAL_COMMANDS:
            raise Forbidden("the API records reads itself", rule="ACCESS-LOG")
        authority = principal.authority_code
        self._refuse_by_role(principal, command, only=REMITS)
        if type(command) in AUTHORITY_COMMANDS or isinstance(
            command, c.RegisterWorker | c.RegisterChild
        ):
            self._refuse_by_role(principal, command)
            return  # nothing there yet to hide: the act is decided as it runs
        named = named_subjects(command)
        if not named:
            self.authorize(principal, Operation.WRITE, ReportScope(authority))
            return
        for subject in named:
            check_local_id(subject.local_id, field=subject.field)
        # The receiving worker's chain decides a new referral's allocation: read for every
        # allocation, before the child is, so the work does not depend on the child.
        receiving = (
            self._chain(authority, command.worker_id)
            if isinstance(command, c.AllocateWorker)
            else ()
        )
        team = self.team_of(principal)
        for subject in named:
            found, purged = self._find(authority, subject.kind, subject.local_id)
            if found is None:
                raise self._hide(principal, subject, purged, team)
            if not subject.written:
                if self._party_visible(principal, found, team):
                    continue
                raise self._hide(principal, subject, None, team)
            if self._may(principal, Operation.READ, found, team) or self._may(
                principal, Operation.WRITE, self._written(command, found, receiving), team
            ):
                continue  # seen: the act itself is decided on the aggregates
            raise self._hide(principal, subject, None, team)
        # Every subject seen: what the caller's role never does is FORBIDDEN now (it tells
        # them nothing new), before any check of the input.
        self._refuse_by_role(principal, command)

    def _refuse_by_role(
        self, principal: Principal, command: c.Command, only: frozenset[Act] | None = None
    ) -> None:
        """What the caller's role alone refuses, whatever the subject (so it tells
        nothing of any subject): an act their role does to no one. ``only``: just
        these acts (a role's remit is refused before any subject is looked up)."""
        role = principal.role
        if role in READ_ONLY and only is None:
            raise Forbidden(f"a {role.value} reads and never writes", rule="READ-ONLY")
        for record in record_classes_of(command):
            act = act_of(type(command), record)
            if only is not None and act not in only:
                continue
            rule, allowed = WRITES[act]
            if not allowed.get(role):
                refused = Forbidden(
                    f"ARoleWritesOnlyTheActsItsClauseNames [{rule}]: a "
                    f"{role.value.replace('_', ' ')} may not {act.value}",
                    rule=rule,
                )
                # The act's rule, citing the caller's own authority's clauses for it.
                raise cite_refusal(self.app, principal.authority_code, refused)

    @staticmethod
    def _written(
        command: c.Command, found: SubjectRelations, receiving: tuple[str, ...]
    ) -> SubjectRelations:
        """The record a write on ``found`` is seen against. A new referral, not yet
        with any team, is allocated by the receiving team, or by the line-management
        chain of the worker receiving it (``authorize_acts`` decides the same on the
        aggregates)."""
        if isinstance(found, ChildRelations) and found.team is None:
            if isinstance(command, c.AllocateWorker):
                return replace(
                    found, team=command.team, allocated_worker=command.worker_id, chain=receiving
                )
            if isinstance(command, c.AllocateTeam):
                return replace(found, team=command.team)
        return found

    def _party_visible(
        self, principal: Principal, found: SubjectRelations, team: str | None
    ) -> bool:
        """A worker a command names (a case's new worker): one whose file the caller may
        read or write, or who is on a staff list they may read (their team's)."""
        return bool(
            self._may(principal, Operation.READ, found, team)
            or self._may(principal, Operation.WRITE, found, team)
            or self._may(
                principal,
                Operation.READ,
                ReportScope(principal.authority_code, team=found.team),
                team,
            )
        )

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


#: The longest ``purpose`` a read may give: a reason, not a document (it is stored on
#: the subject's access log and kept as long as the log).
MAX_PURPOSE = 500


def _check_purpose(purpose: str) -> None:
    """A read's purpose is refused, not cut, when it is blank or too long."""
    if not purpose.strip() or len(purpose) > MAX_PURPOSE:
        raise ValidationError(
            f"purpose is a reason of 1 to {MAX_PURPOSE} characters", field="purpose"
        )


class ServiceRoutes(Protocol):
    """Where a caller's requests go when one API serves several databases (ADR 0033):
    the service of the database holding the caller's authority, chosen from the token's
    authority, never from a request field. The routing table itself is the wiring's
    (``oversight.tenancy``); the API only asks."""

    def service_for(self, authority_code: str) -> Service | None:
        """The authority's service; None when no database here holds the authority."""
        ...
