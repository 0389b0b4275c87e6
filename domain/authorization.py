"""Who may read and write which records: roles and relationships (ADR 0011).

The policies say who reads what:

- a personal supervision file is private, not confidential [DUR-4.8a, POR-6.2c,
  SHR-5.5]: the supervisee, their supervisor and line-management chain, managers
  covering, senior managers for quality assurance, HR and investigating officers with
  a grant, and inspectors; never peers;
- a child's case supervision and oversight records sit on the child's file [DUR-4.8c]:
  readable by those with access to that file (allocation, team, service), quality
  assurance, inspectors, and investigating officers with a grant.

Decisions are pure functions of a ``Principal`` (who is asking, from their verified
token), the operation, and the record's relationships (read from the projections by the
adapter). Every decision names the rule it rests on, so a refusal can say why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.vocabulary import ActorRole


class AccessRole(StrEnum):
    """The roles a token can carry."""

    PRACTITIONER = "practitioner"
    TEAM_MANAGER = "team_manager"  # supervisor / team manager
    SERVICE_MANAGER = "service_manager"
    HEAD_OF_SERVICE = "head_of_service"
    QA_AUDITOR = "qa_auditor"  # read-only, the whole authority
    INSPECTOR = "inspector"  # read-only, for the time of their grant
    INVESTIGATING_OFFICER = "investigating_officer"  # named grants only
    HR = "hr"
    DATA_PROTECTION_OFFICER = "data_protection_officer"
    ADMINISTRATOR = "administrator"


class RecordClass(StrEnum):
    CHILD_RECORD = "child_record"
    PERSONAL_FILE = "personal_file"
    AUTHORITY_REPORT = "authority_report"  # summaries, queues, registers, sheets


class Operation(StrEnum):
    READ = "read"
    WRITE = "write"


READ_ONLY = frozenset({AccessRole.QA_AUDITOR, AccessRole.INSPECTOR})
MANAGERS = frozenset(
    {AccessRole.TEAM_MANAGER, AccessRole.SERVICE_MANAGER, AccessRole.HEAD_OF_SERVICE}
)
SENIOR = frozenset({AccessRole.SERVICE_MANAGER, AccessRole.HEAD_OF_SERVICE})


@dataclass(frozen=True)
class Principal:
    """Who is asking: from a verified token, never from the request body."""

    staff_id: str
    role: AccessRole
    authority_code: str
    #: Records named in the token's grant: "worker:SW001", "child:C0001".
    grants: frozenset[str] = frozenset()
    #: An inspector's or investigator's grant ends here (besides the token's expiry).
    grant_expires_at: datetime | None = None

    def granted(self, kind: str, local_id: str, now: datetime) -> bool:
        if self.grant_expires_at is not None and now >= self.grant_expires_at:
            return False
        return f"{kind}:{local_id}" in self.grants

    @property
    def actor_role(self) -> ActorRole:
        """The role recorded on the events this principal writes."""
        return _ACTOR_ROLE[self.role]


_ACTOR_ROLE = {
    AccessRole.PRACTITIONER: ActorRole.PRACTITIONER,
    AccessRole.TEAM_MANAGER: ActorRole.TEAM_MANAGER,
    AccessRole.SERVICE_MANAGER: ActorRole.SERVICE_MANAGER,
    AccessRole.HEAD_OF_SERVICE: ActorRole.HEAD_OF_SERVICE,
    AccessRole.QA_AUDITOR: ActorRole.AUDITOR,
    AccessRole.INSPECTOR: ActorRole.AUDITOR,
    AccessRole.INVESTIGATING_OFFICER: ActorRole.AUDITOR,
    AccessRole.HR: ActorRole.ADMINISTRATOR,
    AccessRole.DATA_PROTECTION_OFFICER: ActorRole.DATA_PROTECTION_OFFICER,
    AccessRole.ADMINISTRATOR: ActorRole.ADMINISTRATOR,
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
    if role is AccessRole.INSPECTOR and (
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
        if me == worker.staff_id:
            return _allow("DUR-4.8a", "the supervisee records on their own file")
        if role in MANAGERS and me in worker.chain:
            return _allow("DUR-4.8a", "their supervisor or line-management chain")
        if role in (AccessRole.HR, AccessRole.ADMINISTRATOR):
            return _allow("HR", "employment records are kept by HR and administrators")
        if role is AccessRole.DATA_PROTECTION_OFFICER:
            return _allow("DP", "legal holds are placed by the data protection officer")
        return _deny("DUR-4.8a", "only the supervisee, their chain and HR write here")
    if me == worker.staff_id:
        return _allow("DUR-4.8a", "the supervisee reads their own file")
    if role in MANAGERS and me in worker.chain:
        return _allow("DUR-4.8a", "their supervisor or line-management chain")
    if role is AccessRole.QA_AUDITOR:
        return _allow("DUR-4.8a", "quality assurance reads personal files [POR-7, SHR-5.8]")
    if role is AccessRole.INSPECTOR:
        return _allow("DUR-4.8a", "inspectors, during their grant")
    if role in (
        AccessRole.HR,
        AccessRole.INVESTIGATING_OFFICER,
        AccessRole.DATA_PROTECTION_OFFICER,
    ):
        if principal.granted("worker", worker.staff_id, now):
            return _allow("DUR-4.8a", f"a {role.value} with a grant for this file")
        return _deny("DUR-4.8a", f"a {role.value} reads a personal file only with a grant")
    if role in SENIOR:
        return _deny("POR-6.2c", "a senior manager outside the supervisee's chain")
    return _deny("SHR-5.5", "personal supervision files are never read by peers")


def _child_record(
    principal: Principal,
    operation: Operation,
    child: ChildRelations,
    now: datetime,
    principal_team: str | None,
) -> Decision:
    role, me = principal.role, principal.staff_id
    allocated = me == child.allocated_worker
    same_team = principal_team is not None and principal_team == child.team
    if role is AccessRole.PRACTITIONER:
        if allocated or same_team:
            return _allow("DUR-4.8c", "allocated to the child, or in the child's team")
        return _deny("DUR-4.8c", "a practitioner outside the child's allocation and team")
    if role is AccessRole.TEAM_MANAGER:
        if same_team or me in child.chain or allocated:
            return _allow("DUR-4.8c", "the child's team manager or the worker's chain")
        return _deny("DUR-4.8c", "a team manager of another team")
    if role in SENIOR:
        return _allow("DUR-4.8c", "the service's senior managers")
    if operation is Operation.WRITE:
        if role is AccessRole.DATA_PROTECTION_OFFICER:
            return _allow("DP", "legal holds are placed by the data protection officer")
        if role is AccessRole.ADMINISTRATOR:
            return _allow("ADMIN", "administrators register children and import records")
        return _deny("DUR-4.8c", f"a {role.value} does not write on a child's file")
    if role in READ_ONLY:
        return _allow("DUR-4.8c", "quality assurance and inspectors read children's files")
    if role in (AccessRole.INVESTIGATING_OFFICER, AccessRole.DATA_PROTECTION_OFFICER):
        if principal.granted("child", child.local_id, now):
            return _allow("DUR-4.8c", f"a {role.value} with a grant for this child")
        return _deny("DUR-4.8c", f"a {role.value} reads a child's file only with a grant")
    return _deny("DUR-4.8c", f"a {role.value} has no access to children's files")


def _report(
    principal: Principal, operation: Operation, scope: ReportScope, principal_team: str | None
) -> Decision:
    role = principal.role
    if operation is Operation.WRITE:
        if role is AccessRole.ADMINISTRATOR:
            return _allow("ADMIN", "administrators configure the authority")
        return _deny("ADMIN", "only administrators configure the authority")
    if role in SENIOR or role in READ_ONLY:
        return _allow("POR-7", "quality assurance and senior managers read across the authority")
    if role is AccessRole.TEAM_MANAGER:
        if scope.team is not None and scope.team == principal_team:
            return _allow("SHR-5.8", "a team manager reads their own team's figures")
        return _deny("SHR-5.8", "a team manager reads their own team's figures only")
    return _deny("POR-7", f"a {role.value} does not read authority-wide reports")


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
