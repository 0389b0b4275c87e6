"""Who may write what, to whom (issue 20): every role x every mutation x every
relationship, decided in the domain (``authorize_acts`` on the aggregates, as the
application runs the command) and over GraphQL, on both stores.

The expected outcome comes from ``MAY``, a table written out by hand below, never from
the code under test. A case is *allowed* when the write is not refused for who the
caller is (it may still fail the command's own rules: the inputs are deliberately
minimal, so most allowed cases end in a validation problem and write nothing); it is
*refused* when the answer is FORBIDDEN, or NOT_FOUND for a subject the caller may not
see (which answers as a missing one), and nothing is written. One story serves every
case; each case's own ids are unique to it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import typing
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import Engine

from application.app import OversightApplication
from application.handlers import handled_commands
from domain import commands as c
from domain.authorization import (
    ACCESS_ROLES,
    Principal,
    authorize_acts,
)
from domain.errors import DomainError, Forbidden
from domain.policy.packs import PackLibrary
from domain.provenance import Actor
from domain.vocabulary import Role
from graphql_api.app import create_app
from graphql_api.auth import TokenSettings, TokenVerifier, mint
from graphql_api.limits import Limits
from graphql_api.mutations import lower_first
from graphql_api.service import HIDDEN_MESSAGES, INTERNAL_COMMANDS, Service
from tests.graphql_api.test_every_mutation import PROBLEMS, _input

LA, ELSEWHERE = "MX-LA", "MX-OTHER"
START = date(2025, 1, 6)

# -- the table: which role, related how, may do which act ------------------------------------

P, TM, SM, HOS = "practitioner", "team_manager", "service_manager", "head_of_service"
QA, INS, IO = "qa_auditor", "inspector", "investigating_officer"
HR, DPO, ADM = "hr", "data_protection_officer", "administrator"
OWN, SUPERVISEE, TEAM, OTHER_TEAM, OTHER_LA = (
    "own", "supervisee", "team", "other_team", "other_authority",
)  # fmt: skip
RELATIONSHIPS = (OWN, SUPERVISEE, TEAM, OTHER_TEAM, OTHER_LA)
IN_LA = {OWN, SUPERVISEE, TEAM, OTHER_TEAM}

# Who takes part in supervision on a personal file: its own worker; their chain.
PARTIES = {P: {OWN}, TM: {OWN, SUPERVISEE}, SM: {OWN, SUPERVISEE}, HOS: {OWN, SUPERVISEE}}
# Who supervises: a manager in the worker's chain, never on their own file.
SUPERVISORS = {TM: {SUPERVISEE}, SM: {SUPERVISEE}, HOS: {SUPERVISEE}}
# On a child's case: allocated, their chain, or the team; senior managers, the authority's.
PRACTICE = {P: {OWN, TEAM}, TM: {OWN, SUPERVISEE, TEAM}, SM: IN_LA, HOS: IN_LA}
MANAGING = {TM: {OWN, SUPERVISEE, TEAM}, SM: IN_LA, HOS: IN_LA}
# Commands that name no existing subject: the role alone decides (any relationship).
ANYONE_OF = {"registerWorker": {HR, ADM}, "registerChild": {P, TM, SM, HOS, ADM}}
CONFIGURATION = {"registerAuthority", "adoptPolicyPack", "addClosureDay"}
NO_SUBJECT = CONFIGURATION | set(ANYONE_OF)

MAY: dict[str, dict[str, set[str]]] = {
    # the worker's employment record: HR [and absences: HR, or the worker's chain]
    **{
        m: {HR: IN_LA}
        for m in (
            "changeRole",
            "changeTeam",
            "changeLineManager",
            "changeWorkingPattern",
            "leaveEmployment",
        )
    },
    "startAbsence": {HR: IN_LA, **SUPERVISORS},
    "endAbsence": {HR: IN_LA, **SUPERVISORS},
    # legal holds and purges: the data protection officer [ADR 0012]
    **{m: {DPO: IN_LA} for m in ("placeLegalHold", "liftLegalHold", "purgeRecord")},
    # supervision, both parties [DUR-4.8a]
    **{
        m: PARTIES
        for m in (
            "signSupervisionAgreement",
            "reviewSupervisionAgreement",
            "scheduleSupervisionSession",
            "cancelSupervisionSession",
            "rescheduleSupervisionSession",
            "signPersonalSupervisionRecord",
            "signDirectObservation",
            "attendGroupSupervision",
            "correctEntry@worker",
            "raiseDisagreement@worker",
            "escalateDisagreement@worker",
            "resolveDisagreement@worker",
        )
    },
    # supervision, the supervisor's side
    **{
        m: SUPERVISORS
        for m in (
            "holdSupervisionSession",
            "writePersonalSupervisionRecord",
            "removeComment",
            "recordDirectObservation",
            "holdAppraisal",
        )
    },
    "approveFrequencyException": SUPERVISORS,  # the chain; which role: the pack's (ADR 0022)
    # a child's case
    **{
        m: PRACTICE
        for m in (
            "changeCaseType",
            "changeThreshold",
            "changeRiskLevel",
            "changeLegalStatus",
            "recordCameIntoCare",
            "changePlacement",
            "recordReturnedHome",
            "recordCareEnded",
            "recordLookedAfterReview",
            "recordAdoptionOrder",
            "recordChildDeath",
            "closeCase",
            "triggerOversight",
            "setAction",
            "completeAction",
            "carryForwardAction",
            "recordGroupDiscussion",
            # a child in need, from the CIN census (ADR 0026)
            "recordReferral",
            "recordAssessment",
            "recordSection47Enquiry",
            "recordInitialChildProtectionConference",
            "startChildProtectionPlan",
            "reviewChildProtectionPlan",
            "endChildProtectionPlan",
            "startChildInNeedPlan",
            "closeChildInNeedEpisode",
            "correctEntry@child",
            "raiseDisagreement@child",
            "escalateDisagreement@child",
            "resolveDisagreement@child",
        )
    },
    **{
        m: MANAGING
        for m in (
            "recordCaseSupervision",
            "recordManagementOversight",
            "recordManagementDecision",
            "allocateWorker",
            "allocateTeam",
        )
    },
    # quality assurance (ADR 0023): a manager up the holder's chain audits and moderates
    # (which one: the pack's quota and moderator); the audited dispute
    "auditSupervisionFile": SUPERVISORS,
    "auditCaseFile": SUPERVISORS,
    "moderateAudit@worker": SUPERVISORS,
    "moderateAudit@child": SUPERVISORS,
    "disputeAudit@worker": PARTIES,
    "disputeAudit@child": PARTIES,
}

# Mutations whose command may name either subject: run once on each.
EITHER = {c.CorrectEntry, c.RaiseDisagreement, c.EscalateDisagreement, c.ResolveDisagreement,
          c.PlaceLegalHold, c.LiftLegalHold, c.PurgeRecord, c.DisputeAudit,
          c.ModerateAudit}  # fmt: skip


def allowed(mutation: str, role: str, relationship: str) -> bool:
    name = mutation.split("@")[0]
    if relationship == OTHER_LA:
        return False  # never, by anyone [TENANCY]
    if name in CONFIGURATION:
        return role == ADM
    if name in ANYONE_OF:
        return role in ANYONE_OF[name]
    key = mutation if mutation in MAY else name
    return relationship in MAY[key].get(role, set())


# -- the story ----------------------------------------------------------------------------------

SHORT = {role: f"X{index}" for index, role in enumerate(ACCESS_ROLES)}


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _story(app: OversightApplication) -> None:
    """For each role: its caller ``X<n>-ME`` (Team A), a supervisee ``-SUB`` (Team S,
    managed by the caller), a team mate ``-MATE`` (Team A) and ``-FAR`` (Team B), both
    managed by BOSS; a child allocated to each of the four. Another authority has its
    own worker and child with the same ids."""
    counter = itertools.count()

    def run(command_type: type[c.Command], authority: str = LA, **fields: Any) -> None:
        admin = Actor("ADMIN", Role.ADMINISTRATOR, authority)
        app.execute(
            command_type(
                command_id=f"story-{next(counter)}", actor=admin,
                occurred_at=at(START), **fields,
            )
        )  # fmt: skip

    def worker(staff_id: str, team: str, manager: str | None, authority: str = LA) -> None:
        run(c.RegisterWorker, authority, staff_id=staff_id, display_name=staff_id,
            role="social_worker", team=team, line_manager_id=manager,
            employment_pattern="full_time", fte=Decimal(1), engagement="permanent",
            start_date=START, case_holding=True)  # fmt: skip

    def child(child_id: str, worker_id: str, team: str, authority: str = LA) -> None:
        run(c.RegisterChild, authority, child_id=child_id, date_of_birth=date(2015, 1, 1),
            case_type="cin", risk_level="low")  # fmt: skip
        run(c.AllocateWorker, authority, child_id=child_id, worker_id=worker_id,
            reason="NEW", team=team)  # fmt: skip

    for code in (LA, ELSEWHERE):
        run(c.RegisterAuthority, code, authority_code=code, name=code, policy_pack="DUR")
    worker("BOSS", "Team Z", None)
    for short in SHORT.values():
        worker(f"{short}-ME", "Team A", "BOSS")
        worker(f"{short}-SUB", "Team S", f"{short}-ME")
        worker(f"{short}-MATE", "Team A", "BOSS")
        worker(f"{short}-FAR", "Team B", "BOSS")
        for suffix, team in (("ME", "Team A"), ("SUB", "Team S"), ("MATE", "Team A"),
                             ("FAR", "Team B")):  # fmt: skip
            child(f"{short}-C-{suffix}", f"{short}-{suffix}", team)
    for short in SHORT.values():  # the same ids, in another authority
        worker(f"{short}-ELSE", "Team A", None, ELSEWHERE)
        child(f"{short}-C-ELSE", f"{short}-ELSE", "Team A", ELSEWHERE)


def _subjects(role: Role, relationship: str) -> tuple[str, str, str]:
    """The worker and the child a case writes on, and the child's allocated worker."""
    short = SHORT[role]
    suffix = {OWN: "ME", SUPERVISEE: "SUB", TEAM: "MATE", OTHER_TEAM: "FAR",
              OTHER_LA: "ELSE"}[relationship]  # fmt: skip
    staff_id = f"{short}-{suffix}"
    return staff_id, f"{short}-C-{suffix}", staff_id


