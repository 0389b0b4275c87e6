"""Authorisation reads its own writes (issue 20): a write is decided on the aggregates,
not on the read models, which settle later. With no projection running (the ``api``
fixture catches up once, on its own story, and never again), an authority, its team
and line-management chain, a worker and a child are set up and a supervision recorded
in consecutive requests: none of them waits for, or is refused by, the read models."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from domain.vocabulary import Role
from projections.compliance import view
from tests.graphql_api.conftest import AUTHORITY, Api
from tests.graphql_api.test_every_mutation import PROBLEMS

NEW = "FRESH-LA"
DAY = "2026-03-02"


def _send(api: Api, token: str, mutation: str, key: str, values: dict[str, Any]) -> None:
    kind = mutation[0].upper() + mutation[1:]
    document = (
        f"mutation($input: {kind}Input!, $key: String!, $at: DateTime) "
        f"{{ {mutation}(input: $input, idempotencyKey: $key, occurredAt: $at) {{ {PROBLEMS} }} }}"
    )
    answer = api.query(document, token, {"input": values, "key": key, "at": f"{DAY}T10:00:00Z"})
    assert answer[mutation]["__typename"] == "CommandSuccess", (mutation, answer)


def test_consecutive_requests_set_up_a_chain_and_record_supervision_unsettled(api: Api) -> None:
    admin = api.token("ADMIN", Role.ADMINISTRATOR, authority=NEW)
    hr = api.token("HR1", Role.HR, authority=NEW)
    tm = api.token("TMX", Role.TEAM_MANAGER, authority=NEW)
    sw = api.token("SWX", Role.PRACTITIONER, authority=NEW)
    _send(api, admin, "registerAuthority", "a",
          {"authorityCode": NEW, "name": "Fresh", "policyPack": "DUR"})  # fmt: skip
    worker = {
        "displayName": "x", "role": "social_worker", "team": "Team N",
        "employmentPattern": "full_time", "fte": "1", "engagement": "permanent",
        "startDate": "2026-01-05", "caseHolding": True,
    }  # fmt: skip
    _send(api, hr, "registerWorker", "w1", {**worker, "staffId": "TMX", "role": "team_manager",
                                            "lineManagerId": None})  # fmt: skip
    _send(api, hr, "registerWorker", "w2", {**worker, "staffId": "SWX", "lineManagerId": None})
    _send(api, hr, "changeLineManager", "lm", {"staffId": "SWX", "lineManagerId": "TMX"})
    _send(api, tm, "registerChild", "c1", {"childId": "CX", "dateOfBirth": "2016-04-01",
                                           "caseType": "cin", "riskLevel": "low"})  # fmt: skip
    _send(api, tm, "allocateWorker", "al",
          {"childId": "CX", "workerId": "SWX", "reason": "NEW", "team": "Team N"})  # fmt: skip
    terms = {"staffId": "SWX", "agreementId": "SA", "supervisorId": "TMX", "frequency": "P4W",
             "supervisionFormat": "individual", "reviewDueOn": "2027-01-05",
             "escalationManagerId": "TMX"}  # fmt: skip
    _send(api, tm, "signSupervisionAgreement", "sa-tm", terms)
    _send(api, sw, "signSupervisionAgreement", "sa-sw", terms)
    discussion = {
        "childId": "CX", "entryId": "CS1", "currentSituation": "Settled",
        "childLastSeenOn": "2026-03-01", "childsViews": "Happy", "reflection": "x",
        "analysis": "x", "decision": "x", "rationale": "x", "actions": [],
    }  # fmt: skip
    _send(api, tm, "holdSupervisionSession", "s1", {
        "staffId": "SWX", "sessionId": "S1", "supervisorId": "TMX", "durationMinutes": 60,
        "functionsCovered": ["management"], "wellbeingDiscussed": True,
        "equalityAndDiversityDiscussed": True, "caseDiscussions": [discussion],
    })  # fmt: skip
    trigger = {"childId": "CX", "triggerId": "T1", "kind": "court_direction", "detail": "ICO"}
    _send(api, sw, "triggerOversight", "t1", trigger)
    # Nothing of this authority has reached the read models: every decision above was
    # made on the aggregates.
    subject = view("compliance_subject")
    with api.engine.connect() as conn:
        settled = conn.execute(
            select(func.count()).select_from(subject).where(subject.c.authority_code == NEW)
        ).scalar_one()
    assert settled == 0
    # And what the aggregates say is still decided per person: the supervisee may not
    # record their own case supervision.
    answer = api.query(
        "mutation($input: RecordCaseSupervisionInput!) { recordCaseSupervision(input: $input, "
        f"idempotencyKey: \"cs-sw\") {{ {PROBLEMS} }} }}",
        sw,
        {"input": {**discussion, "entryId": "CS2", "workerId": "SWX", "supervisorId": "TMX",
                   "previousActionsReviewed": "x"}},
    )["recordCaseSupervision"]  # fmt: skip
    assert answer["__typename"] == "ForbiddenProblem", answer
    assert answer["rule"] == "CaseSupervisionIsAManagersRecord DUR-4.7b"  # Durham's own clause


# -- a relationship changed on a subject the read models already hold ------------------------
#
# The ``api`` fixture's story is settled in the read models (it catches up once, then no
# projection runs). A relationship changed now is in the relationship table at once (it is
# written with its events, ADR 0020 addendum): the very next request sees it, before and
# whether or not any read model catches up.


def _answer(api: Api, token: str, mutation: str, key: str, values: dict[str, Any]) -> Any:
    kind = mutation[0].upper() + mutation[1:]
    document = (
        f"mutation($input: {kind}Input!, $key: String!, $at: DateTime) "
        f"{{ {mutation}(input: $input, idempotencyKey: $key, occurredAt: $at) {{ {PROBLEMS} }} }}"
    )
    return api.query(document, token, {"input": values, "key": key, "at": f"{DAY}T10:00:00Z"})[
        mutation
    ]


def _subject(api: Api, kind: str, local_id: str) -> Any:
    """The compliance projection's row of a subject (to show it is stale)."""
    subject = view("compliance_subject")
    with api.engine.connect() as conn:
        return conn.execute(
            select(subject.c.team, subject.c.manager_id, subject.c.worker_id).where(
                subject.c.authority_code == AUTHORITY,
                subject.c.subject_kind == kind,
                subject.c.local_id == local_id,
            )
        ).one()


