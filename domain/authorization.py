"""Who may read and write which records: roles and relationships (ADR 0011).

The policies say who reads what:

- a personal supervision file is private, not confidential (``PersonalFileIsPrivate``):
  the supervisee, their supervisor and line-management chain, managers covering, senior
  managers for quality assurance, HR and investigating officers with a grant, and
  inspectors; never peers;
- a child's case supervision and oversight records sit on the child's file
  (``ChildRecordIsOnTheChildsFile``): readable by those with access to that file
  (allocation, team, service), quality assurance, inspectors, and investigating
  officers with a grant;
- authority-wide reports are for quality assurance and senior managers, and a team
  manager's own team (``ReportsAreForQualityAssurance``).

Decisions are pure functions of a ``Principal`` (who is asking, from their verified
token), the operation, and the record's relationships. Every decision names the rule it
rests on by a stable name (``ACCESS_DECISIONS``, or a named rule of ``domain.rules``),
so a refusal can say why; which clause of its policy that is, each authority's pack
says (``[citations]``, issue 19 item 3): the application adds it to the refusal.

Writes are decided per act (``Act``: what a command does to one subject it touches), by
the caller's role and their relationship to that subject (``Relationship``), from
``WRITES``: a role writes only the acts its clause names, never every command. Who signs,
decides, approves or resolves within an act is the aggregate's own rule (``domain.rules``:
the actor is the party), with the roles and chain of the subject's authority's pack
(``domain.governance``, ADR 0022). The adapter reads a write's relationships from the
aggregates, so a write right after the one that made the relationship is decided on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from domain import commands as c
from domain.errors import DomainError, Forbidden
from domain.rules import (
    ManagementOversightIsAManagersDecision,
    OnlyTheAuthorOrTheirLineManagerCorrects,
)
from domain.vocabulary import (
    Role,
)

#: The roles a token can carry.
ACCESS_ROLES: tuple[Role, ...] = (
    Role.PRACTITIONER,
    Role.TEAM_MANAGER,  # supervisor / team manager
    Role.SERVICE_MANAGER,
    Role.HEAD_OF_SERVICE,
    Role.QA_AUDITOR,  # read-only, the whole authority
    Role.INSPECTOR,  # read-only, for the time of their grant
    Role.INVESTIGATING_OFFICER,  # named grants only
    Role.HR,
    Role.DATA_PROTECTION_OFFICER,
    Role.ADMINISTRATOR,
)


class RecordClass(StrEnum):
    CHILD_RECORD = "child_record"
    PERSONAL_FILE = "personal_file"
    AUTHORITY_REPORT = "authority_report"  # summaries, queues, registers, sheets


class Operation(StrEnum):
    READ = "read"
    WRITE = "write"


#: The access decisions by name: what a pack's ``[citations]`` cites its clauses for.
PERSONAL_FILE_IS_PRIVATE = "PersonalFileIsPrivate"
CHILD_RECORD_IS_ON_THE_CHILDS_FILE = "ChildRecordIsOnTheChildsFile"
REPORTS_ARE_FOR_QUALITY_ASSURANCE = "ReportsAreForQualityAssurance"
CASE_SUPERVISION_IS_A_MANAGERS_RECORD = "CaseSupervisionIsAManagersRecord"
DISAGREEMENT_IS_RAISED_BY_A_PARTY = "DisagreementIsRaisedByAParty"
FILES_ARE_AUDITED_UP_THE_CHAIN = "FilesAreAuditedUpTheChain"
#: Named invariants of ``domain.rules`` that also name a write (the same clause binds).
CORRECTED_BY_THE_AUTHOR = OnlyTheAuthorOrTheirLineManagerCorrects.name
MANAGERS_DECISION = ManagementOversightIsAManagersDecision.name
ACCESS_DECISIONS: frozenset[str] = frozenset(
    {
        PERSONAL_FILE_IS_PRIVATE,
        CHILD_RECORD_IS_ON_THE_CHILDS_FILE,
        REPORTS_ARE_FOR_QUALITY_ASSURANCE,
        CASE_SUPERVISION_IS_A_MANAGERS_RECORD,
        DISAGREEMENT_IS_RAISED_BY_A_PARTY,
        FILES_ARE_AUDITED_UP_THE_CHAIN,
    }
)

READ_ONLY = frozenset({Role.QA_AUDITOR, Role.INSPECTOR})
MANAGERS = frozenset({Role.TEAM_MANAGER, Role.SERVICE_MANAGER, Role.HEAD_OF_SERVICE})
SENIOR = frozenset({Role.SERVICE_MANAGER, Role.HEAD_OF_SERVICE})


@dataclass(frozen=True)
class Principal:
    """Who is asking: from a verified token, never from the request body."""

    staff_id: str
    role: Role
    authority_code: str
    #: Records named in the token's grant: "worker:SW001", "child:C0001".
    grants: frozenset[str] = frozenset()
    #: An inspector's or investigator's grant ends here (besides the token's expiry).
    grant_expires_at: datetime | None = None
    #: When the token itself expires: a request is checked at its start, and a live view
    #: (a subscription) ends here.
    expires_at: datetime | None = None

    def granted(self, kind: str, local_id: str, now: datetime) -> bool:
        if self.grant_expires_at is not None and now >= self.grant_expires_at:
            return False
        return f"{kind}:{local_id}" in self.grants

    @property
    def actor_role(self) -> Role:
        """The role recorded on the events this principal writes."""
        return _ACTOR_ROLE[self.role]


_ACTOR_ROLE = {
    Role.PRACTITIONER: Role.PRACTITIONER,
    Role.TEAM_MANAGER: Role.TEAM_MANAGER,
    Role.SERVICE_MANAGER: Role.SERVICE_MANAGER,
    Role.HEAD_OF_SERVICE: Role.HEAD_OF_SERVICE,
    Role.QA_AUDITOR: Role.AUDITOR,
    Role.INSPECTOR: Role.AUDITOR,
    Role.INVESTIGATING_OFFICER: Role.AUDITOR,
    Role.HR: Role.ADMINISTRATOR,
    Role.DATA_PROTECTION_OFFICER: Role.DATA_PROTECTION_OFFICER,
    Role.ADMINISTRATOR: Role.ADMINISTRATOR,
}


@dataclass(frozen=True)
class WorkerRelations:
    """A worker's file and the people related to it."""

    authority_code: str
    staff_id: str
    team: str | None
    #: Their supervisors (agreements) and line-management chain, nearest first.
    chain: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChildRelations:
    """A child's file and the people related to it."""

    authority_code: str
    local_id: str
    team: str | None
    allocated_worker: str | None
    #: The allocated worker's line-management chain, nearest first.
    chain: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportScope:
    """An authority-wide read: a summary, a queue, a register (optionally one team's)."""

    authority_code: str
    team: str | None = None


