"""The GraphQL API end to end through a real client, on SQLite and PostgreSQL: reads with
authorization and the access log, mutations with typed results, tokens, limits."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from domain.events import AccessLogOpened, ChildRegistered, RecordAccessed, WorkerAllocated
from domain.vocabulary import Role
from graphql_api.limits import Limits
from graphql_api.service import HIDDEN_MESSAGES
from tests.graphql_api.conftest import AUTHORITY, OTHER, Api, claims, forge, later
from tests.helpers import topics

CHILD = """query($id: String!, $purpose: String!) {
  child(childId: $id, purpose: $purpose) { id childId team allocatedWorker }
}"""
WORKER = """query($id: String!) { worker(staffId: $id) { id staffId team } }"""
RESULT = """__typename
  ... on CommandSuccess { idempotencyKey position replayed }
  ... on ValidationProblem { message field rule }
  ... on RuleViolationProblem { message field rule }
  ... on NotFoundProblem { message field }
  ... on ConflictProblem { message retryable }
  ... on ForbiddenProblem { message rule }"""
HOLD = """mutation($key: String!, $staff: String!, $minutes: Int!) {
  holdSupervisionSession(idempotencyKey: $key, occurredAt: "2026-03-02T10:00:00+00:00",
    input: {staffId: $staff, sessionId: "S1", supervisorId: "TM1", durationMinutes: $minutes,
            functionsCovered: ["management", "support"], wellbeingDiscussed: true,
            equalityAndDiversityDiscussed: true, caseDiscussions: []}) { RESULT }
}""".replace("RESULT", RESULT)


def _code(error: dict[str, Any]) -> str:
    return str(error.get("extensions", {}).get("code"))


def test_reading_a_childs_record_is_authorised_and_logged(api: Api) -> None:
    sw1 = api.token("SW1", Role.PRACTITIONER)
    before = len(topics(api.application))
    found = api.query(CHILD, sw1, {"id": "C1", "purpose": "home visit planning"})["child"]
    assert found["childId"] == "C1" and found["allocatedWorker"] == "SW1"
    assert found["team"] == "Team A" and found["id"]
    # The read is on the child's access log, with who, what and why [DUR-4.8].
    assert topics(api.application)[before:] == [AccessLogOpened.__name__, RecordAccessed.__name__]
    api.catch_up()
    trail = api.query(
        """query { child(childId: "C1") { auditTrail(first: 50, kinds: [ACCESS]) {
            edges { node { summary actorId } } } } }""",
        sw1,
    )["child"]["auditTrail"]["edges"]
    assert any(e["node"]["actorId"] == "SW1" for e in trail), trail
    assert any("home visit planning" in e["node"]["summary"] for e in trail), trail
    # Team access: SW3 is in Team A; SW2 (Team B) is refused, and nothing is logged. A
    # child the caller may not read answers as one that does not exist (issue 23).
    assert api.query(CHILD, api.token("SW3", Role.PRACTITIONER), {"id": "C1", "purpose": "cover"})
    before = len(topics(api.application))
    refused = api.error(CHILD, api.token("SW2", Role.PRACTITIONER), {"id": "C1", "purpose": "x"})
    assert _code(refused) == "NOT_FOUND" and "rule" not in refused["extensions"]
    assert refused["message"] == HIDDEN_MESSAGES["child"]
    assert len(topics(api.application)) == before


def test_authority_isolation_hides_other_authorities(api: Api) -> None:
    """OTHER-LA has its own C1: neither authority sees the other's, and a query about a
    record of another authority reads as not found, never as forbidden."""
    theirs = api.token("QA9", Role.QA_AUDITOR, authority=OTHER)
    mine = api.token("QA1", Role.QA_AUDITOR)
    assert api.query(CHILD, mine, {"id": "C1", "purpose": "audit"})["child"]["team"] == "Team A"
    assert _code(api.error(CHILD, theirs, {"id": "C2", "purpose": "audit"})) == "NOT_FOUND"
    assert _code(api.error(WORKER, theirs, {"id": "SW1"})) == "NOT_FOUND"
    # Their C1 is theirs: no team here, and none of our allocation shows.
    other_child = api.query(CHILD, theirs, {"id": "C1", "purpose": "audit"})["child"]
    assert other_child["allocatedWorker"] is None and other_child["team"] is None
    summary = api.query(
        """query { complianceSummary(asOf: "2026-03-31") { byTeam { key fellDue } } }""", theirs
    )["complianceSummary"]["byTeam"]
    assert all(row["key"] not in ("Team A", "Team B") for row in summary)
    # Lists and registers of their authority hold nothing of ours.
    lists = api.query(
        """query { cases(asOf: "2026-03-31") { edges { node { childId team } } }
          workers(asOf: "2026-03-31") { edges { node { staffId } } }
          register(kind: OVERSIGHT_TRIGGER, asOf: "2026-03-31", openOnly: false) { localId } }""",
        theirs,
    )
    assert [e["node"] for e in lists["cases"]["edges"]] == [{"childId": "C1", "team": None}]
    assert lists["workers"]["edges"] == [] and lists["register"] == []
    ours = api.query(
        """query { workers(asOf: "2026-03-31") { edges { node { staffId } } } }""", mine
    )
    assert {e["node"]["staffId"] for e in ours["workers"]["edges"]} == {
        "SM1",
        "TM1",
        "TM2",
        "SW1",
        "SW2",
        "SW3",
    }


def test_personal_files_are_never_read_by_peers(api: Api) -> None:
    assert api.query(WORKER, api.token("SW1", Role.PRACTITIONER), {"id": "SW1"})
    assert api.query(WORKER, api.token("TM1", Role.TEAM_MANAGER), {"id": "SW1"})
    assert api.query(WORKER, api.token("SM1", Role.SERVICE_MANAGER), {"id": "SW1"})
    peer = api.error(WORKER, api.token("SW3", Role.PRACTITIONER), {"id": "SW1"})
    # A file the caller may not read answers as one that does not exist (issue 23).
    assert _code(peer) == "NOT_FOUND" and peer["message"] == HIDDEN_MESSAGES["worker"]
    other_manager = api.error(WORKER, api.token("TM2", Role.TEAM_MANAGER), {"id": "SW1"})
    assert _code(other_manager) == "NOT_FOUND"
    hr = api.token("HR1", Role.HR)
    assert _code(api.error(WORKER, hr, {"id": "SW1"})) == "NOT_FOUND"
    granted = api.token("HR1", Role.HR, grants=("worker:SW1",))
    assert api.query(WORKER, granted, {"id": "SW1"})["worker"]["team"] == "Team A"
    expired = api.token("INS1", Role.INSPECTOR, grant_expires_at=later(-1))
    assert _code(api.error(WORKER, expired, {"id": "SW1"})) == "NOT_FOUND"
    inspector = api.token("INS1", Role.INSPECTOR, grant_expires_at=later(5))
    assert api.query(WORKER, inspector, {"id": "SW1"})


def test_mutations_return_typed_results_and_write_nothing_when_refused(api: Api) -> None:
    tm1 = api.token("TM1", Role.TEAM_MANAGER)
    before = len(topics(api.application))
    bad = api.query(HOLD, tm1, {"key": "k-bad", "staff": "SW1", "minutes": 0})
    assert bad["holdSupervisionSession"]["__typename"] == "ValidationProblem"
    assert bad["holdSupervisionSession"]["field"] == "durationMinutes"
    missing = api.query(HOLD, tm1, {"key": "k-missing", "staff": "NOBODY", "minutes": 90})
    assert missing["holdSupervisionSession"]["__typename"] == "NotFoundProblem"
    peer = api.query(
        HOLD,
        api.token("SW3", Role.PRACTITIONER),
        {"key": "k-p", "staff": "SW1", "minutes": 90},
    )
    # A peer may not see SW1's file: answered as a file that does not exist (issue 23).
    assert peer["holdSupervisionSession"]["__typename"] == "NotFoundProblem"
    auditor = api.query(
        HOLD, api.token("QA1", Role.QA_AUDITOR), {"key": "k-q", "staff": "SW1", "minutes": 90}
    )
    assert auditor["holdSupervisionSession"]["rule"] == "READ-ONLY"
    assert len(topics(api.application)) == before  # nothing written by any of them
    done = api.query(HOLD, tm1, {"key": "k-1", "staff": "SW1", "minutes": 90})
    success = done["holdSupervisionSession"]
    assert success["__typename"] == "CommandSuccess" and not success["replayed"]
    again = api.query(HOLD, tm1, {"key": "k-1", "staff": "SW1", "minutes": 90})
    assert again["holdSupervisionSession"]["replayed"] is True
    assert again["holdSupervisionSession"]["position"] == success["position"]
    reused = api.query(HOLD, tm1, {"key": "k-1", "staff": "SW1", "minutes": 75})
    assert reused["holdSupervisionSession"]["__typename"] == "ConflictProblem"
    # Read your write: the position the mutation returned.
    position = success["position"]
    lagging = api.error(
        """query($p: ID!) { worker(staffId: "SW1", consistentWith: $p) { staffId } }""",
        tm1,
        {"p": position},
    )
    assert _code(lagging) == "PROJECTION_LAGGING" and lagging["extensions"]["retryable"]
    never = api.error(
        """query { worker(staffId: "SW1", consistentWith: "999999999") { staffId } }""", tm1
    )
    assert _code(never) == "BAD_USER_INPUT" and never["extensions"]["field"] == "consistentWith"
    api.catch_up()
    assert (
        api.query(
            """query($p: ID!) { worker(staffId: "SW1", consistentWith: $p) { staffId } }""",
            tm1,
            {"p": position},
        )["worker"]["staffId"]
        == "SW1"
    )


def test_every_command_has_a_mutation_and_reads_need_a_principal(api: Api) -> None:
    from application.handlers import handled_commands
    from graphql_api.mutations import lower_first
    from graphql_api.service import INTERNAL_COMMANDS

    names = api.query("{ __schema { mutationType { fields { name } } } }", None)
    fields = {f["name"] for f in names["__schema"]["mutationType"]["fields"]}
    expected = {
        lower_first(k.__name__)
        for k in handled_commands()
        if k.__module__ == "domain.commands" and k not in INTERNAL_COMMANDS
    }
    # The API records reads itself, and only an import records what a sector return says
    # of care before the record began, missing periods and corrected episodes (ADR 0025).
    assert {k.__name__ for k in INTERNAL_COMMANDS} == {
        "RecordAccess", "RecordCareBeganBeforeRecord", "CorrectCareEpisode", "RecordMissingFromCare"
    }  # fmt: skip
    # One per command, and the data protection officer's purge run (ADR 0012).
    assert fields == expected | {"purgeDueRecords"}
    assert _code(api.error("{ viewer { staffId } }", None)) == "UNAUTHENTICATED"


def test_compliance_and_registers_for_managers_only(api: Api) -> None:
    query = """query { complianceSummary(asOf: "2026-03-31") { pack byRule { key fellDue } } }"""
    assert (
        api.query(query, api.token("SM1", Role.SERVICE_MANAGER))["complianceSummary"]["pack"]
        == "DUR"
    )
    assert _code(api.error(query, api.token("SW1", Role.PRACTITIONER))) == "FORBIDDEN"
    team = """query {
      register(kind: OVERSIGHT_TRIGGER, asOf: "2026-03-31", team: "Team A") {
        localId itemId dueOn ruleId } }"""
    items = api.query(team, api.token("TM1", Role.TEAM_MANAGER))["register"]
    assert [i["localId"] for i in items] == ["C1"] and items[0]["ruleId"] == "DUR-4.6d"
    other_team = team.replace("Team A", "Team B")
    assert _code(api.error(other_team, api.token("TM1", Role.TEAM_MANAGER))) == "FORBIDDEN"
    findings = api.query(
        """query { worker(staffId: "SW1") {
          compliance(asOf: "2026-03-31") { pack findings { ruleId status sentence } } } }""",
        api.token("TM1", Role.TEAM_MANAGER),
    )["worker"]["compliance"]
    assert findings["pack"] == "DUR" and findings["findings"]
    assert all(f["ruleId"] in f["sentence"] for f in findings["findings"])


def test_findings_carry_their_windows_and_summaries_count_breached_windows(api: Api) -> None:
    """SW1 has had no supervision since starting: each window of a recurring rule that
    closed without it is its own BREACHED finding, with its dates (ADR 0009, addendum)."""
    manager = api.token("TM1", Role.TEAM_MANAGER)
    findings = api.query(
        """query { worker(staffId: "SW1") { compliance(asOf: "2026-03-31") {
          findings { ruleId status dueOn windowStart windowEnd } } } }""",
        manager,
    )["worker"]["compliance"]["findings"]
    breached = [f for f in findings if f["status"] == "BREACHED"]
    assert len(breached) > 5
    for f in findings:
        assert f["windowStart"] is not None and f["windowStart"] <= "2026-03-31"
        assert f["windowEnd"] == f["dueOn"]
    assert all(f["windowEnd"] < "2026-03-31" for f in breached)
    rows = api.query(
        """query { complianceSummary(asOf: "2026-03-31", since: "2025-10-01") {
          since byRule { key breached fellDue } byTeam { key breached } } }""",
        api.token("SM1", Role.SERVICE_MANAGER),
    )["complianceSummary"]
    assert rows["since"] == "2025-10-01"
    by_rule = sum(r["breached"] for r in rows["byRule"])
    assert by_rule > 0 and by_rule == sum(r["breached"] for r in rows["byTeam"])
    assert all(r["breached"] <= r["fellDue"] for r in rows["byRule"])


# -- tokens ------------------------------------------------------------------------------------


def test_tokens_are_checked_strictly(api: Api) -> None:
    tokens = api.tokens
    private = api.private_key.read_bytes()
    kid = jwt.get_unverified_header(api.token("SW1", Role.PRACTITIONER))["kid"]
    other_key = ec.generate_private_key(ec.SECP256R1())
    bad: dict[str, str] = {
        "alg none": jwt.encode(claims(tokens), None, algorithm="none"),  # type: ignore[arg-type]
        "HS256 with the public key as secret": forge(
            claims(tokens), "secret-secret-secret-secret-32b!", "HS256", {"kid": kid}
        ),
        "wrong key": forge(claims(tokens), other_key, "ES256", {"kid": kid}),
        "unknown kid": forge(claims(tokens), private, "ES256", {"kid": "nope"}),
        "expired": forge(
            claims(tokens, exp=int(time.time()) - 3600), private, "ES256", {"kid": kid}
        ),
        "wrong audience": forge(claims(tokens, aud="someone-else"), private, "ES256", {"kid": kid}),
        "wrong issuer": forge(claims(tokens, iss="https://evil/"), private, "ES256", {"kid": kid}),
        "no expiry": forge(claims(tokens, exp=None), private, "ES256", {"kid": kid}),
        "no subject": forge(claims(tokens, sub=None), private, "ES256", {"kid": kid}),
        "unknown role": forge(claims(tokens, role="god"), private, "ES256", {"kid": kid}),
        "bad authority": forge(claims(tokens, authority="x y"), private, "ES256", {"kid": kid}),
        "garbage": "not-a-token",
    }
    for name, token in bad.items():
        response = api.raw({"query": "{ viewer { staffId } }"}, token)
        assert response.status_code == 401, name
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", name
        assert "Bearer" in response.headers["www-authenticate"], name
    basic = api.raw({"query": "{ viewer { staffId } }"}, None, authorization="Basic abc")
    assert basic.status_code == 401
    good = forge(claims(tokens), private, "ES256", {"kid": kid})
    assert (
        api.raw({"query": "{ viewer { staffId } }"}, good).json()["data"]["viewer"]["staffId"]
        == "SW1"
    )


ACCEPT = {"accept": "application/graphql-response+json"}


def _limit(response: Any) -> str:
    """The limit a refusal names (``extensions.code`` is ``LIMITED``)."""
    extensions = response.json()["errors"][0]["extensions"]
    assert extensions["code"] == "LIMITED", extensions
    return str(extensions["limit"])


def test_limits_and_request_errors(api: Api) -> None:
    sw1 = api.token("SW1", Role.PRACTITIONER)
    deep = """{ child(childId: "C1") {
      auditTrail { edges { node { related } } pageInfo { endCursor } } } }"""
    assert api.raw({"query": deep}, sw1).status_code == 200
    shallow = api.with_limits(Limits(max_depth=3))
    response = shallow.raw({"query": deep}, sw1, **ACCEPT)
    assert response.status_code == 400 and _limit(response) == "depth"
    assert "data" not in response.json()
    # A client that accepts only application/json gets it, with 200 (GraphQL over HTTP).
    legacy = shallow.raw({"query": deep}, sw1, accept="application/json")
    assert legacy.status_code == 200 and legacy.headers["content-type"] == "application/json"
    aliases = "{ " + " ".join(f"a{i}: viewer {{ staffId }}" for i in range(30)) + " }"
    response = api.raw({"query": aliases}, sw1, **ACCEPT)
    assert response.status_code == 400 and _limit(response) == "aliases"
    too_large = api.raw("x" * 2_000_000, sw1, **{"content-type": "application/json"})
    assert too_large.status_code == 413 and _limit(too_large) == "bodyBytes"
    unparsable = api.raw({"query": "{ viewer { "}, sw1, **ACCEPT)
    assert unparsable.status_code == 400
    assert unparsable.headers["content-type"].startswith("application/graphql-response+json")
    page = api.error(
        """{ child(childId: "C1") { auditTrail(first: 100000) { edges { cursor } } } }""", sw1
    )
    assert _code(page) == "BAD_USER_INPUT" and page["extensions"]["field"] == "first"
    cursor = api.error(
        """{ child(childId: "C1") { auditTrail(after: "bogus") { edges { cursor } } } }""", sw1
    )
    assert _code(cursor) == "BAD_USER_INPUT"
    naive = api.error(
        """{ child(childId: "C1") { state(asOf: "2026-01-01T00:00:00") {
          attributes { __typename } } } }""",
        sw1,
    )
    assert _code(naive) == "BAD_USER_INPUT" and naive["extensions"]["field"] == "asOf"


def test_point_in_time_state_through_the_api(api: Api) -> None:
    tm1 = api.token("TM1", Role.TEAM_MANAGER)
    now = datetime.now(UTC)
    state = api.query(
        """query($k: DateTime) { child(childId: "C1") {
          state(knownAt: $k) {
            attributes { __typename ... on ChildAttributes { allocatedWorkerId caseType } }
            events { __typename kind ... on WorkerAllocatedEvent { workerId reason } } } } }""",
        tm1,
        {"k": (now + timedelta(days=1)).isoformat()},
    )["child"]["state"]
    assert state["attributes"]["__typename"] == "ChildAttributes"
    assert state["attributes"]["allocatedWorkerId"] == "SW1"
    assert [e["__typename"] for e in state["events"]][:2] == [
        f"{ChildRegistered.__name__}Event",
        f"{WorkerAllocated.__name__}Event",
    ]
    allocated = state["events"][1]
    assert allocated["kind"] == "WORKER_ALLOCATED" and allocated["workerId"] == "SW1"
    before = api.query(
        """query($k: DateTime) { child(childId: "C1") {
          state(knownAt: $k) { events { kind } } } }""",
        tm1,
        {"k": "2000-01-01T00:00:00+00:00"},
    )["child"]["state"]
    assert before["events"] == []


@pytest.mark.parametrize("authority", [AUTHORITY])
def test_global_ids_are_opaque_and_stable(api: Api, authority: str) -> None:
    from graphql_api.schema import global_id, parse_global_id

    sw1 = api.token("SW1", Role.PRACTITIONER)
    found = api.query(CHILD, sw1, {"id": "C1", "purpose": "x"})["child"]
    assert found["id"] == global_id("Child", authority, "C1")
    assert parse_global_id(found["id"]) == ("Child", authority, "C1")
    # Relay: node(id) reads the same record, by the same rules, and logs the read.
    before = len(topics(api.application))
    node = api.query(
        """query($id: ID!) { node(id: $id) { id ... on Child { childId team } } }""",
        sw1,
        {"id": found["id"]},
    )["node"]
    assert node == {"id": found["id"], "childId": "C1", "team": "Team A"}
    assert topics(api.application)[before:] == [RecordAccessed.__name__]
    worker_id = global_id("Worker", authority, "SW3")
    peer = api.error("""query($id: ID!) { node(id: $id) { id } }""", sw1, {"id": worker_id})
    assert _code(peer) == "NOT_FOUND"  # a peer's file, as one that does not exist
    theirs = global_id("Child", OTHER, "C1")
    hidden = api.error("""query($id: ID!) { node(id: $id) { id } }""", sw1, {"id": theirs})
    assert _code(hidden) == "NOT_FOUND"
    garbage = api.error("""query { node(id: "%%%") { id } }""", sw1)
    assert _code(garbage) == "BAD_USER_INPUT" and garbage["extensions"]["classification"] == (
        "BAD_REQUEST"
    )


def test_a_case_list_costs_the_same_queries_however_long(api: Api) -> None:
    """The open work of every listed case is loaded in one batch (a DataLoader), so the
    number of database queries does not grow with the page [no N+1]."""
    from sqlalchemy import event

    manager = api.token("SM1", Role.SERVICE_MANAGER)
    query = """query($first: Int!) { cases(asOf: "2026-03-31", first: $first) {
        edges { cursor node { childId team allocatedWorker overdue nextDueOn } }
        pageInfo { hasNextPage endCursor } } }"""
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(api.engine, "before_cursor_execute", count)
    try:
        one = api.query(query, manager, {"first": 1})["cases"]
        after_one = len(statements)
        statements.clear()
        both = api.query(query, manager, {"first": 2})["cases"]
        after_two = len(statements)
    finally:
        event.remove(api.engine, "before_cursor_execute", count)
    assert [e["node"]["childId"] for e in both["edges"]] == ["C1", "C2"]
    assert one["pageInfo"]["hasNextPage"] and not both["pageInfo"]["hasNextPage"]
    assert both["edges"][0]["node"]["overdue"] >= 1  # the allocation trigger, unanswered
    assert after_one > 0 and after_two == after_one, (after_one, after_two)
    # Keyset pagination: the next page starts after the cursor; a forged cursor is refused.
    rest = api.query(
        """query($after: String) { cases(asOf: "2026-03-31", first: 5, after: $after) {
            edges { node { childId } } } }""",
        manager,
        {"after": one["pageInfo"]["endCursor"]},
    )["cases"]["edges"]
    assert [e["node"]["childId"] for e in rest] == ["C2"]
    bad = api.error(
        """query { cases(asOf: "2026-03-31", after: "Zm9v") { edges { cursor } } }""", manager
    )
    assert _code(bad) == "BAD_USER_INPUT"
    assert _code(api.error(query, api.token("SW1", Role.PRACTITIONER), {"first": 1})) == (
        "FORBIDDEN"
    )


def test_a_just_registered_child_can_be_allocated_before_the_read_models_settle(api: Api) -> None:
    """The relationships come from the read models, but a subject they have not settled
    yet is read from the event store: register then allocate, with no catch-up between."""
    manager = api.token("TM1", Role.TEAM_MANAGER)
    register = """mutation { registerChild(idempotencyKey: "r-C9", input: {childId: "C9",
        dateOfBirth: "2019-02-01", caseType: "cin", riskLevel: "low", rag: "green"})
        { __typename } }"""
    assert api.query(register, manager)["registerChild"]["__typename"] == "CommandSuccess"
    allocate = """mutation { allocateWorker(idempotencyKey: "a-C9", input: {childId: "C9",
        workerId: "SW1", reason: "NEW", team: "Team A"}) { __typename } }"""
    assert api.query(allocate, manager)["allocateWorker"]["__typename"] == "CommandSuccess"
    found = api.query(CHILD, api.token("SW1", Role.PRACTITIONER), {"id": "C9", "purpose": "x"})
    assert found["child"]["allocatedWorker"] == "SW1" and found["child"]["team"] == "Team A"
    elsewhere = api.query(
        allocate.replace("a-C9", "a-C9b").replace("SW1", "SW2").replace("Team A", "Team B"),
        api.token("SW2", Role.PRACTITIONER),
    )["allocateWorker"]
    assert elsewhere["__typename"] == "ForbiddenProblem"


def test_nul_characters_are_refused_with_a_typed_error(api: Api) -> None:
    """PostgreSQL text cannot hold U+0000: ids are checked first (naming the field), and
    anything else the database refuses is a typed VALIDATION error, never a masked one
    (found by the fuzzing test)."""
    manager = api.token("SM1", Role.SERVICE_MANAGER)
    named = api.error(CHILD, manager, {"id": "C\u00001", "purpose": "x"})
    assert _code(named) == "BAD_USER_INPUT" and named["extensions"]["field"] == "childId"
    allocate = api.query(
        """mutation($id: String!) { allocateWorker(idempotencyKey: "nul-1", input: {
            childId: $id, workerId: "SW1", reason: "NEW", team: "Team A"}) { __typename
            ... on ValidationProblem { field } } }""",
        manager,
        {"id": "\u0000"},
    )["allocateWorker"]
    assert allocate == {"__typename": "ValidationProblem", "field": "childId"}
    response = api.raw(
        {"query": 'query { cases(asOf: "2026-01-01", team: "\\u0000") { edges { cursor } } }'},
        manager,
        accept="application/graphql-response+json",
    )
    for error in response.json().get("errors") or []:
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error


def test_token_limit_introspection_switch_and_error_masking(api: Api) -> None:
    sw1 = api.token("SW1", Role.PRACTITIONER)
    few_tokens = api.with_limits(Limits(max_tokens=20))
    long_query = "{ viewer { staffId role authority } " + "viewer { staffId } " * 10 + "}"
    response = few_tokens.raw({"query": long_query}, sw1, **ACCEPT)
    assert response.status_code == 400 and _limit(response) == "tokens"
    closed = api.with_limits(Limits(introspection=False, ide=False))
    response = closed.raw({"query": "{ __schema { queryType { name } } }"}, sw1, **ACCEPT)
    assert response.status_code == 400
    assert "introspection" in response.json()["errors"][0]["message"].lower()
    assert closed.raw({"query": "{ viewer { staffId } }"}, sw1).status_code == 200
    # An unexpected failure is masked: the client learns nothing of it.
    original = api.service._lookup

    def broken(*args: Any) -> Any:
        raise RuntimeError("secret detail: connection string postgres://user:pw@db")

    api.service._lookup = broken  # type: ignore[method-assign]
    try:
        response = api.raw({"query": '{ child(childId: "C1") { childId } }'}, sw1)
    finally:
        api.service._lookup = original  # type: ignore[method-assign]
    assert response.status_code == 200
    error = response.json()["errors"][0]
    assert error["message"] == "Unexpected error." and "secret" not in response.text


def test_a_chunked_body_is_held_to_the_same_size_limit(api: Api) -> None:
    """No Content-Length (chunked transfer): the body is counted as it arrives."""
    import httpx2

    sw1 = api.token("SW1", Role.PRACTITIONER)
    small = api.with_limits(Limits(max_body_bytes=1_000))

    async def chunks() -> Any:
        for _ in range(50):
            yield b" " * 100

    async def send() -> httpx2.Response:
        transport = httpx2.ASGITransport(app=small.app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://api") as http:
            return await http.post(
                "/graphql",
                content=chunks(),
                headers={"authorization": f"Bearer {sw1}", "content-type": "application/json"},
            )

    import asyncio

    response = asyncio.run(send())
    assert response.status_code == 413
    assert _limit(response) == "bodyBytes"


def test_a_manager_records_their_supervisees_absence(api: Api) -> None:
    absence = """mutation { startAbsence(idempotencyKey: "abs-1", input: {staffId: "SW1",
        absenceId: "A1", kind: "sickness", startedOn: "2026-02-02"}) { __typename
        ... on ForbiddenProblem { rule } } }"""
    assert api.query(absence, api.token("TM1", Role.TEAM_MANAGER))["startAbsence"] == {
        "__typename": "CommandSuccess"
    }
    other = absence.replace("abs-1", "abs-2").replace("A1", "A2")
    refused = api.query(other, api.token("TM2", Role.TEAM_MANAGER))["startAbsence"]
    assert refused["__typename"] == "NotFoundProblem"  # not TM2's to see (issue 23)


def test_unicode_edge_cases_are_stored_exactly_or_refused_typed(api: Api) -> None:
    """Text that is valid Unicode is stored exactly, however odd; what cannot be text at
    all (a lone surrogate, which JSON can spell but UTF-8 cannot) is a typed error, and
    the service stays up. Issue 8."""
    manager = api.token("SM1", Role.SERVICE_MANAGER)
    kept = {
        "emoji and a flag": "Child said 😊🇬🇧 at the visit",
        "right-to-left override": "Name \u202egnol si siht\u202c recorded",
        "zero-width joiner and space": "Fam\u200dily\u200b split",
        "combining marks": "Zoe\u0308 and Ame\u0301lie",
        "astral plane": "\U0001d510\U0001d51e\U0001d52f\U0001d528 \U00010348 \U00013000",
        "Arabic and Chinese": "مراجعة الحالة 案件复查",
    }
    mutation = """mutation($key: String!, $id: String!, $about: String!) {
      raiseDisagreement(idempotencyKey: $key, occurredAt: "2026-01-10T10:00:00+00:00",
        input: {childId: "C1", disagreementId: $id, subject: "decision_on_child",
                about: $about}) { __typename ... on ValidationProblem { field } } }"""
    for n, (name, text) in enumerate(kept.items()):
        done = api.query(mutation, manager, {"key": f"uni-{n}", "id": f"U{n}", "about": text})
        assert done["raiseDisagreement"] == {"__typename": "CommandSuccess"}, name
        stored = api.application.get_child(AUTHORITY, "C1").disagreements[f"U{n}"]
        assert stored.about == text, name
    before = len(topics(api.application))
    # Oversized: a field longer than its limit is refused naming the field, within the
    # body limit (ids have their own, shorter, limit).
    too_long = api.query(mutation, manager, {"key": "uni-long", "id": "UL", "about": "x" * 20_001})
    assert too_long["raiseDisagreement"] == {"__typename": "ValidationProblem", "field": "about"}
    long_id = api.error(CHILD, manager, {"id": "C" * 65, "purpose": "x"})
    assert _code(long_id) == "BAD_USER_INPUT" and long_id["extensions"]["field"] == "childId"
    for name, body in {
        "a lone surrogate": '{"query": "mutation { raiseDisagreement(idempotencyKey: '
        '\\"uni-bad\\", input: {childId: \\"C1\\", disagreementId: \\"UB\\", subject: '
        '\\"decision_on_child\\", about: \\"bad \\\\ud800 text\\"}) { __typename } }"}',
        "a lone surrogate in a variable": '{"query": "query($id: String!) { child(childId: '
        '$id, purpose: \\"x\\") { id } }", "variables": {"id": "C\\ud8001"}}',
        "invalid UTF-8 bytes": b'{"query": "{ viewer { staffId } }", "x": "\xff\xfe"}',
    }.items():
        response = api.raw(body, manager, **ACCEPT, **{"content-type": "application/json"})
        assert response.status_code < 500, (name, response.text)
        for error in response.json().get("errors") or []:
            # Typed, or the request error of a document that does not parse (HTTP 400,
            # GraphQL over HTTP: graphql-core's own message, no path).
            request_error = response.status_code == 400 and "path" not in error
            assert error.get("extensions", {}).get("code") or request_error, (name, error)
    assert len(topics(api.application)) == before  # nothing written
    assert api.query(WORKER, manager, {"id": "SW1"})["worker"]["staffId"] == "SW1"  # still up


def test_every_read_of_a_record_is_on_its_access_log(api: Api) -> None:
    """A child's record and a personal file, read by id or by global id (Relay node),
    each put one RecordAccessed on that subject's access log, with who read it and why;
    a refused read logs nothing. Issue 8."""
    from graphql_api.schema import global_id

    manager = api.token("TM1", Role.TEAM_MANAGER)
    reads = [
        (CHILD, {"id": "C1", "purpose": "supervision prep"}),
        (WORKER, {"id": "SW1"}),
        (
            """query($id: ID!) { node(id: $id) { id } }""",
            {"id": global_id("Child", AUTHORITY, "C1")},
        ),
        (
            """query($id: ID!) { node(id: $id) { id } }""",
            {"id": global_id("Worker", AUTHORITY, "SW1")},
        ),
    ]
    for document, variables in reads:
        before = len(topics(api.application))
        api.query(document, manager, variables)
        assert topics(api.application)[before:] in (
            [RecordAccessed.__name__],
            [AccessLogOpened.__name__, RecordAccessed.__name__],
        ), document
    refused_before = len(topics(api.application))
    api.error(WORKER, api.token("SW3", Role.PRACTITIONER), {"id": "SW1"})
    assert len(topics(api.application)) == refused_before
