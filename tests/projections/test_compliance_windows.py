"""Breached windows through the compliance projection, on both stores (ADR 0009,
addendum): a worker unsupervised for five months and a child whose monthly case
supervision stopped; findings, the summary by rule and team, the supervision sheet, the
case tracker and managers' open work all count the same missed windows."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine

from application.app import OversightApplication
from domain import commands as c
from domain.identifiers import child_id, worker_id
from domain.policy.compliance import Status, closed_without_act
from domain.policy.team_obligations import team_obligations
from oversight.settings import DatabaseSettings
from projections.compliance import (
    answer,
    case_tracker_for,
    evaluate,
    open_work,
    summary,
    supervision_sheet_for,
)
from projections.compliance.teams import team_timelines
from tests.helpers import common, register_child
from tests.projections.test_compliance import (
    LIBRARY,
    TM,
    _at,
    _authority,
    _catch_up,
    _session,
)

AS_OF = date(2026, 6, 20)
SIX_MONTHS = date(2025, 12, 21)  # the audit period: 21 December to 20 June


def _monthly(first: date, last: date) -> list[date]:
    days, day = [], first
    while day <= last:
        days.append(day)
        day = date(day.year + day.month // 12, day.month % 12 + 1, day.day)
    return days


def _story(app: OversightApplication) -> None:
    """Devon's pack: SW1 supervised on the 15th monthly to 15 January 2026, then not at
    all; C1 (child protection: case supervision monthly, DEV-5.1b) discussed on the 10th
    to 10 January 2026, then not at all."""
    _authority(app, "DEV")
    for n, day in enumerate(_monthly(date(2025, 6, 15), date(2026, 1, 15))):
        app.execute(_session("SW1", f"S{n}", day))
    register_child(app, "C1", when=_at(date(2025, 7, 1)), case_type="cp", risk_level="high")
    app.execute(
        c.AllocateWorker(
            **common(_at(date(2025, 7, 1), 11), TM),
            child_id="C1",
            worker_id="SW1",
            reason="NEW",
            team="Team A",
        )
    )
    for n, day in enumerate(_monthly(date(2025, 7, 10), date(2026, 1, 10))):
        app.execute(
            c.RecordCaseSupervision(
                **common(_at(day, 12), TM),
                child_id="C1",
                entry_id=f"CS{n}",
                worker_id="SW1",
                supervisor_id="TM1",
                session_id=None,
                current_situation="Stable",
                child_last_seen_on=day,
                childs_views="Fine",
                reflection="r",
                analysis="a",
                decision="d",
                rationale="r",
                previous_actions_reviewed="yes",
            )
        )


def _windows(
    engine: Engine, subject: str, key: str, as_of: date
) -> list[tuple[str, date, date | None]]:
    result = evaluate(engine, LIBRARY, subject, as_of=as_of)
    assert result is not None and result.source == "stored"
    return [
        (f.status.value, f.window_start, f.window_end)
        for f in result.findings
        if f.rule_key == key and f.window_start >= date(2026, 1, 1)
    ]


def test_five_months_unsupervised_are_five_breached_windows_for_the_worker_and_the_child(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    _story(app)
    _catch_up(database, app, engine)
    sw1 = str(worker_id("TEST-LA", "SW1"))
    c1 = str(child_id("TEST-LA", "C1"))
    assert _windows(engine, sw1, "DEV-4.1a/monthly", AS_OF) == [
        ("breached", date(2026, 1, 15), date(2026, 2, 15)),
        ("breached", date(2026, 2, 16), date(2026, 3, 15)),
        ("breached", date(2026, 3, 16), date(2026, 4, 15)),
        ("breached", date(2026, 4, 16), date(2026, 5, 15)),
        ("breached", date(2026, 5, 16), date(2026, 6, 15)),
        ("met", date(2026, 6, 16), date(2026, 7, 15)),  # open, not yet due: none overdue
    ]
    assert _windows(engine, c1, "DEV-5.1b/cp", AS_OF) == [
        ("breached", date(2026, 1, 10), date(2026, 2, 10)),
        ("breached", date(2026, 2, 11), date(2026, 3, 10)),
        ("breached", date(2026, 3, 11), date(2026, 4, 10)),
        ("breached", date(2026, 4, 11), date(2026, 5, 10)),
        ("breached", date(2026, 5, 11), date(2026, 6, 10)),
        ("met", date(2026, 6, 11), date(2026, 7, 10)),
    ]
    # On the fifth window's due day it is still open (due soon), not yet breached.
    on_due = _windows(engine, sw1, "DEV-4.1a/monthly", date(2026, 6, 15))
    assert [s for s, _, _ in on_due] == ["breached"] * 4 + ["due_soon"]
    # OVERDUE stays for a window open past its due day: the allocation's oversight
    # record (DEV-6, a deadline: one window) was never written.
    child = evaluate(engine, LIBRARY, c1, as_of=AS_OF)
    assert child is not None
    assert any(f.rule_id == "DEV-6" and f.status is Status.OVERDUE for f in child.findings)
    assert not any(
        f.status is Status.OVERDUE for f in child.findings if f.rule_key == "DEV-5.1b/cp"
    )
    # Managers' lists: the worker is behind on supervision (one rule, however many
    # windows), the child on case supervision and the oversight record.
    work = open_work(engine, [sw1, c1], AS_OF)
    assert work[sw1].overdue >= 1 and work[c1].overdue >= 2
    # As known now, computed from the facts: the same windows as stored.
    with engine.connect() as conn:
        stored = answer(conn, LIBRARY, sw1, as_of=AS_OF)
        computed = answer(conn, LIBRARY, sw1, as_of=AS_OF, known_at=datetime.now().astimezone())
    assert stored is not None and computed is not None and computed.source == "computed"
    assert stored.obligations == computed.obligations


def test_sheets_and_the_summary_count_breached_windows_over_any_period(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    _story(app)
    _catch_up(database, app, engine)
    # The worker's sheet: five supervision windows missed in the six months.
    sheet = supervision_sheet_for(engine, LIBRARY, "TEST-LA", "SW1", as_of=AS_OF, since=SIX_MONTHS)
    assert sheet is not None and sheet.since == SIX_MONTHS
    assert sheet.breached_by_rule["DEV-4.1a"] == 5
    first = next(w for w in sheet.breached if w.rule_key == "DEV-4.1a/monthly")
    assert (first.start, first.end) == (date(2026, 1, 15), date(2026, 2, 15))
    quarter = supervision_sheet_for(
        engine, LIBRARY, "TEST-LA", "SW1", as_of=AS_OF, since=date(2026, 3, 21)
    )
    assert quarter is not None and quarter.breached_by_rule["DEV-4.1a"] == 3
    # The case tracker: the child's five missed months, by rule.
    tracker = case_tracker_for(engine, LIBRARY, "TEST-LA", "SW1", start=SIX_MONTHS, end=AS_OF)
    assert tracker is not None
    [row] = tracker.rows
    assert row.breached_by_rule["DEV-5.1b"] == 5
    assert row.breached_windows == sum(row.breached_by_rule.values())
    # The summary, by rule and by team, equals a count from each subject's windows.
    result = summary(engine, LIBRARY, "TEST-LA", as_of=AS_OF, since=SIX_MONTHS)
    assert result.by_rule()["DEV-5.1b"].breached == 5
    expected: dict[tuple[str | None, str], int] = {}
    with engine.connect() as conn:
        for subject in ("SW1", "TM1"):
            found = answer(conn, LIBRARY, str(worker_id("TEST-LA", subject)), as_of=AS_OF)
            assert found is not None
            for o in found.obligations:
                if o.due_on is not None and o.due_on >= SIX_MONTHS and closed_without_act(o, AS_OF):
                    key = (found.profile.team, o.rule_id)
                    expected[key] = expected.get(key, 0) + 1
        kid = answer(conn, LIBRARY, str(child_id("TEST-LA", "C1")), as_of=AS_OF)
        assert kid is not None
        for o in kid.obligations:
            if o.due_on is not None and o.due_on >= SIX_MONTHS and closed_without_act(o, AS_OF):
                key = (kid.profile.team, o.rule_id)
                expected[key] = expected.get(key, 0) + 1
        # Team A held no group supervision: each month is its own window [DEV-7, ADR 0024].
        dev = LIBRARY.get("DEV")
        for team in team_obligations(team_timelines(conn, "TEST-LA"), dev, AS_OF):
            o = team.obligation
            if o.due_on is not None and o.due_on >= SIX_MONTHS and closed_without_act(o, AS_OF):
                expected[(team.team, o.rule_id)] = expected.get((team.team, o.rule_id), 0) + 1
    assert expected[("Team A", "DEV-7")] == 6
    assert {k: t.breached for k, t in result.cells.items() if t.breached} == expected
    assert sum(t.breached for t in result.by_team().values()) == sum(expected.values())
    assert result.by_team()["Team A"].breached >= 10  # SW1's five and C1's five, at least
    quarter_summary = summary(engine, LIBRARY, "TEST-LA", as_of=AS_OF, since=date(2026, 3, 21))
    assert quarter_summary.by_rule()["DEV-5.1b"].breached == 3