Record = WorkerRelations | ChildRelations | ReportScope


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule: str
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def _allow(rule: str, reason: str) -> Decision:
    return Decision(True, rule, reason)


def _deny(rule: str, reason: str) -> Decision:
    return Decision(False, rule, reason)


def record_class(record: Record) -> RecordClass:
    if isinstance(record, WorkerRelations):
        return RecordClass.PERSONAL_FILE
    if isinstance(record, ChildRelations):
        return RecordClass.CHILD_RECORD
    return RecordClass.AUTHORITY_REPORT


def decide(
    principal: Principal,
    operation: Operation,
    record: Record,
    now: datetime,
    *,
    principal_team: str | None = None,
) -> Decision:
    """May ``principal`` do ``operation`` on ``record`` at ``now``?

    ``principal_team``: the asker's own team (from their worker record), for team access.
    """
    if record.authority_code != principal.authority_code:
        # Authority isolation: indistinguishable from a record that does not exist.
        return _deny("TENANCY", "records of another authority are never visible")
    role = principal.role
    if operation is Operation.WRITE and role in READ_ONLY:
        return _deny("READ-ONLY", f"a {role.value} reads and never writes")
    if role is Role.INSPECTOR and (
        principal.grant_expires_at is None or now >= principal.grant_expires_at
    ):
        return _deny("GRANT", "an inspector reads only during a time-limited grant")
    if isinstance(record, WorkerRelations):
        return _personal_file(principal, operation, record, now)
    if isinstance(record, ChildRelations):
        return _child_record(principal, operation, record, now, principal_team)
    return _report(principal, operation, record, principal_team)


