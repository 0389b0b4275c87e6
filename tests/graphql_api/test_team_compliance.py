"""Team rules over the API [DEV-7, POR-3.3] (ADR 0024): a Devon and a Portsmouth
authority, each team's windows and breaches, the sessions deduplicated across attendees,
the compliance summary counting them per team, and a bad session kind refused typed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain import commands as c
from domain.provenance import Actor
from domain.vocabulary import Role
from tests.graphql_api.conftest import Api, at

DEVON, PORTSMOUTH = "DEV-LA", "POR-LA"
START = date(2026, 1, 5)

TEAMS = """query($asOf: Date!, $team: String, $since: Date) {
  teamCompliance(asOf: $asOf, team: $team, since: $since) {
    pack since
    findings { team satisfiedOn finding { ruleId ruleKey status windowStart windowEnd sentence } }
    breaches { team ruleKey breached }
    sessions { team sessionId kind heldOn attendees facilitatorId evidence }
  } }"""

ATTEND = """mutation($key: String!, $staff: String!, $session: String!, $kind: String!) {
  attendGroupSupervision(idempotencyKey: $key, input: {staffId: $staff,
    groupSessionId: $session, facilitatorId: "TM1", topic: "Reflective case discussion",
    sessionKind: $kind}) {
    __typename
    ... on ValidationProblem { field message }
    ... on CommandSuccess { position }
  } }"""


def _authority(api: Api, code: str, pack: str) -> None:
    admin = Actor("ADMIN", Role.ADMINISTRATOR, code)
    app = api.application
    app.execute(
        c.RegisterAuthority(
            command_id=f"{code}-reg", actor=admin, occurred_at=at(date(2025, 12, 1)),
            authority_code=code, name=f"{code} Council", policy_pack=pack,
        )
    )  # fmt: skip
    staff = [
        ("SM1", "service_manager", "Leadership", None),
        ("TM1", "team_manager", "North", "SM1"),
        ("SW1", "social_worker", "North", "TM1"),
        ("SW2", "social_worker", "North", "TM1"),
        ("SW3", "social_worker", "South", "SM1"),
    ]
    for staff_id, role, team, manager in staff:
        app.execute(
            c.RegisterWorker(
                command_id=f"{code}-reg-{staff_id}", actor=admin, occurred_at=at(START),
                staff_id=staff_id, display_name=f"Worker {staff_id}", role=role, team=team,
                line_manager_id=manager, employment_pattern="full_time", fte=Decimal(1),
                engagement="permanent", start_date=START, case_holding=role == "social_worker",
            )
        )  # fmt: skip


def _attend(api: Api, code: str, staff_id: str, session: str, day: date, kind: str) -> None:
    api.application.execute(
        c.AttendGroupSupervision(
            command_id=f"{code}-{staff_id}-{session}",
            actor=Actor(staff_id, Role.PRACTITIONER, code),
            occurred_at=at(day),
            staff_id=staff_id,
            group_session_id=session,
            facilitator_id="TM1",
            topic="Reflective case discussion",
            session_kind=kind,
        )
    )


def test_devon_teams_missing_months_are_breached_per_team_and_counted(api: Api) -> None:
    _authority(api, DEVON, "DEV")
    # North: group supervision in January (both attend: one session), none in February
    # or March; SW3 moves from South to North in April and attends one there.
    for who in ("SW1", "SW2"):
        _attend(api, DEVON, who, "G1", date(2026, 1, 20), "group_supervision")
    api.application.execute(
        c.ChangeTeam(
            command_id=f"{DEVON}-move", actor=Actor("ADMIN", Role.ADMINISTRATOR, DEVON),
            occurred_at=at(date(2026, 4, 1)), staff_id="SW3", team="North",
        )
    )  # fmt: skip
    _attend(api, DEVON, "SW3", "G2", date(2026, 4, 10), "group_supervision")
    api.catch_up()
    manager = api.token("SM1", Role.SERVICE_MANAGER, authority=DEVON)
    result = api.query(TEAMS, manager, {"asOf": "2026-04-30"})["teamCompliance"]
    assert result["pack"] == "DEV"
    assert {f["finding"]["ruleId"] for f in result["findings"]} == {"DEV-7"}
    north = [f for f in result["findings"] if f["team"] == "North"]
    assert [
        (f["finding"]["windowStart"], f["finding"]["windowEnd"], f["finding"]["status"])
        for f in north
    ] == [
        ("2026-01-05", "2026-02-05", "MET"),
        ("2026-01-20", "2026-02-20", "BREACHED"),
        ("2026-02-21", "2026-03-20", "BREACHED"),
        ("2026-03-21", "2026-04-20", "MET"),  # SW3's session after the move
        ("2026-04-10", "2026-05-10", "MET"),
    ]
    assert all("DEV-7" in f["finding"]["sentence"] for f in north)
    breaches = {(b["team"], b["ruleKey"]): b["breached"] for b in result["breaches"]}
    assert breaches[("North", "DEV-7")] == 2
    # South had SW3 alone until April, and no session: January to March breached.
    assert breaches[("South", "DEV-7")] == 2
    [g1, g2] = [s for s in result["sessions"] if s["team"] == "North"]
    assert (g1["sessionId"], g1["attendees"], g1["kind"]) == (
        "G1",
        ["SW1", "SW2"],
        "GROUP_SUPERVISION",
    )
    assert (g2["sessionId"], g2["attendees"], g2["heldOn"]) == ("G2", ["SW3"], "2026-04-10")
    # A period: the windows open in it, and the sessions held in it.
    spring = api.query(TEAMS, manager, {"asOf": "2026-04-30", "since": "2026-03-01"})
    spring = spring["teamCompliance"]
    assert spring["since"] == "2026-03-01"
    assert [f["finding"]["windowStart"] for f in spring["findings"] if f["team"] == "North"] == [
        "2026-02-21",
        "2026-03-21",
        "2026-04-10",
    ]
    assert [s["sessionId"] for s in spring["sessions"]] == ["G2"]
    # The summary counts the team windows per team and period.
    rows = api.query(
        """query { complianceSummary(asOf: "2026-04-30", since: "2026-01-01") {
          byRule { key breached fellDue onTime } byTeam { key breached } } }""",
        manager,
    )["complianceSummary"]
    dev7 = next(r for r in rows["byRule"] if r["key"] == "DEV-7")
    # North 2, South 2, and Leadership (SM1's team: "every team and service") 3.
    assert breaches[("Leadership", "DEV-7")] == 3
    assert (dev7["breached"], dev7["onTime"]) == (7, 2)
    # Under their teams too: by team and by rule count the same windows.
    assert sum(r["breached"] for r in rows["byTeam"]) == sum(r["breached"] for r in rows["byRule"])
    # One team only, for its team manager; not another team's.
    tm1 = api.token("TM1", Role.TEAM_MANAGER, authority=DEVON)
    only = api.query(TEAMS, tm1, {"asOf": "2026-04-30", "team": "North"})["teamCompliance"]
    assert {f["team"] for f in only["findings"]} == {"North"}
    assert (
        api.error(TEAMS, tm1, {"asOf": "2026-04-30", "team": "South"})["extensions"]["code"]
        == "FORBIDDEN"
    )
    assert api.error(TEAMS, api.token("SW1", Role.PRACTITIONER, authority=DEVON),
                     {"asOf": "2026-04-30"})["extensions"]["code"] == "FORBIDDEN"  # fmt: skip


def test_portsmouths_programme_and_no_council_binds_another(api: Api) -> None:
    _authority(api, PORTSMOUTH, "POR")
    _authority(api, DEVON, "DEV")
    for code in (PORTSMOUTH, DEVON):
        _attend(api, code, "SW1", "T1", date(2026, 1, 12), "team_meeting")
        _attend(api, code, "SW1", "G1", date(2026, 1, 26), "group_supervision")
        _attend(api, code, "SW1", "P1", date(2026, 2, 9), "practice_development")
    api.catch_up()
    por = api.query(
        TEAMS, api.token("SM1", Role.SERVICE_MANAGER, authority=PORTSMOUTH), {"asOf": "2026-03-01"}
    )["teamCompliance"]
    assert {f["finding"]["ruleId"] for f in por["findings"]} == {"POR-3.3"}
    keys = {f["finding"]["ruleKey"] for f in por["findings"]}
    assert keys == {
        "POR-3.3/fortnightly",
        "POR-3.3/team-meeting",
        "POR-3.3/group-supervision",
        "POR-3.3/practice-development",
    }
    fortnightly = [
        f["finding"]["status"]
        for f in por["findings"]
        if f["team"] == "North" and f["finding"]["ruleKey"] == "POR-3.3/fortnightly"
    ]
    assert fortnightly[:4] == ["MET", "MET", "MET", "BREACHED"]
    dev = api.query(
        TEAMS, api.token("SM1", Role.SERVICE_MANAGER, authority=DEVON), {"asOf": "2026-03-01"}
    )["teamCompliance"]
    assert {f["finding"]["ruleId"] for f in dev["findings"]} == {"DEV-7"}
    # Another authority's sessions are never counted: Devon's North saw its own three.
    assert [s["sessionId"] for s in dev["sessions"]] == ["T1", "G1", "P1"]
    # Durham's pack has no team rule: nothing.
    durham = api.query(TEAMS, api.token("SM1", Role.SERVICE_MANAGER), {"asOf": "2026-03-01"})
    assert durham["teamCompliance"]["findings"] == []


def test_a_bad_session_kind_is_refused_typed_and_writes_nothing(api: Api) -> None:
    _authority(api, DEVON, "DEV")
    api.catch_up()
    tm1 = api.token("TM1", Role.TEAM_MANAGER, authority=DEVON)
    before = api.application.recorder.max_notification_id()
    bad = api.query(
        ATTEND, tm1, {"key": "k-bad", "staff": "SW1", "session": "G9", "kind": "supper"}
    )["attendGroupSupervision"]
    assert bad["__typename"] == "ValidationProblem"
    assert bad["field"] == "sessionKind" and "supper" in bad["message"]
    assert api.application.recorder.max_notification_id() == before
    done = api.query(
        ATTEND, tm1, {"key": "k-ok", "staff": "SW1", "session": "T9", "kind": "team_meeting"}
    )["attendGroupSupervision"]
    assert done["__typename"] == "CommandSuccess"
    api.catch_up()
    result = api.query(
        TEAMS,
        api.token("SM1", Role.SERVICE_MANAGER, authority=DEVON),
        {"asOf": date.today().isoformat()},
    )["teamCompliance"]
    [session] = result["sessions"]
    assert (session["kind"], session["evidence"]) == ("TEAM_MEETING", str(done["position"]))
