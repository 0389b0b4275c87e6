"""Windows the way auditors count them (ADR 0009, addendum): every window that closed
without the act is its own BREACHED finding, the next window opens at once, and OVERDUE
is left for a window still open past its due day (a deadline's only window)."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.events import (
    CaseSupervisionRecorded,
    ChildRegistered,
    PersonalSupervisionRecordWritten,
    SupervisionSessionHeld,
)
from domain.policy.compliance import (
    Obligation,
    Status,
    breached_windows,
    closed_without_act,
    closes,
    finding,
    findings,
    known_facts,
    obligations,
)
from tests.domain.policy.test_compliance import ENGLAND, LIBRARY, Facts, worker

DEV = LIBRARY.get("DEV")
DUR = LIBRARY.get("DUR")


def _rule(found: list[Obligation], key: str) -> list[Obligation]:
    return sorted((o for o in found if o.rule_key == key), key=lambda o: o.arises_on)


def _unsupervised_worker() -> Facts:
    """Supervised monthly from June 2025 to 15 January 2026, then not at all."""
    facts = worker(date(2025, 6, 2))
    day = date(2025, 6, 15)
    for n in range(8):
        facts.add(SupervisionSessionHeld, day, session_id=f"S{n}", duration_minutes=90)
        day = date(day.year + day.month // 12, day.month % 12 + 1, 15)
    return facts


def _statuses(facts: Facts, pack_id: str, key: str, as_of: date) -> list[tuple[Status, date]]:
    pack = LIBRARY.get(pack_id)
    found = _rule(obligations(known_facts(facts.items), pack, ENGLAND, date(2027, 1, 1)), key)
    return [
        (f.status, f.window_start)
        for f in findings(found, as_of, pack.due_soon)
        if f.window_start >= date(2026, 1, 1)
    ]


def test_a_worker_unsupervised_for_five_months_has_five_breached_windows() -> None:
    facts = _unsupervised_worker()
    found = _statuses(facts, "DEV", "DEV-4.1a/monthly", date(2026, 6, 20))
    # From the last session, then from the day after each missed window's due day.
    missed = [date(2026, 1, 15), *(date(2026, m, 16) for m in range(2, 6))]
    assert found == [
        *[(Status.BREACHED, day) for day in missed],
        (Status.MET, date(2026, 6, 16)),  # the current window, open and not yet due
    ]
    # Each breached window has its own dates and sentence, citing the rule.
    pack_found = obligations(known_facts(facts.items), DEV, ENGLAND, date(2027, 1, 1))
    may = next(o for o in _rule(pack_found, "DEV-4.1a/monthly") if o.arises_on == missed[-1])
    result = finding(may, date(2026, 6, 20), DEV.due_soon)
    assert (result.rule_id, result.window_start, result.window_end) == (
        "DEV-4.1a",
        date(2026, 5, 16),
        date(2026, 6, 15),
    )
    assert result.sentence == (
        "No formal supervision in the window 2026-05-16 to 2026-06-15 (151 days since "
        "2026-01-15 at its end); DEV-4.1a allows at most 1 month."
    )
    # No window of an interval rule is OVERDUE: the current one is not yet due.
    assert Status.OVERDUE not in {s for s, _ in found}


def test_the_fifth_window_is_open_on_its_due_day_and_breached_the_day_after() -> None:
    facts = _unsupervised_worker()
    on_due = _statuses(facts, "DEV", "DEV-4.1a/monthly", date(2026, 6, 15))
    assert [s for s, _ in on_due] == [Status.BREACHED] * 4 + [Status.DUE_SOON]
    after = _statuses(facts, "DEV", "DEV-4.1a/monthly", date(2026, 6, 16))
    assert [s for s, _ in after] == [Status.BREACHED] * 5 + [Status.MET]


def test_supervision_after_the_gap_meets_the_window_it_falls_in_and_restarts_it() -> None:
    facts = _unsupervised_worker()
    facts.add(SupervisionSessionHeld, date(2026, 4, 20), session_id="LATE", duration_minutes=90)
    found = _statuses(facts, "DEV", "DEV-4.1a/monthly", date(2026, 6, 25))
    assert found == [
        (Status.BREACHED, date(2026, 1, 15)),
        (Status.BREACHED, date(2026, 2, 16)),
        (Status.BREACHED, date(2026, 3, 16)),
        (Status.MET, date(2026, 4, 16)),  # met on 20 April, in its window
        (Status.BREACHED, date(2026, 4, 20)),  # a month from that session: missed again
        (Status.BREACHED, date(2026, 5, 21)),
        (Status.MET, date(2026, 6, 21)),  # open, due 20 July
    ]


def test_a_childs_monthly_case_supervision_counts_each_missed_month() -> None:
    facts = Facts()
    facts.add(ChildRegistered, date(2025, 7, 1), case_type="cp", risk_level="high")
    for n, month in enumerate((7, 8, 9, 10, 11, 12)):
        facts.add(CaseSupervisionRecorded, date(2025, month, 10), entry_id=f"E{n}", actions=[])
    facts.add(CaseSupervisionRecorded, date(2026, 1, 10), entry_id="E9", actions=[])
    found = _statuses(facts, "DEV", "DEV-5.1b/cp", date(2026, 6, 20))
    assert found == [
        (Status.BREACHED, date(2026, 1, 10)),
        *[(Status.BREACHED, date(2026, m, 11)) for m in range(2, 6)],
        (Status.MET, date(2026, 6, 11)),
    ]
    counted = _rule(
        obligations(known_facts(facts.items), DEV, ENGLAND, date(2027, 1, 1)), "DEV-5.1b/cp"
    )
    # An audit of the six months to 20 June: five missed months, by their windows.
    assert len(breached_windows(counted, date(2025, 12, 21), date(2026, 6, 20))) == 5
    # Three of them closed in the quarter to 20 June.
    assert len(breached_windows(counted, date(2026, 3, 21), date(2026, 6, 20))) == 3


def test_a_deadline_has_one_window_overdue_until_done_then_breached() -> None:
    """DUR-4.7a: the personal record shared within 10 working days of the session."""
    facts = worker(date(2025, 6, 2))
    facts.add(SupervisionSessionHeld, date(2026, 3, 2), session_id="S1", duration_minutes=90)
    [window] = _rule(
        obligations(known_facts(facts.items), DUR, ENGLAND, date(2027, 1, 1)), "DUR-4.7a/shared"
    )
    assert not closes(window.kind)
    assert finding(window, date(2026, 3, 16), DUR.due_soon).status is Status.DUE_SOON
    assert finding(window, date(2026, 6, 20), DUR.due_soon).status is Status.OVERDUE
    assert not closed_without_act(window, date(2026, 6, 20))
    facts.add(PersonalSupervisionRecordWritten, date(2026, 7, 1), session_id="S1", record_id="R1")
    [done] = _rule(
        obligations(known_facts(facts.items), DUR, ENGLAND, date(2027, 1, 1)), "DUR-4.7a/shared"
    )
    assert finding(done, date(2026, 7, 2), DUR.due_soon).status is Status.BREACHED


def test_an_annual_minimum_year_closes_breached_and_the_next_year_follows() -> None:
    facts = worker(date(2025, 1, 1))
    facts.add(SupervisionSessionHeld, date(2025, 3, 1), session_id="S1", duration_minutes=90)
    years = _rule(
        obligations(known_facts(facts.items), DUR, ENGLAND, date(2027, 6, 1)),
        "DUR-4.2/annual-minimum",
    )
    assert [(o.arises_on, o.due_on) for o in years][:2] == [
        (date(2025, 1, 1), date(2025, 12, 31)),
        (date(2026, 1, 1), date(2026, 12, 31)),
    ]
    assert [finding(o, date(2027, 1, 5), DUR.due_soon).status for o in years[:2]] == [
        Status.BREACHED,
        Status.BREACHED,
    ]


# -- the property: windows partition the period, and the breaches can be counted by hand ----

START = date(2025, 1, 6)
EVERY = 56  # DUR-4.6a: every child discussed at least every 8 weeks (P8W)


def _child_discussed_on(days: list[date]) -> Facts:
    facts = Facts()
    facts.add(ChildRegistered, START, case_type="cin", risk_level="low")
    for n, day in enumerate(days):
        facts.add(CaseSupervisionRecorded, day, entry_id=f"E{n}", actions=[])
    return facts


def _breaches_by_hand(days: list[date], as_of: date) -> int:
    """From the start and each later day discussed (to ``as_of``): every full 8 weeks
    that passed before the next discussion (or ``as_of``) is a window missed."""
    anchors = sorted({START, *(d for d in days if d <= as_of)})
    ends = [*anchors[1:], as_of]
    return sum(
        max(0, ((end - anchor).days - 1) // EVERY)
        for anchor, end in zip(anchors, ends, strict=True)
    )


@settings(max_examples=150, deadline=None)
@given(
    offsets=st.lists(st.integers(min_value=0, max_value=700), max_size=12),
    asked=st.integers(min_value=0, max_value=760),
)
def test_windows_partition_the_period_and_breaches_match_a_count_by_hand(
    offsets: list[int], asked: int
) -> None:
    days = [START + timedelta(days=n) for n in offsets]
    as_of = START + timedelta(days=asked)
    found = obligations(
        known_facts(_child_discussed_on(days).items), DUR, ENGLAND, as_of + timedelta(days=400)
    )
    windows = [o for o in _rule(found, "DUR-4.6a/every-child") if o.arises_on <= as_of]
    # No gap, no overlap: each window opens where the one before closed (on the day of
    # its act, or the day after its due day if it was missed), from the day the rule
    # applied.
    assert windows[0].arises_on == START
    for before, after in pairwise(windows):
        met = before.satisfied_on is not None and before.satisfied_on <= as_of
        assert before.due_on is not None
        closed_on = before.satisfied_on if met else before.due_on + timedelta(days=1)
        assert after.arises_on == closed_on
        # Only a window met on the day it opened (the rule's first day) is empty.
        assert after.arises_on > before.arises_on or before.satisfied_on == before.arises_on
    # Each window is exactly one of met, breached, or open (overdue or not yet due).
    open_ones = 0
    for window in windows:
        assert window.due_on is not None
        status = finding(window, as_of, DUR.due_soon).status
        met = window.satisfied_on is not None and window.satisfied_on <= as_of
        breached = closed_without_act(window, as_of)
        is_open = not met and not breached
        assert met + breached + is_open == 1
        if met:
            assert status is Status.MET and window.satisfied_on <= window.due_on
        elif breached:
            assert status is Status.BREACHED
        else:
            open_ones += 1
            assert status in (Status.MET, Status.DUE_SOON, Status.OVERDUE)
            assert window.arises_on <= as_of <= window.due_on  # it covers the day asked
    assert open_ones == 1 and windows[-1].arises_on <= as_of
    assert sum(closed_without_act(w, as_of) for w in windows) == _breaches_by_hand(days, as_of)
    assert len(breached_windows(windows, START, as_of)) == _breaches_by_hand(days, as_of)