def _personal_file(
    principal: Principal, operation: Operation, worker: WorkerRelations, now: datetime
) -> Decision:
    role, me = principal.role, principal.staff_id
    if operation is Operation.WRITE:
        return _any_act(principal, worker, None)
    private = PERSONAL_FILE_IS_PRIVATE
    if me == worker.staff_id:
        return _allow(private, "the supervisee reads their own file")
    if role in MANAGERS and me in worker.chain:
        return _allow(private, "their supervisor or line-management chain")
    if role is Role.QA_AUDITOR:
        return _allow(private, "quality assurance reads personal files")
    if role is Role.INSPECTOR:
        return _allow(private, "inspectors, during their grant")
    if role in (
        Role.HR,
        Role.INVESTIGATING_OFFICER,
        Role.DATA_PROTECTION_OFFICER,
    ):
        if principal.granted("worker", worker.staff_id, now):
            return _allow(private, f"a {role.value} with a grant for this file")
        return _deny(private, f"a {role.value} reads a personal file only with a grant")
    if role in SENIOR:
        return _deny(private, "a senior manager outside the supervisee's chain")
    return _deny(private, "personal supervision files are never read by peers")


def _child_record(
    principal: Principal,
    operation: Operation,
    child: ChildRelations,
    now: datetime,
    principal_team: str | None,
) -> Decision:
    role, me = principal.role, principal.staff_id
    if operation is Operation.WRITE:
        return _any_act(principal, child, principal_team)
    allocated = me == child.allocated_worker
    same_team = principal_team is not None and principal_team == child.team
    on_file = CHILD_RECORD_IS_ON_THE_CHILDS_FILE
    if role is Role.PRACTITIONER:
        if allocated or same_team:
            return _allow(on_file, "allocated to the child, or in the child's team")
        return _deny(on_file, "a practitioner outside the child's allocation and team")
    if role is Role.TEAM_MANAGER:
        if same_team or me in child.chain or allocated:
            return _allow(on_file, "the child's team manager or the worker's chain")
        return _deny(on_file, "a team manager of another team")
    if role in SENIOR:
        return _allow(on_file, "the service's senior managers")
    if role in READ_ONLY:
        return _allow(on_file, "quality assurance and inspectors read children's files")
    if role in (Role.INVESTIGATING_OFFICER, Role.DATA_PROTECTION_OFFICER):
        if principal.granted("child", child.local_id, now):
            return _allow(on_file, f"a {role.value} with a grant for this child")
        return _deny(on_file, f"a {role.value} reads a child's file only with a grant")
    return _deny(on_file, f"a {role.value} has no access to children's files")


def _report(
    principal: Principal, operation: Operation, scope: ReportScope, principal_team: str | None
) -> Decision:
    role = principal.role
    if operation is Operation.WRITE:
        return _any_act(principal, scope, principal_team)
    reports = REPORTS_ARE_FOR_QUALITY_ASSURANCE
    if role in SENIOR or role in READ_ONLY:
        return _allow(reports, "quality assurance and senior managers read across the authority")
    if role is Role.TEAM_MANAGER:
        if scope.team is not None and scope.team == principal_team:
            return _allow(reports, "a team manager reads their own team's figures")
        return _deny(reports, "a team manager reads their own team's figures only")
    return _deny(reports, f"a {role.value} does not read authority-wide reports")


def chain_of(
    staff_id: str | None, manager_of: dict[str, str | None], limit: int = 10
) -> tuple[str, ...]:
    """A worker's line-management chain, nearest first (cycles and depth bounded)."""
    chain: list[str] = []
    current = manager_of.get(staff_id) if staff_id else None
    while current and current not in chain and len(chain) < limit:
        chain.append(current)
        current = manager_of.get(current)
    return tuple(chain)


# -- writes: acts, relationships, and which role may do which act to whom -----------------


class Act(StrEnum):
    """What a command does to one subject it touches."""

    CONFIGURE = "configure the authority"
    REGISTER_WORKER = "register a worker"
    KEEP_EMPLOYMENT = "keep employment records"
    RECORD_ABSENCE = "record an absence"
    HOLD_OR_PURGE = "place or lift a legal hold, or purge"
    TAKE_PART_IN_SUPERVISION = "take part in supervision"
    SUPERVISE = "record supervision as the supervisor"
    APPROVE_FREQUENCY_EXCEPTION = "approve a supervision frequency exception"
    CORRECT_PERSONAL_FILE = "correct a personal file"
    DISAGREE_ON_PERSONAL_FILE = "raise, escalate or resolve a disagreement on a personal file"
    REGISTER_CHILD = "register a child"
    ALLOCATE = "allocate a case"
    RECORD_ON_CASE = "record on a child's case"
    SUPERVISE_CASE = "record case supervision"
    MANAGE_CASE = "record management oversight or a management decision"
    CORRECT_CASE_RECORD = "correct a child's record"
    DISAGREE_ON_CASE = "raise, escalate or resolve a disagreement on a child's case"
    AUDIT_SUPERVISION_FILE = "audit a supervision file"
    AUDIT_CASE_FILE = "audit a child's case supervision records"
    DISPUTE_AUDIT = "dispute an audit"
    MODERATE_AUDIT = "moderate an audit"