def _absence(staff_id: str, absence_id: str) -> dict[str, Any]:
    return {"staffId": staff_id, "absenceId": absence_id, "kind": "sickness", "startedOn": DAY}


def _trigger(child_id: str, trigger_id: str) -> dict[str, Any]:
    return {"childId": child_id, "triggerId": trigger_id, "kind": "court_direction",
            "detail": "ICO"}  # fmt: skip


def test_a_new_line_manager_writes_on_the_file_in_the_next_request(api: Api) -> None:
    hr = api.token("HR1", Role.HR)
    tm1 = api.token("TM1", Role.TEAM_MANAGER)
    tm2 = api.token("TM2", Role.TEAM_MANAGER)
    # Before: TM2 manages Team B, and SW1 (Team A) is not theirs.
    refused = _answer(api, tm2, "startAbsence", "before", _absence("SW1", "AB0"))
    assert refused["__typename"] in ("NotFoundProblem", "ForbiddenProblem"), refused
    _send(api, hr, "changeLineManager", "lm-tm2", {"staffId": "SW1", "lineManagerId": "TM2"})
    assert _subject(api, "worker", "SW1").manager_id == "TM1"  # the read model is stale
    _send(api, tm2, "startAbsence", "ab-tm2", _absence("SW1", "AB1"))
    # The old manager is refused in the next request: SW1 is no longer in their chain.
    old = _answer(api, tm1, "startAbsence", "ab-tm1", _absence("SW1", "AB2"))
    assert old["__typename"] in ("NotFoundProblem", "ForbiddenProblem"), old


def test_a_reallocated_childs_new_worker_writes_in_the_next_request(api: Api) -> None:
    sm = api.token("SM1", Role.SERVICE_MANAGER)
    sw2 = api.token("SW2", Role.PRACTITIONER)
    sw3 = api.token("SW3", Role.PRACTITIONER)
    refused = _answer(api, sw3, "triggerOversight", "before", _trigger("C2", "T0"))
    assert refused["__typename"] == "NotFoundProblem", refused  # Team B's child: hidden
    _send(api, sm, "allocateWorker", "realloc",
          {"childId": "C2", "workerId": "SW3", "reason": "OTHERS", "team": "Team A"})  # fmt: skip
    assert _subject(api, "child", "C2").worker_id == "SW2"  # the read model is stale
    _send(api, sw3, "triggerOversight", "t-sw3", _trigger("C2", "T1"))
    # The old worker (Team B) no longer sees the child (Team A, not theirs).
    old = _answer(api, sw2, "triggerOversight", "t-sw2", _trigger("C2", "T2"))
    assert old["__typename"] == "NotFoundProblem", old


def test_a_worker_moved_team_writes_on_the_new_teams_case_in_the_next_request(
    api: Api,
) -> None:
    hr = api.token("HR1", Role.HR)
    sw2 = api.token("SW2", Role.PRACTITIONER)
    refused = _answer(api, sw2, "triggerOversight", "before", _trigger("C1", "T0"))
    assert refused["__typename"] == "NotFoundProblem", refused  # Team A's child: hidden
    _send(api, hr, "changeTeam", "team", {"staffId": "SW2", "team": "Team A"})
    assert _subject(api, "worker", "SW2").team == "Team B"  # the read model is stale
    _send(api, sw2, "triggerOversight", "t-sw2", _trigger("C1", "T1"))
