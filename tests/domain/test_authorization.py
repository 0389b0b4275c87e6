"""The authorization matrix: every role, record class and operation, with and without the
relationship that grants it, asserting allow or deny [DUR-4.8, POR-6.2c, SHR-5.5]."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.authorization import (
    ACCESS_ROLES,
    ChildRelations,
    Operation,
    Principal,
    Record,
    RecordClass,
    ReportScope,
    WorkerRelations,
    chain_of,
    decide,
    record_class,
)
from domain.vocabulary import Role

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
LA = "LA"
R, W = Operation.READ, Operation.WRITE

# The records, each seen by a principal who is related to it (+) or not (-).
FILE_OF_SW1 = WorkerRelations(LA, "SW1", "Team A", ("TM1", "SM1", "HOS1"))
CHILD_OF_SW1 = ChildRelations(LA, "C1", "Team A", "SW1", ("TM1", "SM1", "HOS1"))
TEAM_A = ReportScope(LA, team="Team A")
WHOLE = ReportScope(LA)

# (role, who they are when related, their team) and who they are when not.
RELATED = {
    Role.PRACTITIONER: ("SW1", "Team A"),
    Role.TEAM_MANAGER: ("TM1", "Team A"),
    Role.SERVICE_MANAGER: ("SM1", "Leadership"),
    Role.HEAD_OF_SERVICE: ("HOS1", "Leadership"),
    Role.QA_AUDITOR: ("QA1", None),
    Role.INSPECTOR: ("INS1", None),
    Role.INVESTIGATING_OFFICER: ("IO1", None),
    Role.HR: ("HR1", None),
    Role.DATA_PROTECTION_OFFICER: ("DPO1", None),
    Role.ADMINISTRATOR: ("ADM1", None),
}
UNRELATED = {
    Role.PRACTITIONER: ("SW9", "Team B"),
    Role.TEAM_MANAGER: ("TM9", "Team B"),
    Role.SERVICE_MANAGER: ("SM9", "Leadership"),
    Role.HEAD_OF_SERVICE: ("HOS9", "Leadership"),
}

# Expected decisions: (role, record, operation) -> (related?, unrelated?).
# Grants: investigators, HR and the DPO are "related" when their token names the record.
EXPECTED: dict[tuple[Role, str, Operation], tuple[bool, bool]] = {
    # practitioner: their own file and their allocated/team children
    (Role.PRACTITIONER, "file", R): (True, False),
    (Role.PRACTITIONER, "file", W): (True, False),
    (Role.PRACTITIONER, "child", R): (True, False),
    (Role.PRACTITIONER, "child", W): (True, False),
    (Role.PRACTITIONER, "team", R): (False, False),
    (Role.PRACTITIONER, "authority", R): (False, False),
    (Role.PRACTITIONER, "authority", W): (False, False),
    # team manager: supervisees' files, the team's children, the team's figures
    (Role.TEAM_MANAGER, "file", R): (True, False),
    (Role.TEAM_MANAGER, "file", W): (True, False),
    (Role.TEAM_MANAGER, "child", R): (True, False),
    (Role.TEAM_MANAGER, "child", W): (True, False),
    (Role.TEAM_MANAGER, "team", R): (True, False),
    (Role.TEAM_MANAGER, "authority", R): (False, False),
    (Role.TEAM_MANAGER, "authority", W): (False, False),
    # service manager / head of service: files in their chain only; every child
    (Role.SERVICE_MANAGER, "file", R): (True, False),
    (Role.SERVICE_MANAGER, "file", W): (True, False),
    (Role.SERVICE_MANAGER, "child", R): (True, True),
    (Role.SERVICE_MANAGER, "child", W): (True, True),
    (Role.SERVICE_MANAGER, "team", R): (True, True),
    (Role.SERVICE_MANAGER, "authority", R): (True, True),
    (Role.SERVICE_MANAGER, "authority", W): (False, False),
    (Role.HEAD_OF_SERVICE, "file", R): (True, False),
    (Role.HEAD_OF_SERVICE, "file", W): (True, False),
    (Role.HEAD_OF_SERVICE, "child", R): (True, True),
    (Role.HEAD_OF_SERVICE, "child", W): (True, True),
    (Role.HEAD_OF_SERVICE, "team", R): (True, True),
    (Role.HEAD_OF_SERVICE, "authority", R): (True, True),
    (Role.HEAD_OF_SERVICE, "authority", W): (False, False),
    # quality assurance: reads everything in the authority, writes nothing
    (Role.QA_AUDITOR, "file", R): (True, True),
    (Role.QA_AUDITOR, "file", W): (False, False),
    (Role.QA_AUDITOR, "child", R): (True, True),
    (Role.QA_AUDITOR, "child", W): (False, False),
    (Role.QA_AUDITOR, "team", R): (True, True),
    (Role.QA_AUDITOR, "authority", R): (True, True),
    (Role.QA_AUDITOR, "authority", W): (False, False),
    # inspector: as QA during the grant ("unrelated": the grant has expired)
    (Role.INSPECTOR, "file", R): (True, False),
    (Role.INSPECTOR, "file", W): (False, False),
    (Role.INSPECTOR, "child", R): (True, False),
    (Role.INSPECTOR, "child", W): (False, False),
    (Role.INSPECTOR, "team", R): (True, False),
    (Role.INSPECTOR, "authority", R): (True, False),
    (Role.INSPECTOR, "authority", W): (False, False),
    # investigating officer: named grants, read only
    (Role.INVESTIGATING_OFFICER, "file", R): (True, False),
    (Role.INVESTIGATING_OFFICER, "file", W): (False, False),
    (Role.INVESTIGATING_OFFICER, "child", R): (True, False),
    (Role.INVESTIGATING_OFFICER, "child", W): (False, False),
    (Role.INVESTIGATING_OFFICER, "team", R): (False, False),
    (Role.INVESTIGATING_OFFICER, "authority", R): (False, False),
    (Role.INVESTIGATING_OFFICER, "authority", W): (False, False),
    # HR: employment records; reads a personal file only with a grant; no child files
    (Role.HR, "file", R): (True, False),
    (Role.HR, "file", W): (True, True),
    (Role.HR, "child", R): (False, False),
    (Role.HR, "child", W): (False, False),
    (Role.HR, "team", R): (False, False),
    (Role.HR, "authority", R): (False, False),
    (Role.HR, "authority", W): (False, False),
    # data protection officer: reads with a grant (a subject access request); holds
    (Role.DATA_PROTECTION_OFFICER, "file", R): (True, False),
    (Role.DATA_PROTECTION_OFFICER, "file", W): (True, True),
    (Role.DATA_PROTECTION_OFFICER, "child", R): (True, False),
    (Role.DATA_PROTECTION_OFFICER, "child", W): (True, True),
    (Role.DATA_PROTECTION_OFFICER, "team", R): (False, False),
    (Role.DATA_PROTECTION_OFFICER, "authority", R): (False, False),
    (Role.DATA_PROTECTION_OFFICER, "authority", W): (False, False),
    # administrator: configures the authority and registers (a new record, no write on
    # one: see test_write_matrix); reads no content
    (Role.ADMINISTRATOR, "file", R): (False, False),
    (Role.ADMINISTRATOR, "file", W): (False, False),
    (Role.ADMINISTRATOR, "child", R): (False, False),
    (Role.ADMINISTRATOR, "child", W): (False, False),
    (Role.ADMINISTRATOR, "team", R): (False, False),
    (Role.ADMINISTRATOR, "authority", R): (False, False),
    (Role.ADMINISTRATOR, "authority", W): (True, True),
}

RECORDS: dict[str, Record] = {
    "file": FILE_OF_SW1,
    "child": CHILD_OF_SW1,
    "team": TEAM_A,
    "authority": WHOLE,
}


def _principal(role: Role, related: bool) -> tuple[Principal, str | None]:
    staff, team = RELATED[role] if related else UNRELATED.get(role, RELATED[role])
    grants: frozenset[str] = frozenset()
    until = None
    if role in (
        Role.INVESTIGATING_OFFICER,
        Role.HR,
        Role.DATA_PROTECTION_OFFICER,
    ):
        grants = frozenset({"worker:SW1", "child:C1"}) if related else frozenset()
        until = NOW + timedelta(days=30)
    if role is Role.INSPECTOR:
        until = NOW + timedelta(days=30) if related else NOW - timedelta(seconds=1)
    return Principal(staff, role, LA, grants, until), team


@pytest.mark.parametrize(
    ("role", "record", "operation"),
    sorted(EXPECTED, key=lambda k: (k[0].value, k[1], k[2].value)),
    ids=lambda v: getattr(v, "value", v),
)
def test_authorization_matrix(role: Role, record: str, operation: Operation) -> None:
    expected_related, expected_unrelated = EXPECTED[(role, record, operation)]
    for related, expected in ((True, expected_related), (False, expected_unrelated)):
        principal, team = _principal(role, related)
        decision = decide(principal, operation, RECORDS[record], NOW, principal_team=team)
        assert decision.allowed is expected, (role, record, operation, related, decision)
        assert decision.rule and decision.reason


def test_the_matrix_covers_every_role_record_class_and_operation() -> None:
    covered = {(role, record_class(RECORDS[r]), op) for role, r, op in EXPECTED}
    for role in ACCESS_ROLES:
        for klass in RecordClass:
            for op in Operation:
                assert (role, klass, op) in covered, (role, klass, op)


@pytest.mark.parametrize("role", ACCESS_ROLES)
def test_no_role_ever_crosses_authorities(role: Role) -> None:
    principal, team = _principal(role, True)
    elsewhere: list[Record] = [
        WorkerRelations("ELSEWHERE", "SW1", "Team A", ("TM1",)),
        ChildRelations("ELSEWHERE", "C1", "Team A", "SW1", ("TM1",)),
        ReportScope("ELSEWHERE"),
    ]
    for record in elsewhere:
        for operation in Operation:
            decision = decide(principal, operation, record, NOW, principal_team=team)
            assert not decision and decision.rule == "TENANCY"


def test_chain_of_follows_line_managers_and_stops_on_cycles() -> None:
    managers = {"SW1": "TM1", "TM1": "SM1", "SM1": "HOS1", "HOS1": None, "X": "Y", "Y": "X"}
    assert chain_of("SW1", managers) == ("TM1", "SM1", "HOS1")
    assert chain_of("X", managers) == ("Y", "X")
    assert chain_of(None, managers) == ()