class Relationship(StrEnum):
    """The caller's relationship to the subject a write touches, nearest first."""

    OWN = "own"  # their own file; a child allocated to them
    SUPERVISEE = "supervisee"  # in the worker's (or the allocated worker's) chain
    TEAM = "team"  # in the subject's team
    OTHER_TEAM = "other_team"  # in the authority, none of the above
    OTHER_AUTHORITY = "other_authority"


_CLOSE = frozenset({Relationship.OWN, Relationship.SUPERVISEE})
_CASE = frozenset({Relationship.OWN, Relationship.SUPERVISEE, Relationship.TEAM})
_ANY = frozenset(
    {Relationship.OWN, Relationship.SUPERVISEE, Relationship.TEAM, Relationship.OTHER_TEAM}
)
_OWN = frozenset({Relationship.OWN})
_CHAIN = frozenset({Relationship.SUPERVISEE})
_PRACTICE = {
    Role.PRACTITIONER: frozenset({Relationship.OWN, Relationship.TEAM}),
    Role.TEAM_MANAGER: _CASE,
    Role.SERVICE_MANAGER: _ANY,
    Role.HEAD_OF_SERVICE: _ANY,
}
_CASE_MANAGERS = {
    Role.TEAM_MANAGER: _CASE,
    Role.SERVICE_MANAGER: _ANY,
    Role.HEAD_OF_SERVICE: _ANY,
}
_SUPERVISION_PARTIES = {
    Role.PRACTITIONER: _OWN,
    Role.TEAM_MANAGER: _CLOSE,
    Role.SERVICE_MANAGER: _CLOSE,
    Role.HEAD_OF_SERVICE: _CLOSE,
}
_SUPERVISORS = {role: _CHAIN for role in MANAGERS}

#: Which role may do which act, to whom; with the rule it rests on, by name (the
#: subject's pack cites its clauses: ``[citations]``). A role's writes are the acts its
#: rule names (HR, DP, ADMIN, ALLOCATION, APPROVAL: their own remits, no clause).
WRITES: dict[Act, tuple[str, Mapping[Role, frozenset[Relationship]]]] = {
    Act.CONFIGURE: ("ADMIN", {Role.ADMINISTRATOR: _ANY}),
    Act.REGISTER_WORKER: ("HR", {Role.HR: _ANY, Role.ADMINISTRATOR: _ANY}),
    Act.KEEP_EMPLOYMENT: ("HR", {Role.HR: _ANY}),
    Act.RECORD_ABSENCE: ("HR", {Role.HR: _ANY, **_SUPERVISORS}),
    Act.HOLD_OR_PURGE: ("DP", {Role.DATA_PROTECTION_OFFICER: _ANY}),
    Act.TAKE_PART_IN_SUPERVISION: (PERSONAL_FILE_IS_PRIVATE, _SUPERVISION_PARTIES),
    Act.SUPERVISE: (PERSONAL_FILE_IS_PRIVATE, _SUPERVISORS),
    # Approved within the line-management chain; which role in it is the authority's
    # pack's ``approved_by`` rule, decided on the aggregate (ADR 0022: POR-3.1a's Head of
    # Service binds Portsmouth, and no council whose pack lacks it).
    Act.APPROVE_FREQUENCY_EXCEPTION: ("APPROVAL", _SUPERVISORS),
    Act.CORRECT_PERSONAL_FILE: (
        CORRECTED_BY_THE_AUTHOR,
        _SUPERVISION_PARTIES,
    ),
    Act.DISAGREE_ON_PERSONAL_FILE: (DISAGREEMENT_IS_RAISED_BY_A_PARTY, _SUPERVISION_PARTIES),
    Act.REGISTER_CHILD: (
        CHILD_RECORD_IS_ON_THE_CHILDS_FILE,
        {
            Role.PRACTITIONER: _ANY,
            Role.TEAM_MANAGER: _ANY,
            Role.SERVICE_MANAGER: _ANY,
            Role.HEAD_OF_SERVICE: _ANY,
            Role.ADMINISTRATOR: _ANY,
        },
    ),
    Act.ALLOCATE: ("ALLOCATION", _CASE_MANAGERS),
    Act.RECORD_ON_CASE: (CHILD_RECORD_IS_ON_THE_CHILDS_FILE, _PRACTICE),
    Act.SUPERVISE_CASE: (CASE_SUPERVISION_IS_A_MANAGERS_RECORD, _CASE_MANAGERS),
    Act.MANAGE_CASE: (MANAGERS_DECISION, _CASE_MANAGERS),
    Act.CORRECT_CASE_RECORD: (CHILD_RECORD_IS_ON_THE_CHILDS_FILE, _PRACTICE),
    Act.DISAGREE_ON_CASE: (DISAGREEMENT_IS_RAISED_BY_A_PARTY, _PRACTICE),
    # Quality assurance (ADR 0023): a manager up the file holder's chain audits and
    # moderates; which one (the grandparent, the auditor's line manager) is the
    # authority's pack's quota and moderator, decided on the aggregate. The audited
    # worker and their supervisor dispute.
    Act.AUDIT_SUPERVISION_FILE: (FILES_ARE_AUDITED_UP_THE_CHAIN, _SUPERVISORS),
    Act.AUDIT_CASE_FILE: (FILES_ARE_AUDITED_UP_THE_CHAIN, _SUPERVISORS),
    Act.DISPUTE_AUDIT: (FILES_ARE_AUDITED_UP_THE_CHAIN, _SUPERVISION_PARTIES),
    Act.MODERATE_AUDIT: (FILES_ARE_AUDITED_UP_THE_CHAIN, _SUPERVISORS),
}