# -- the cases ------------------------------------------------------------------------------------

MUTATIONS = sorted(
    (
        k
        for k in handled_commands()
        if k.__module__ == "domain.commands" and k not in INTERNAL_COMMANDS
    ),
    key=lambda k: k.__name__,
)
TEAMS = {"ME": "Team A", "SUB": "Team S", "MATE": "Team A", "FAR": "Team B", "ELSE": "Team A"}


def _value(name: str, hint: Any, unique: str) -> Any:
    """A value of the field's type that the domain refuses or that changes nothing."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, __import__("types").UnionType):
        return None
    if origin is list:
        return []
    if hint is dict or origin is dict:
        if name == "action":
            return {"action_id": unique, "description": "x", "owner": "x", "due_on": START}
        if name == "answers":
            return {"nothing": True}  # an item no authority's tool has
        return {"summary": "x"}  # a correction's changes, typed: of an entry not there
    if hint is bool:
        return True
    if hint is int:
        return 0
    if hint is Decimal:
        return Decimal(2)  # out of range
    if hint is datetime:
        return at(START, 9)
    if hint is date:
        return START - timedelta(days=1000)  # before anyone started
    if name.endswith("_id"):
        return unique
    return "x"


def _command(
    kind: type[c.Command], actor: Actor, unique: str, staff: str, child: str, on: str
) -> c.Command:
    hints = typing.get_type_hints(kind)
    values: dict[str, Any] = {}
    for spec in dataclasses.fields(kind):
        if spec.name in c.Command.COMMON:
            continue
        required = (
            spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING
        )
        if not required and spec.name not in ("staff_id", "child_id"):
            continue
        values[spec.name] = _value(spec.name, hints[spec.name], unique)
    values.pop("staff_id", None)
    values.pop("child_id", None)
    team = TEAMS[staff.rsplit("-", 1)[1]]
    # What would change a relationship later cases stand on is given as it already is.
    same = {"team": team, "role": "social_worker", "line_manager_id": "BOSS",
            "worker_id": staff, "authority_code": actor.authority_id}  # fmt: skip
    for name, value in same.items():
        if name in values:
            values[name] = value
    if issubclass(kind, c.WorkerCommand) or kind is c.RegisterWorker:
        values["staff_id"] = staff if kind is not c.RegisterWorker else unique
    elif issubclass(kind, c.ChildCommand) or kind is c.RegisterChild:
        values["child_id"] = child if kind is not c.RegisterChild else unique
    elif issubclass(kind, c.SubjectCommand):
        values["staff_id" if on == "worker" else "child_id"] = staff if on == "worker" else child
    return kind(command_id=f"case-{unique}", actor=actor, occurred_at=datetime.now(UTC),
                **values)  # fmt: skip


def _cases() -> list[tuple[str, type[c.Command], str, Role, str]]:
    cases = []
    for kind in MUTATIONS:
        name = lower_first(kind.__name__)
        targets = ["worker", "child"] if kind in EITHER else [""]
        for on in targets:
            label = f"{name}@{on}" if on and f"{name}@{on}" in MAY else name
            for role in ACCESS_ROLES:
                for relationship in RELATIONSHIPS:
                    cases.append((label, kind, on or "worker", role, relationship))
    return cases


CASES = _cases()


def _principal(role: Role) -> Principal:
    return Principal(f"{SHORT[role]}-ME", role, LA, grant_expires_at=None)


def _actor(principal: Principal) -> Actor:
    return Actor(principal.staff_id, principal.actor_role, principal.authority_code)


def _build(
    index: int, case: tuple[str, type[c.Command], str, Role, str], authority: str = LA
) -> c.Command:
    _, kind, on, role, relationship = case
    staff, child, _ = _subjects(role, relationship)
    actor = dataclasses.replace(_actor(_principal(role)), authority_id=authority)
    return _command(kind, actor, f"U{index}", staff, child, on)


def _mismatches(outcomes: list[tuple[int, bool]]) -> list[str]:
    wrong = []
    for index, refused in outcomes:
        label, _, _, role, relationship = CASES[index]
        expected = allowed(label, role.value, relationship)
        if expected == refused:
            wrong.append(
                f"{label} by {role.value} on {relationship}: "
                f"{'refused' if refused else 'allowed'}, expected "
                f"{'allowed' if expected else 'refused'}"
            )
    return wrong


def test_the_table_covers_every_mutation() -> None:
    names = {lower_first(k.__name__) for k in MUTATIONS}
    covered = {m.split("@")[0] for m in MAY} | CONFIGURATION | set(ANYONE_OF)
    assert names == covered, names ^ covered
    assert len(CASES) >= len(MUTATIONS) * len(ACCESS_ROLES) * len(RELATIONSHIPS)


def test_write_matrix_in_the_domain(app: OversightApplication) -> None:
    """``authorize_acts`` on the aggregates, as the application runs each command."""
    _story(app)
    outcomes: list[tuple[int, bool]] = []
    for index, case in enumerate(CASES):
        # Another authority's record is reached only by a command in that authority's
        # name: never the caller's (the actor is who the token says).
        command = _build(index, case, ELSEWHERE if case[4] == OTHER_LA else LA)
        principal = _principal(case[3])
        before = app.recorder.max_notification_id()
        try:
            app.execute(
                command, authorize=lambda a, p=principal, k=command: authorize_acts(a, p, k)
            )
            refused = False
        except Forbidden:
            refused = True
        except DomainError:
            refused = False
        if refused:
            assert app.recorder.max_notification_id() == before, CASES[index]
        outcomes.append((index, refused))
    assert _mismatches(outcomes) == []


def test_write_matrix_over_graphql(
    app: OversightApplication,
    engine: Engine,
    token_settings: tuple[TokenSettings, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same cases as mutations, each with a token for its caller."""
    monkeypatch.setenv("OVERSIGHT_PURGE_LEDGER", str(tmp_path / "purge-ledger.jsonl"))
    _story(app)
    tokens, private_key = token_settings
    service = Service(app, engine, PackLibrary.load())
    asgi = create_app(service, TokenVerifier(tokens), Limits())
    minted = {
        (role, authority): mint(tokens, private_key, staff_id=f"{SHORT[role]}-ME", role=role,
                                authority=authority, grant_expires_at=None)
        for role in ACCESS_ROLES for authority in (LA,)
    }  # fmt: skip
    hidden = set(HIDDEN_MESSAGES.values())

    async def send_all() -> list[tuple[int, bool]]:
        outcomes: list[tuple[int, bool]] = []
        transport = httpx.ASGITransport(app=asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            for index, case in enumerate(CASES):
                label, kind, _, role, relationship = case
                if relationship == OTHER_LA and label in NO_SUBJECT:
                    # A token acts in its own authority only: with no subject named,
                    # there is no other authority's record to ask for (the domain
                    # matrix covers a command in another authority's name).
                    continue
                command = _build(index, case)
                name = lower_first(kind.__name__)
                document = (
                    f"mutation($input: {kind.__name__}Input!, $key: String!) "
                    f"{{ {name}(input: $input, idempotencyKey: $key) {{ {PROBLEMS} }} }}"
                )
                # Another authority's subjects are asked for by their ids, with this
                # authority's token: they answer as missing ones.
                before = app.recorder.max_notification_id()
                response = await http.post(
                    "/graphql",
                    json={"query": document,
                          "variables": {"input": _input(command), "key": command.command_id}},
                    headers={"authorization": f"Bearer {minted[(role, LA)]}"},
                )  # fmt: skip
                body = response.json()
                assert "errors" not in body, (case, body)
                answer = body["data"][name]
                refused = answer["__typename"] == "ForbiddenProblem" or (
                    answer["__typename"] == "NotFoundProblem" and answer["message"] in hidden
                )
                if refused:
                    assert app.recorder.max_notification_id() == before, (case, answer)
                outcomes.append((index, refused))
        return outcomes

    outcomes = asyncio.run(send_all())
    assert _mismatches(outcomes) == []


def test_a_session_is_authorised_on_each_case_it_discusses(app: OversightApplication) -> None:
    """A held session writes a case supervision on every child discussed: the act is
    decided on each of them, not only on the supervisee's file."""
    _story(app)
    manager = _principal(Role.TEAM_MANAGER)  # manages X1-SUB; not in Team B
    short = SHORT[Role.TEAM_MANAGER]

    def session(child_id: str, key: str) -> c.HoldSupervisionSession:
        discussion = c.CaseDiscussion(
            child_id=child_id, entry_id=f"CS-{key}", current_situation="x",
            child_last_seen_on=START, childs_views="x", reflection="x", analysis="x",
            decision="x", rationale="x",
        )  # fmt: skip
        return c.HoldSupervisionSession(
            command_id=key, actor=_actor(manager), occurred_at=datetime.now(UTC),
            staff_id=f"{short}-SUB", session_id=key, supervisor_id=manager.staff_id,
            duration_minutes=60, functions_covered=["management"], wellbeing_discussed=True,
            equality_and_diversity_discussed=True, case_discussions=[discussion],
        )  # fmt: skip

    def run(command: c.Command) -> Any:
        return app.execute(command, authorize=lambda a: authorize_acts(a, manager, command))

    before = app.recorder.max_notification_id()
    refused = session(f"{short}-C-FAR", "far")  # another team's child, another chain
    try:
        run(refused)
    except Forbidden as error:
        assert error.rule == "CaseSupervisionIsAManagersRecord DUR-4.7b"  # Durham's own
    else:
        raise AssertionError("a case of another team was supervised")
    assert app.recorder.max_notification_id() == before
    assert run(session(f"{short}-C-SUB", "own")).events == 2  # the session and the case
