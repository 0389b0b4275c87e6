"""The purge schedule and purge runs over GraphQL (issue 6, ADR 0012), on SQLite and
PostgreSQL: who may read and run them, the typed errors, and a dry run that lists
exactly what the real run destroys."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain import commands as c
from domain.provenance import Actor
from domain.vocabulary import Role
from tests.graphql_api.conftest import AUTHORITY, Api

SCHEDULE = """query($from: Date, $to: Date, $months: Int, $first: Int!, $after: String,
                    $purged: Boolean!) {
  purgeSchedule(dueFrom: $from, dueTo: $to, months: $months, first: $first, after: $after,
                includePurged: $purged, asOf: "2026-11-01") {
    asOf csv endCursor totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    entries { subjectKind localId recordClass recordId ruleId trigger triggerDate dueOn
              heldBy events purgedOn authorisedBy status }
  }
}"""
PURGE = """mutation($asOf: Date!, $dry: Boolean!) {
  purgeDueRecords(asOf: $asOf, dryRun: $dry) {
    asOf dryRun destroyed { localId recordClass recordId ruleId dueOn status }
    refused { message rule }
  }
}"""
SENTINEL = "SENTINEL-api-7d793037a076"


def _code(error: dict[str, Any]) -> str:
    return str(error.get("extensions", {}).get("code"))


def _old_children(api: Api) -> None:
    """Two children in need only, born in the 1990s (RET-CIN: 25 years from birth), one
    under a litigation hold; and one born in 2012."""
    admin = Actor("ADMIN", Role.ADMINISTRATOR, AUTHORITY)
    dpo = Actor("DPO1", Role.DATA_PROTECTION_OFFICER, AUTHORITY)
    when = datetime(2013, 1, 2, 10, tzinfo=UTC)
    for child, born in (
        ("OLD1", date(1991, 3, 1)),
        ("OLD2", date(1992, 4, 1)),
        ("NEW1", date(2012, 1, 1)),
    ):
        api.application.execute(
            c.RegisterChild(
                command_id=f"reg-{child}", actor=admin, occurred_at=when, child_id=child,
                date_of_birth=born, case_type="cin", risk_level="low", rag=None,
                name=f"Name {SENTINEL}",
            )
        )  # fmt: skip
    api.application.execute(
        c.PlaceLegalHold(
            command_id="hold-OLD2", actor=dpo, occurred_at=when + timedelta(days=1),
            child_id="OLD2", hold_id="H-OLD2", kind="litigation", reference="Claim 1",
        )
    )  # fmt: skip
    api.catch_up()


def _variables(**overrides: Any) -> dict[str, Any]:
    return {"from": None, "to": None, "months": None, "first": 50, "after": None,
            "purged": False, **overrides}  # fmt: skip


def test_the_dpo_reads_the_schedule_and_a_dry_run_lists_what_the_run_destroys(api: Api) -> None:
    _old_children(api)
    dpo = api.token("DPO1", Role.DATA_PROTECTION_OFFICER)
    page = api.query(SCHEDULE, dpo, _variables(to="2026-11-01"))["purgeSchedule"]
    due = {e["localId"]: e for e in page["entries"]}
    assert due["OLD1"]["status"] == "DUE" and due["OLD1"]["ruleId"] == "RET-CIN"
    assert due["OLD1"]["dueOn"] == "2016-03-01" and due["OLD1"]["trigger"] == "date_of_birth"
    assert due["OLD2"]["status"] == "HELD" and "H-OLD2 (litigation)" in due["OLD2"]["heldBy"]
    assert "NEW1" not in due  # due in 2037: outside the window
    assert page["csv"].splitlines()[0].startswith("authority_code,subject_kind,local_id")
    assert len(page["csv"].splitlines()) == len(page["entries"]) + 1

    today = datetime.now(UTC).date().isoformat()
    dry = api.query(PURGE, dpo, {"asOf": today, "dry": True})["purgeDueRecords"]
    assert [(d["localId"], d["recordClass"]) for d in dry["destroyed"]] == [
        ("OLD1", "CHILD_RECORD")
    ]
    real = api.query(PURGE, dpo, {"asOf": today, "dry": False})["purgeDueRecords"]
    assert real["destroyed"] == dry["destroyed"] and real["refused"] == []
    api.catch_up()
    after = api.query(SCHEDULE, dpo, _variables(to="2026-11-01", purged=True))["purgeSchedule"]
    gone = {e["localId"]: e for e in after["entries"]}["OLD1"]
    assert gone["status"] == "PURGED" and gone["authorisedBy"] == "DPO1 (data_protection_officer)"
    # The purged child's record is no longer readable: a typed answer, not a crash.
    refused = api.error(
        """query { child(childId: "OLD1", purpose: "audit") { childId } }""",
        api.token("QA1", Role.QA_AUDITOR),
    )
    assert _code(refused) == "PURGED"


def test_paging_the_schedule_by_cursor(api: Api) -> None:
    _old_children(api)
    qa = api.token("QA1", Role.QA_AUDITOR)
    everything = api.query(SCHEDULE, qa, _variables(first=200))["purgeSchedule"]["entries"]
    first = api.query(SCHEDULE, qa, _variables(first=2))["purgeSchedule"]
    second = api.query(SCHEDULE, qa, _variables(first=200, after=first["endCursor"]))
    assert first["entries"] + second["purgeSchedule"]["entries"] == everything
    assert len(everything) > 2
    # Relay (ADR 0029): counted, and paged backwards from the second page's start.
    assert first["totalCount"] == len(everything)
    assert first["pageInfo"]["hasNextPage"] and not first["pageInfo"]["hasPreviousPage"]
    assert second["purgeSchedule"]["pageInfo"]["endCursor"] is not None
    assert second["purgeSchedule"]["endCursor"] is None  # the last page: nothing after
    back = api.query(
        """query($before: String) { purgeSchedule(asOf: "2026-11-01", last: 2,
            before: $before) { entries { recordId } pageInfo { hasPreviousPage } } }""",
        qa,
        {"before": second["purgeSchedule"]["pageInfo"]["startCursor"]},
    )["purgeSchedule"]
    assert [e["recordId"] for e in back["entries"]] == [e["recordId"] for e in first["entries"]]
    assert not back["pageInfo"]["hasPreviousPage"]
    # A cursor of the schedule asked with other filters is refused, naming after.
    other = api.error(SCHEDULE, qa, _variables(first=2, after=first["endCursor"], purged=True))
    assert _code(other) == "BAD_USER_INPUT" and other["extensions"]["field"] == "after"


def test_only_the_dpo_purges_and_only_report_readers_see_the_schedule(api: Api) -> None:
    _old_children(api)
    today = datetime.now(UTC).date().isoformat()
    for role in (Role.TEAM_MANAGER, Role.QA_AUDITOR, Role.ADMINISTRATOR):
        refused = api.error(PURGE, api.token("X1", role), {"asOf": today, "dry": True})
        assert _code(refused) == "FORBIDDEN" and refused["extensions"]["rule"] == "DP"
    refused = api.error(SCHEDULE, api.token("SW1", Role.PRACTITIONER), _variables())
    assert _code(refused) == "FORBIDDEN"
    assert api.query(SCHEDULE, api.token("SM1", Role.SERVICE_MANAGER), _variables())


def test_bad_input_names_the_field_and_destroys_nothing(api: Api) -> None:
    _old_children(api)
    dpo = api.token("DPO1", Role.DATA_PROTECTION_OFFICER)
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    error = api.error(PURGE, dpo, {"asOf": tomorrow, "dry": False})
    assert _code(error) == "BAD_USER_INPUT" and error["extensions"]["field"] == "asOf"
    error = api.error(SCHEDULE, dpo, _variables(months=0))
    assert _code(error) == "BAD_USER_INPUT" and error["extensions"]["field"] == "months"
    error = api.error(SCHEDULE, dpo, _variables(after="bm90LWEtY3Vyc29y"))
    assert _code(error) == "BAD_USER_INPUT" and error["extensions"]["field"] == "after"
    error = api.error(SCHEDULE, dpo, _variables(first=0))
    assert _code(error) == "BAD_USER_INPUT" and error["extensions"]["field"] == "first"
    page = api.query(SCHEDULE, dpo, _variables(to="2026-11-01"))["purgeSchedule"]
    assert {e["localId"]: e["status"] for e in page["entries"]}["OLD1"] == "DUE"