#: The acts on each kind of record.
ACTS_ON: dict[RecordClass, frozenset[Act]] = {
    RecordClass.AUTHORITY_REPORT: frozenset({Act.CONFIGURE}),
    RecordClass.PERSONAL_FILE: frozenset(
        {
            Act.REGISTER_WORKER,
            Act.KEEP_EMPLOYMENT,
            Act.RECORD_ABSENCE,
            Act.HOLD_OR_PURGE,
            Act.TAKE_PART_IN_SUPERVISION,
            Act.SUPERVISE,
            Act.APPROVE_FREQUENCY_EXCEPTION,
            Act.CORRECT_PERSONAL_FILE,
            Act.DISAGREE_ON_PERSONAL_FILE,
            Act.AUDIT_SUPERVISION_FILE,
            Act.DISPUTE_AUDIT,
            Act.MODERATE_AUDIT,
        }
    ),
    RecordClass.CHILD_RECORD: frozenset(
        {
            Act.HOLD_OR_PURGE,
            Act.REGISTER_CHILD,
            Act.ALLOCATE,
            Act.RECORD_ON_CASE,
            Act.SUPERVISE_CASE,
            Act.MANAGE_CASE,
            Act.CORRECT_CASE_RECORD,
            Act.DISAGREE_ON_CASE,
            Act.AUDIT_CASE_FILE,
            Act.DISPUTE_AUDIT,
            Act.MODERATE_AUDIT,
        }
    ),
}

