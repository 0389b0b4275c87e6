"""No existence oracle (issue 23, item 3), on SQLite and PostgreSQL: within an authority,
a child or worker the caller may not see answers exactly as one that does not exist.

For every query that opens a subject (child, worker, node) and for a set of mutations
(child-side, worker-side, and one naming a second subject), the whole answer for (a) an
id no record has and (b) an existing subject of the same authority the caller may not
read is compared: HTTP status and the whole body (code, message, every extension; for a
mutation the union member and its fields). They must be identical, cost the same number
of database round trips, and write nothing (no access log, no event). A mutation with
deliberately broken fields on a hidden child answers as not found: no rule of the domain
runs before the caller is authorised, so none can tell a hidden child's state."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event

from domain import commands as c
from domain.provenance import Actor
from domain.vocabulary import Role
from graphql_api.schema import global_id
from graphql_api.service import HIDDEN_MESSAGES
from tests.graphql_api.conftest import AUTHORITY, START, Api, at, later

GRAPHQL_RESPONSE = "application/graphql-response+json"
MISSING_CHILD = "C404"
MISSING_WORKER = "SW404"

CHILD = """query($id: String!) { child(childId: $id, purpose: "probe") { childId team } }"""
WORKER = """query($id: String!) { worker(staffId: $id, purpose: "probe") { staffId team } }"""
NODE = """query($id: ID!) { node(id: $id) { id ... on Child { childId } } }"""

RESULT = """__typename
  ... on CommandSuccess { idempotencyKey position replayed }
  ... on ValidationProblem { message field rule }
  ... on RuleViolationProblem { message field rule }
  ... on NotFoundProblem { message field }
  ... on ConflictProblem { message retryable }
  ... on ForbiddenProblem { message rule }"""


def _mutation(name: str) -> str:
    kind = name[0].upper() + name[1:]
    return (
        f"mutation($input: {kind}Input!, $key: String!) {{ {name}(input: $input, "
        f'idempotencyKey: $key, occurredAt: "2026-03-02T10:00:00+00:00") {{ {RESULT} }} }}'
    )


def _case_supervision(child_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "childId": child_id, "entryId": "PROBE-CS", "workerId": "SW1", "supervisorId": "TM1",
        "currentSituation": "Settled", "childLastSeenOn": "2026-03-01", "childsViews": "Happy",
        "reflection": "x", "analysis": "x", "decision": "x", "rationale": "x", "actions": [],
        "previousActionsReviewed": "All reviewed", **overrides,
    }  # fmt: skip


def _broken_case_supervision(child_id: str) -> dict[str, Any]:
    """Every field rule broken: blank text, a child seen after the supervision, and no
    review of the previous actions although the child has actions outstanding."""
    return _case_supervision(
        child_id, currentSituation="   ", childLastSeenOn="2099-01-01", childsViews="",
        previousActionsReviewed=None,
    )  # fmt: skip


def _management_oversight(child_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "childId": child_id, "entryId": "PROBE-MO", "answersTriggerIds": ["NO-SUCH-TRIGGER"],
        "reason": "Review", "currentSituation": "Settled", "decision": "x", "rationale": "x",
        "actions": [], **overrides,
    }  # fmt: skip


def _session(staff_id: str, discussions: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "staffId": staff_id, "sessionId": "PROBE-S", "supervisorId": "TM1",
        "durationMinutes": 90, "functionsCovered": ["management", "support"],
        "wellbeingDiscussed": True, "equalityAndDiversityDiscussed": True,
        "caseDiscussions": discussions,
    }  # fmt: skip


def _discussion(child_id: str) -> dict[str, Any]:
    """A case discussion that leaves out the review of the previous actions (the probe
    that found the oracle: the domain's answer named ``previousActionsReviewed``)."""
    return {
        "childId": child_id, "entryId": "PROBE-CD", "currentSituation": "Settled",
        "childLastSeenOn": "2026-03-01", "childsViews": "Happy", "reflection": "x",
        "analysis": "x", "decision": "x", "rationale": "x", "actions": [],
    }  # fmt: skip


def _actions_outstanding(api: Api) -> None:
    """C1 (Team A) and C2 (Team B) each have an action outstanding, so a case supervision
    that does not review the previous actions breaks a rule on either."""
    admin = Actor("ADMIN", Role.ADMINISTRATOR, AUTHORITY)
    for child in ("C1", "C2"):
        api.application.execute(
            c.SetAction(
                command_id=f"probe-action-{child}", actor=admin,
                occurred_at=at(START + timedelta(days=10)), child_id=child,
                action={"action_id": f"A-{child}", "description": "Visit", "owner": "SW1",
                        "due_on": START + timedelta(days=40)},
            )
        )  # fmt: skip
    api.catch_up()


@contextmanager
def _work(api: Api) -> Iterator[Counter[str]]:
    """Counts the database round trips made meanwhile: statements on the read models'
    engine, and calls into the event store's recorder."""
    counts: Counter[str] = Counter()

    def statement(*args: Any) -> None:
        counts["read models"] += 1

    recorder = api.application.recorder
    names = [
        name
        for name in dir(type(recorder))
        if name.startswith(("select_", "insert_", "max_notification_id", "notification_id_of"))
        and callable(getattr(recorder, name))
    ]

    def counted(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            counts["event store"] += 1
            return method(*args, **kwargs)

        return call

    for name in names:
        setattr(recorder, name, counted(name, getattr(recorder, name)))
    event.listen(api.engine, "before_cursor_execute", statement)
    try:
        yield counts
    finally:
        event.remove(api.engine, "before_cursor_execute", statement)
        for name in names:
            delattr(recorder, name)


def _position(api: Api) -> int:
    return api.application.recorder.max_notification_id() or 0


def _ask(
    api: Api, document: str, token: str, variables: dict[str, Any]
) -> tuple[int, dict[str, Any], int]:
    """The whole answer, as the client sees it, the round trips it cost, and whether it
    wrote anything."""
    before = _position(api)
    with _work(api) as counts:
        response = api.raw(
            {"query": document, "variables": variables}, token, accept=GRAPHQL_RESPONSE
        )
    assert _position(api) == before, ("a refused request wrote", document, variables)
    body: dict[str, Any] = response.json()
    return response.status_code, body, sum(counts.values())


def _same(
    api: Api,
    document: str,
    token: str,
    hidden: dict[str, Any],
    missing: dict[str, Any],
) -> dict[str, Any]:
    """Asks for the hidden subject and for the missing one (each twice: the first pair
    warms what a first request warms) and asserts the answers and their cost are the
    same. Returns the answer's body."""
    _ask(api, document, token, hidden)
    _ask(api, document, token, missing)
    status_h, body_h, work_h = _ask(api, document, token, hidden)
    status_m, body_m, work_m = _ask(api, document, token, missing)
    assert body_h == body_m, (body_h, body_m)
    assert status_h == status_m
    assert work_h == work_m, ("round trips differ", work_h, work_m)
    return body_h


def _error(body: dict[str, Any]) -> dict[str, Any]:
    errors = body["errors"]
    assert len(errors) == 1, errors
    first: dict[str, Any] = errors[0]
    return first


# -- queries that open a subject --------------------------------------------------------------


def test_a_child_the_caller_may_not_read_answers_as_a_missing_one(api: Api) -> None:
    # C2 exists (SW2 reads it), in the same authority, and is hidden from each of these.
    assert api.query(CHILD, api.token("SW2", Role.PRACTITIONER), {"id": "C2"})["child"]
    callers = {
        "practitioner of another team": api.token("SW1", Role.PRACTITIONER),
        "team manager of another team": api.token("TM1", Role.TEAM_MANAGER),
        "inspector whose grant ended": api.token(
            "INS1", Role.INSPECTOR, grant_expires_at=later(-1)
        ),
        "investigating officer without a grant": api.token(
            "IO1", Role.INVESTIGATING_OFFICER, grants=("child:C1",)
        ),
        "data protection officer without a grant": api.token("DPO1", Role.DATA_PROTECTION_OFFICER),
        "HR": api.token("HR1", Role.HR),
    }
    for who, token in callers.items():
        body = _same(api, CHILD, token, {"id": "C2"}, {"id": MISSING_CHILD})
        error = _error(body)
        assert error["extensions"]["code"] == "NOT_FOUND", who
        assert error["message"] == HIDDEN_MESSAGES["child"], who
        assert error["extensions"]["field"] == "childId", who
        assert "C2" not in str(body), who  # the id is not echoed anywhere
        assert body.get("data") in (None, {"child": None}), who


def test_a_personal_file_the_caller_may_not_read_answers_as_a_missing_one(api: Api) -> None:
    assert api.query(WORKER, api.token("TM1", Role.TEAM_MANAGER), {"id": "SW1"})["worker"]
    callers = {
        "peer": api.token("SW3", Role.PRACTITIONER),
        "practitioner of another team": api.token("SW2", Role.PRACTITIONER),
        "team manager outside the chain": api.token("TM2", Role.TEAM_MANAGER),
        "HR without a grant": api.token("HR1", Role.HR),
        "inspector whose grant ended": api.token(
            "INS1", Role.INSPECTOR, grant_expires_at=later(-1)
        ),
    }
    for who, token in callers.items():
        body = _same(api, WORKER, token, {"id": "SW1"}, {"id": MISSING_WORKER})
        error = _error(body)
        assert error["extensions"]["code"] == "NOT_FOUND", who
        assert error["message"] == HIDDEN_MESSAGES["worker"], who
        assert error["extensions"]["field"] == "staffId", who
        assert "SW1" not in str(body), who


def test_node_answers_a_hidden_record_as_a_missing_one(api: Api) -> None:
    sw1 = api.token("SW1", Role.PRACTITIONER)
    child = _same(
        api,
        NODE,
        sw1,
        {"id": global_id("Child", AUTHORITY, "C2")},
        {"id": global_id("Child", AUTHORITY, MISSING_CHILD)},
    )
    assert _error(child)["extensions"]["code"] == "NOT_FOUND"
    assert _error(child)["message"] == HIDDEN_MESSAGES["child"]
    worker = _same(
        api,
        NODE,
        sw1,
        {"id": global_id("Worker", AUTHORITY, "SW3")},
        {"id": global_id("Worker", AUTHORITY, MISSING_WORKER)},
    )
    assert _error(worker)["extensions"]["code"] == "NOT_FOUND"
    assert _error(worker)["message"] == HIDDEN_MESSAGES["worker"]


def test_a_visible_record_is_still_read_and_logged(api: Api) -> None:
    """The control: the same callers read what they may, and that read is logged."""
    before = _position(api)
    found = api.query(CHILD, api.token("SW1", Role.PRACTITIONER), {"id": "C1"})
    assert found["child"] == {"childId": "C1", "team": "Team A"}
    assert _position(api) > before  # its access log


# -- mutations ----------------------------------------------------------------------------------


def _problem(body: dict[str, Any], name: str) -> dict[str, Any]:
    assert "errors" not in body, body
    answer: dict[str, Any] = body["data"][name]
    return answer


def test_a_child_side_mutation_on_a_hidden_child_answers_as_on_a_missing_one(api: Api) -> None:
    _actions_outstanding(api)
    tm1 = api.token("TM1", Role.TEAM_MANAGER)  # Team A: C2 is Team B's
    sw1 = api.token("SW1", Role.PRACTITIONER)
    cases = {
        "recordCaseSupervision": (_case_supervision, tm1),
        "recordManagementOversight": (_management_oversight, tm1),
    }
    for name, (build, token) in cases.items():
        for caller in (token, sw1):
            body = _same(
                api,
                _mutation(name),
                caller,
                {"input": build("C2"), "key": f"probe-{name}"},
                {"input": build(MISSING_CHILD), "key": f"probe-{name}"},
            )
            answer = _problem(body, name)
            assert answer == {
                "__typename": "NotFoundProblem",
                "message": HIDDEN_MESSAGES["child"],
                "field": "childId",
            }, (name, answer)


def test_broken_fields_on_a_hidden_child_answer_not_found_not_the_rule(api: Api) -> None:
    """What the probe found: field rules answered for a child the caller cannot read
    (``previousActionsReviewed must not be blank`` said it had actions outstanding)."""
    _actions_outstanding(api)
    tm1 = api.token("TM1", Role.TEAM_MANAGER)
    document = _mutation("recordCaseSupervision")
    body = _same(
        api,
        document,
        tm1,
        {"input": _broken_case_supervision("C2"), "key": "probe-broken"},
        {"input": _broken_case_supervision(MISSING_CHILD), "key": "probe-broken"},
    )
    assert _problem(body, "recordCaseSupervision")["__typename"] == "NotFoundProblem"
    # The control: on a child TM1 may write, the same input is refused by its rules.
    visible = api.query(document, tm1, {"input": _broken_case_supervision("C1"), "key": "p-b"})
    assert visible["recordCaseSupervision"]["__typename"] == "ValidationProblem"
    # An invalid occurredAt is checked after the caller is authorised, too.
    naive = document.replace("2026-03-02T10:00:00+00:00", "2026-03-02T10:00:00")
    body = _same(
        api,
        naive,
        tm1,
        {"input": _case_supervision("C2"), "key": "probe-naive"},
        {"input": _case_supervision(MISSING_CHILD), "key": "probe-naive"},
    )
    assert _problem(body, "recordCaseSupervision")["__typename"] == "NotFoundProblem"
    oversight = _mutation("recordManagementOversight")
    body = _same(
        api,
        oversight,
        tm1,
        {"input": _management_oversight("C2", reason=" ", actions=[]), "key": "p-mo"},
        {"input": _management_oversight(MISSING_CHILD, reason=" ", actions=[]), "key": "p-mo"},
    )
    assert _problem(body, "recordManagementOversight")["__typename"] == "NotFoundProblem"


def test_a_case_discussed_in_a_session_is_authorised_before_its_rules(api: Api) -> None:
    """A worker-side mutation that writes on children too: each child it names is
    authorised before any rule of the session or of the child's record runs."""
    _actions_outstanding(api)
    tm1 = api.token("TM1", Role.TEAM_MANAGER)  # SW1's line manager
    document = _mutation("holdSupervisionSession")
    body = _same(
        api,
        document,
        tm1,
        {"input": _session("SW1", [_discussion("C2")]), "key": "probe-hold"},
        {"input": _session("SW1", [_discussion(MISSING_CHILD)]), "key": "probe-hold"},
    )
    assert _problem(body, "holdSupervisionSession") == {
        "__typename": "NotFoundProblem",
        "message": HIDDEN_MESSAGES["child"],
        "field": "caseDiscussions[0].childId",
    }
    # The control: C1 is TM1's team's; there the rule answers (the probe's message).
    visible = api.query(
        document, tm1, {"input": _session("SW1", [_discussion("C1")]), "key": "probe-hold-c1"}
    )["holdSupervisionSession"]
    assert visible["__typename"] == "ValidationProblem"
    assert visible["field"] == "caseDiscussions[0].previousActionsReviewed"


def test_a_worker_side_mutation_on_a_hidden_file_answers_as_on_a_missing_one(api: Api) -> None:
    peer = api.token("SW3", Role.PRACTITIONER)
    schedule = _mutation("scheduleSupervisionSession")

    def session(staff_id: str) -> dict[str, Any]:
        return {
            "staffId": staff_id, "sessionId": "PROBE-S", "supervisorId": "TM1",
            "scheduledFor": "2026-03-09T10:00:00+00:00",
        }  # fmt: skip

    body = _same(
        api,
        schedule,
        peer,
        {"input": session("SW1"), "key": "probe-schedule"},
        {"input": session(MISSING_WORKER), "key": "probe-schedule"},
    )
    assert _problem(body, "scheduleSupervisionSession") == {
        "__typename": "NotFoundProblem",
        "message": HIDDEN_MESSAGES["worker"],
        "field": "staffId",
    }
    # Broken fields (a zero-minute session, no functions) on a hidden file: not found.
    broken = dict(_session("SW1", []), durationMinutes=0, functionsCovered=[])
    body = _same(
        api,
        _mutation("holdSupervisionSession"),
        peer,
        {"input": broken, "key": "probe-hold-peer"},
        {"input": dict(broken, staffId=MISSING_WORKER), "key": "probe-hold-peer"},
    )
    assert _problem(body, "holdSupervisionSession")["__typename"] == "NotFoundProblem"


def test_a_second_subject_a_mutation_names_is_authorised_too(api: Api) -> None:
    """Allocating a case names a worker, whose caseload it changes: one the caller may
    not see answers as one that does not exist (not ``does not hold cases``)."""
    tm1 = api.token("TM1", Role.TEAM_MANAGER)  # SW2 is Team B's, under TM2

    def allocation(worker_id: str) -> dict[str, Any]:
        return {"childId": "C1", "workerId": worker_id, "reason": "CHCHAN", "team": "Team A"}

    body = _same(
        api,
        _mutation("allocateWorker"),
        tm1,
        {"input": allocation("SW2"), "key": "probe-allocate"},
        {"input": allocation(MISSING_WORKER), "key": "probe-allocate"},
    )
    assert _problem(body, "allocateWorker") == {
        "__typename": "NotFoundProblem",
        "message": HIDDEN_MESSAGES["worker"],
        "field": "workerId",
    }


def test_forbidden_is_kept_for_a_record_the_caller_may_see(api: Api) -> None:
    """An auditor reads C2 but never writes: FORBIDDEN tells them nothing new, and the
    broken fields are still not looked at."""
    _actions_outstanding(api)
    qa = api.token("QA1", Role.QA_AUDITOR)
    before = _position(api)
    answer = api.query(
        _mutation("recordCaseSupervision"),
        qa,
        {"input": _broken_case_supervision("C2"), "key": "probe-qa"},
    )["recordCaseSupervision"]
    assert answer["__typename"] == "ForbiddenProblem" and answer["rule"] == "READ-ONLY"
    missing = api.query(
        _mutation("recordCaseSupervision"),
        qa,
        {"input": _broken_case_supervision(MISSING_CHILD), "key": "probe-qa"},
    )["recordCaseSupervision"]
    assert missing["__typename"] == "NotFoundProblem"
    assert _position(api) == before