_WORKER_ACTS: dict[type[c.Command], Act] = {
    c.RegisterWorker: Act.REGISTER_WORKER,
    c.ChangeRole: Act.KEEP_EMPLOYMENT,
    c.ChangeTeam: Act.KEEP_EMPLOYMENT,
    c.ChangeLineManager: Act.KEEP_EMPLOYMENT,
    c.ChangeWorkingPattern: Act.KEEP_EMPLOYMENT,
    c.LeaveEmployment: Act.KEEP_EMPLOYMENT,
    c.StartAbsence: Act.RECORD_ABSENCE,
    c.EndAbsence: Act.RECORD_ABSENCE,
    c.SignSupervisionAgreement: Act.TAKE_PART_IN_SUPERVISION,
    c.ReviewSupervisionAgreement: Act.TAKE_PART_IN_SUPERVISION,
    c.ScheduleSupervisionSession: Act.TAKE_PART_IN_SUPERVISION,
    c.CancelSupervisionSession: Act.TAKE_PART_IN_SUPERVISION,
    c.RescheduleSupervisionSession: Act.TAKE_PART_IN_SUPERVISION,
    c.SignPersonalSupervisionRecord: Act.TAKE_PART_IN_SUPERVISION,
    c.SignDirectObservation: Act.TAKE_PART_IN_SUPERVISION,
    c.AttendGroupSupervision: Act.TAKE_PART_IN_SUPERVISION,
    c.HoldSupervisionSession: Act.SUPERVISE,
    c.WritePersonalSupervisionRecord: Act.SUPERVISE,
    c.RemoveComment: Act.SUPERVISE,
    c.RecordDirectObservation: Act.SUPERVISE,
    c.HoldAppraisal: Act.SUPERVISE,
    c.ApproveFrequencyException: Act.APPROVE_FREQUENCY_EXCEPTION,
    c.CorrectEntry: Act.CORRECT_PERSONAL_FILE,
    c.RaiseDisagreement: Act.DISAGREE_ON_PERSONAL_FILE,
    c.EscalateDisagreement: Act.DISAGREE_ON_PERSONAL_FILE,
    c.ResolveDisagreement: Act.DISAGREE_ON_PERSONAL_FILE,
    c.PlaceLegalHold: Act.HOLD_OR_PURGE,
    c.LiftLegalHold: Act.HOLD_OR_PURGE,
    c.PurgeRecord: Act.HOLD_OR_PURGE,
    c.AuditSupervisionFile: Act.AUDIT_SUPERVISION_FILE,
    c.DisputeAudit: Act.DISPUTE_AUDIT,
    c.ModerateAudit: Act.MODERATE_AUDIT,
}
_CHILD_ACTS: dict[type[c.Command], Act] = {
    c.RegisterChild: Act.REGISTER_CHILD,
    c.AllocateWorker: Act.ALLOCATE,
    c.AllocateTeam: Act.ALLOCATE,
    c.RecordCaseSupervision: Act.SUPERVISE_CASE,
    c.HoldSupervisionSession: Act.SUPERVISE_CASE,  # each case discussed in the session
    c.RecordManagementOversight: Act.MANAGE_CASE,
    c.RecordManagementDecision: Act.MANAGE_CASE,
    c.CorrectEntry: Act.CORRECT_CASE_RECORD,
    c.RaiseDisagreement: Act.DISAGREE_ON_CASE,
    c.EscalateDisagreement: Act.DISAGREE_ON_CASE,
    c.ResolveDisagreement: Act.DISAGREE_ON_CASE,
    c.PlaceLegalHold: Act.HOLD_OR_PURGE,
    c.LiftLegalHold: Act.HOLD_OR_PURGE,
    c.PurgeRecord: Act.HOLD_OR_PURGE,
    c.AuditCaseFile: Act.AUDIT_CASE_FILE,
    c.DisputeAudit: Act.DISPUTE_AUDIT,
    c.ModerateAudit: Act.MODERATE_AUDIT,
    # A child in need: the DfE CIN census (ADR 0026): the case's own record, as the
    # practitioner and their managers keep it [ChildRecordIsOnTheChildsFile].
    c.RecordReferral: Act.RECORD_ON_CASE,
    c.RecordAssessment: Act.RECORD_ON_CASE,
    c.RecordSection47Enquiry: Act.RECORD_ON_CASE,
    c.RecordInitialChildProtectionConference: Act.RECORD_ON_CASE,
    c.StartChildProtectionPlan: Act.RECORD_ON_CASE,
    c.ReviewChildProtectionPlan: Act.RECORD_ON_CASE,
    c.EndChildProtectionPlan: Act.RECORD_ON_CASE,
    c.StartChildInNeedPlan: Act.RECORD_ON_CASE,
    c.CloseChildInNeedEpisode: Act.RECORD_ON_CASE,
    # -- end of the CIN census acts
}
_AUTHORITY_ACTS: dict[type[c.Command], Act] = {
    c.RegisterAuthority: Act.CONFIGURE,
    c.AdoptPolicyPack: Act.CONFIGURE,
    c.AddClosureDay: Act.CONFIGURE,
}


def act_of(command: type[c.Command], record: RecordClass) -> Act:
    """The act ``command`` does to a record of ``record``'s class. Every other command
    on a child's case (its changes, triggers, actions) records on the case."""
    if record is RecordClass.PERSONAL_FILE:
        return _WORKER_ACTS[command]
    if record is RecordClass.CHILD_RECORD:
        return _CHILD_ACTS.get(command, Act.RECORD_ON_CASE)
    return _AUTHORITY_ACTS[command]


def relationships(
    principal: Principal, record: Record, principal_team: str | None
) -> list[Relationship]:
    """Every relationship the caller has to ``record``, nearest first (a worker they
    line-manage may be in their team as well)."""
    if record.authority_code != principal.authority_code:
        return [Relationship.OTHER_AUTHORITY]
    me = principal.staff_id
    if isinstance(record, WorkerRelations):
        own, chain, team = me == record.staff_id, record.chain, record.team
    elif isinstance(record, ChildRelations):
        own, chain, team = me == record.allocated_worker, record.chain, record.team
    else:
        own, chain, team = False, (), record.team
    held = [
        relation
        for relation, holds in (
            (Relationship.OWN, own),
            (Relationship.SUPERVISEE, me in chain),
            (Relationship.TEAM, principal_team is not None and principal_team == team),
        )
        if holds
    ]
    return held or [Relationship.OTHER_TEAM]


def decide_act(
    principal: Principal, act: Act, record: Record, *, principal_team: str | None = None
) -> Decision:
    """May ``principal`` do ``act`` to ``record``? [ARoleWritesOnlyTheActsItsClauseNames]"""
    if record.authority_code != principal.authority_code:
        return _deny("TENANCY", "records of another authority are never visible")
    role = principal.role
    if role in READ_ONLY:
        return _deny("READ-ONLY", f"a {role.value} reads and never writes")
    rule, allowed = WRITES[act]
    held = relationships(principal, record, principal_team)
    whom = allowed.get(role, frozenset())
    for related in held:
        if related in whom:
            return _allow(
                rule, f"a {role.value.replace('_', ' ')} may {act.value} ({related.value})"
            )
    nearest = held[0].value.replace("_", " ")
    where = "" if not whom else f" on this record (their relationship: {nearest})"
    return _deny(
        rule,
        f"ARoleWritesOnlyTheActsItsClauseNames [{rule}]: a {role.value.replace('_', ' ')} "
        f"may not {act.value}{where}",
    )


def _any_act(principal: Principal, record: Record, principal_team: str | None) -> Decision:
    """A write of some kind on an existing record: the first act the caller may do to
    ``record``, if any (registering makes a record; it is no write on one)."""
    refused: Decision | None = None
    acts = ACTS_ON[record_class(record)] - {Act.REGISTER_WORKER, Act.REGISTER_CHILD}
    for act in sorted(acts):
        decision = decide_act(principal, act, record, principal_team=principal_team)
        if decision:
            return decision
        refused = refused or decision
    assert refused is not None
    return refused


# -- a write's relationships, read from the aggregates --------------------------------------


class Subjects(Protocol):
    """Where the aggregates are read: the application, inside the command it runs (so
    each one read is checked at the write, ADR 0016)."""

    def get_worker(self, authority_code: str, staff_id: str) -> Any: ...

    def get_child(self, authority_code: str, local_child_id: str) -> Any: ...


CHAIN_LIMIT = 10


def chain_in_store(subjects: Subjects, authority: str, staff_id: str | None) -> tuple[str, ...]:
    """A worker's line-management chain, nearest first, from their records as they are
    (cycles and depth bounded)."""
    chain: list[str] = []
    current = staff_id
    while current and len(chain) < CHAIN_LIMIT:
        try:
            manager = subjects.get_worker(authority, current).employment.line_manager_id
        except DomainError:
            break
        if not manager or manager in chain or manager == staff_id:
            break
        chain.append(manager)
        current = manager
    return tuple(chain)


def worker_relations_of(subjects: Subjects, authority: str, staff_id: str) -> WorkerRelations:
    """A worker's file and its people, from the store: the supervisors their agreements
    name, then their line-management chain. ``NotFound`` when there is no such worker."""
    worker = subjects.get_worker(authority, staff_id)
    supervisors = [
        str(a["supervisor_id"]) for a in worker.agreements.values() if a["supervisor_id"]
    ]
    chain = chain_in_store(subjects, authority, staff_id)
    ordered = tuple(p for p in dict.fromkeys([*supervisors, *chain]) if p != staff_id)
    return WorkerRelations(authority, staff_id, worker.employment.team, ordered)


def child_relations_of(subjects: Subjects, authority: str, child_id: str) -> ChildRelations:
    """A child's file and its people, from the store. ``NotFound`` when there is none."""
    child = subjects.get_child(authority, child_id)
    allocated = child.allocated_worker_id
    chain = chain_in_store(subjects, authority, allocated)
    return ChildRelations(authority, child_id, child.team, allocated, chain)


def team_in_store(subjects: Subjects, principal: Principal) -> str | None:
    try:
        team = subjects.get_worker(principal.authority_code, principal.staff_id).employment.team
    except DomainError:
        return None
    return str(team) if team else None


def record_classes_of(command: c.Command) -> list[RecordClass]:
    """The kinds of record ``command`` writes on (a held session: the worker's file and
    each discussed child's)."""
    kind = type(command)
    if kind in _AUTHORITY_ACTS:
        return [RecordClass.AUTHORITY_REPORT]
    if isinstance(command, c.RegisterWorker):
        return [RecordClass.PERSONAL_FILE]
    if isinstance(command, c.RegisterChild):
        return [RecordClass.CHILD_RECORD]
    classes: list[RecordClass] = []
    if getattr(command, "staff_id", None) is not None:
        classes.append(RecordClass.PERSONAL_FILE)
    if getattr(command, "child_id", None) is not None or (
        isinstance(command, c.HoldSupervisionSession) and command.case_discussions
    ):
        classes.append(RecordClass.CHILD_RECORD)
    return classes


def written_subjects(command: c.Command) -> list[tuple[str, str]]:
    """Every subject ``command`` writes on, as (kind, local id): its own, then each
    child discussed in a held session."""
    named: list[tuple[str, str]] = []
    child_id = getattr(command, "child_id", None)
    staff_id = getattr(command, "staff_id", None)
    if child_id is not None:
        named.append(("child", str(child_id)))
    if staff_id is not None:
        named.append(("worker", str(staff_id)))
    if isinstance(command, c.HoldSupervisionSession):
        named.extend(("child", d.child_id) for d in command.case_discussions)
    return named


def authorize_acts(subjects: Subjects, principal: Principal, command: c.Command) -> None:
    """Refuse (``Forbidden``, naming the rule) unless ``principal`` may do what
    ``command`` does to every subject it writes on, decided on the aggregates as they
    are when it runs. A subject not there is left to the command (its ``NotFound``)."""
    authority = principal.authority_code
    if command.actor.authority_id != authority or command.actor.id != principal.staff_id:
        raise Forbidden("the actor is the caller, in the caller's authority", rule="TENANCY")
    team = team_in_store(subjects, principal)
    kind = type(command)
    checks: list[tuple[Act, Record]] = []
    if kind in _AUTHORITY_ACTS:
        checks.append((Act.CONFIGURE, ReportScope(authority)))
    elif isinstance(command, c.RegisterWorker):
        checks.append(
            (Act.REGISTER_WORKER, WorkerRelations(authority, command.staff_id, command.team))
        )
    elif isinstance(command, c.RegisterChild):
        # A new referral: recorded by whoever takes it, before any allocation.
        checks.append((Act.REGISTER_CHILD, ChildRelations(authority, command.child_id, None, None)))
    else:
        for subject_kind, local_id in written_subjects(command):
            try:
                found: Record = (
                    child_relations_of(subjects, authority, local_id)
                    if subject_kind == "child"
                    else worker_relations_of(subjects, authority, local_id)
                )
            except DomainError:
                continue
            found = _as_allocated(subjects, command, found)
            checks.append((act_of(kind, record_class(found)), found))
    for act, record in checks:
        decision = decide_act(principal, act, record, principal_team=team)
        if not decision:
            raise Forbidden(decision.reason, rule=decision.rule)


def _as_allocated(subjects: Subjects, command: c.Command, found: Record) -> Record:
    """A new referral, with no team yet, is allocated by the receiving team or by the
    line-management chain of the worker receiving it."""
    if isinstance(found, ChildRelations) and found.team is None:
        if isinstance(command, c.AllocateWorker):
            receiving = chain_in_store(subjects, found.authority_code, command.worker_id)
            return replace(
                found, team=command.team, allocated_worker=command.worker_id, chain=receiving
            )
        if isinstance(command, c.AllocateTeam):
            return replace(found, team=command.team)
    return found
