"""Compliance rules at their boundaries: the day before, of and after each deadline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.events import (
    AbsenceEnded,
    AbsenceStarted,
    CaseSupervisionRecorded,
    ChildRegistered,
    EntryCorrected,
    EntrySignaturesVoided,
    EventType,
    PersonalSupervisionRecordSigned,
    PersonalSupervisionRecordWritten,
    SupervisionAgreementSigned,
    SupervisionSessionHeld,
    WorkerRegistered,
)
from domain.policy.calendar import WorkingCalendar
from domain.policy.compliance import Status, finding, known_facts, obligations
from domain.policy.packs import BUILT_IN, PackLibrary
from domain.policy.timeline import Fact, local_day

LIBRARY = PackLibrary.load([BUILT_IN])
ENGLAND = WorkingCalendar()


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


class Facts:
    def __init__(self) -> None:
        self.items: list[Fact] = []

    def add(self, event: EventType, day: date, recorded: date | None = None, **data) -> Fact:
        fact = Fact(len(self.items) + 1, event.__name__, at(day), at(recorded or day, 18), data)
        self.items.append(fact)
        return fact


def worker(start: date, **extra) -> Facts:
    facts = Facts()
    facts.add(
        WorkerRegistered,
        start,
        role="social_worker",
        case_holding=True,
        employment_pattern="full_time",
        engagement="permanent",
        start_date=start.isoformat(),
        nqsw_asye_start=extra.get("asye"),
    )
    return facts


def by_rule(facts: Facts, pack: str, key: str, horizon: date):
    found = obligations(known_facts(facts.items), LIBRARY.get(pack), ENGLAND, horizon)
    return [o for o in found if o.rule_key == key]


def window(facts: Facts, pack: str, key: str, horizon: date, opens: date):
    """The rule's window that opened on ``opens``."""
    [found] = [o for o in by_rule(facts, pack, key, horizon) if o.arises_on == opens]
    return found


@pytest.mark.parametrize(
    ("held", "expected"),
    [
        (date(2026, 3, 14), Status.MET),  # the day before two months
        (date(2026, 3, 15), Status.MET),  # the day of: two calendar months
        (date(2026, 3, 16), Status.BREACHED),  # the day after
    ],
)
def test_por_3_1b_never_more_than_two_months(held, expected):
    facts = worker(date(2025, 1, 1))
    facts.add(SupervisionSessionHeld, date(2026, 1, 15), session_id="S1", duration_minutes=90)
    facts.add(SupervisionSessionHeld, held, session_id="S2", duration_minutes=90)
    gap = window(facts, "POR", "POR-3.1b", date(2026, 6, 1), date(2026, 1, 15))
    assert gap.due_on == date(2026, 3, 15)
    result = finding(gap, date(2026, 6, 1), LIBRARY.get("POR").due_soon)
    assert result.status is expected
    assert "POR-3.1b" in result.sentence and "2 months" in result.sentence


def test_por_3_1b_open_gap_is_due_soon_then_breached_and_the_next_window_opens():
    facts = worker(date(2025, 1, 1))
    facts.add(SupervisionSessionHeld, date(2026, 1, 15), session_id="S1", duration_minutes=90)
    gap = window(facts, "POR", "POR-3.1b", date(2026, 6, 1), date(2026, 1, 15))
    due_soon = LIBRARY.get("POR").due_soon
    assert finding(gap, date(2026, 3, 1), due_soon).status is Status.MET
    assert finding(gap, date(2026, 3, 10), due_soon).status is Status.DUE_SOON
    assert finding(gap, date(2026, 3, 15), due_soon).status is Status.DUE_SOON
    late = finding(gap, date(2026, 3, 23), due_soon)
    assert late.status is Status.BREACHED
    assert (late.window_start, late.window_end) == (date(2026, 1, 15), date(2026, 3, 15))
    assert late.sentence == (
        "No formal supervision in the window 2026-01-15 to 2026-03-15 (59 days since "
        "2026-01-15 at its end); POR-3.1b allows at most 2 months."
    )
    # The next window opened at once, the day after the missed one closed.
    after = window(facts, "POR", "POR-3.1b", date(2026, 6, 1), date(2026, 3, 16))
    now = finding(after, date(2026, 3, 23), due_soon)
    assert (now.status, now.due_on) == (Status.MET, date(2026, 5, 15))
    assert now.sentence == (
        "Next formal supervision due by 2026-05-15 (none since 2026-01-15); "
        "POR-3.1b allows at most 2 months."
    )


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (date(2027, 1, 11), Status.MET),  # 9th working day
        (date(2027, 1, 12), Status.MET),  # 10th working day after 24 Dec, across Christmas
        (date(2027, 1, 13), Status.BREACHED),
    ],
)
def test_dur_4_7a_record_shared_within_ten_working_days_over_christmas(written, expected):
    facts = worker(date(2025, 1, 1))
    facts.add(SupervisionSessionHeld, date(2026, 12, 24), session_id="S1", duration_minutes=90)
    facts.add(PersonalSupervisionRecordWritten, written, session_id="S1", record_id="R1")
    shared = by_rule(facts, "DUR", "DUR-4.7a/shared", date(2027, 2, 1))
    assert [o.due_on for o in shared] == [date(2027, 1, 12)]
    assert finding(shared[0], date(2027, 2, 1), LIBRARY.get("DUR").due_soon).status is expected


@pytest.mark.parametrize(
    ("session", "expected"),
    [
        (date(2026, 4, 10), Status.MET),
        (date(2026, 4, 13), Status.MET),
        (date(2026, 4, 14), Status.BREACHED),
    ],
)
def test_dur_4_4_session_within_five_working_days_of_return_over_easter(session, expected):
    facts = worker(date(2025, 1, 1))
    facts.add(
        AbsenceStarted,
        date(2026, 3, 2),
        absence_id="A1",
        kind="sickness",
        started_on="2026-03-02",
    )
    facts.add(AbsenceEnded, date(2026, 4, 2), absence_id="A1", returned_on="2026-04-02")
    facts.add(SupervisionSessionHeld, session, session_id="S1", duration_minutes=90)
    [after] = by_rule(facts, "DUR", "DUR-4.4", date(2026, 5, 1))
    assert after.due_on == date(2026, 4, 13)
    assert finding(after, date(2026, 5, 1), LIBRARY.get("DUR").due_soon).status is expected


def test_dur_4_2_annual_minimum_by_working_pattern():
    facts = worker(date(2025, 1, 1))
    for month in range(1, 9):  # eight sessions: one short of the full-time minimum
        facts.add(
            SupervisionSessionHeld,
            date(2025, month, 10),
            session_id=f"S{month}",
            duration_minutes=90,
        )
    year, next_year = by_rule(facts, "DUR", "DUR-4.2/annual-minimum", date(2026, 1, 5))
    assert next_year.arises_on == date(2026, 1, 1)
    assert (year.arises_on, year.due_on) == (date(2025, 1, 1), date(2025, 12, 31))
    result = finding(year, date(2026, 1, 5), LIBRARY.get("DUR").due_soon)
    assert result.status is Status.BREACHED  # the year closed short of its count
    assert result.sentence.startswith("8 of 9 formal supervision sessions")


def test_dev_5_3_case_record_counts_from_when_it_was_recorded():
    facts = Facts()
    facts.add(ChildRegistered, date(2026, 1, 5), case_type="cp", risk_level="high")
    day = date(2026, 2, 2)  # a Monday: three working days -> Thursday 5 February
    facts.add(CaseSupervisionRecorded, day, recorded=date(2026, 2, 5), entry_id="E1", actions=[])
    facts.add(
        CaseSupervisionRecorded,
        day + timedelta(days=7),
        recorded=date(2026, 2, 13),
        entry_id="E2",
        actions=[],
    )
    on_time, late = by_rule(facts, "DEV", "DEV-5.3", date(2026, 3, 1))
    due_soon = LIBRARY.get("DEV").due_soon
    assert finding(on_time, date(2026, 3, 1), due_soon).status is Status.MET
    assert finding(late, date(2026, 3, 1), due_soon).status is Status.BREACHED
    assert "4 working days" in finding(late, date(2026, 3, 1), due_soon).sentence


def test_known_at_sees_the_original_before_a_correction_was_recorded():
    facts = worker(date(2025, 1, 1))
    facts.add(SupervisionSessionHeld, date(2026, 1, 15), session_id="S1", duration_minutes=90)
    facts.add(SupervisionSessionHeld, date(2026, 3, 20), session_id="S2", duration_minutes=90)
    # Recorded on 1 April: the second session was really held on 10 March.
    facts.add(
        EntryCorrected,
        date(2026, 4, 1),
        entry_id="S2",
        changes={"held_on": "2026-03-10T10:00:00+00:00"},
    )
    pack = LIBRARY.get("POR")
    before = obligations(
        known_facts(facts.items, at(date(2026, 3, 31))), pack, ENGLAND, date(2026, 6, 1)
    )
    after = obligations(known_facts(facts.items), pack, ENGLAND, date(2026, 6, 1))

    def gap(found):
        return next(
            o for o in found if o.rule_key == "POR-3.1b" and o.arises_on == date(2026, 1, 15)
        )

    assert gap(before).satisfied_on is None  # held on 20 March, after the window closed
    assert finding(gap(before), date(2026, 6, 1), pack.due_soon).status is Status.BREACHED
    assert gap(after).satisfied_on == date(2026, 3, 10)
    assert finding(gap(after), date(2026, 6, 1), pack.due_soon).status is Status.MET


def test_dur_4_6a_unborn_and_under_one_monthly_then_eight_weekly():
    facts = Facts()
    facts.add(
        ChildRegistered,
        date(2026, 1, 5),
        case_type="cin",
        risk_level="low",
        expected_date_of_birth="2026-03-01",
    )
    monthly = by_rule(facts, "DUR", "DUR-4.6a/under-one", date(2027, 6, 1))
    assert monthly and monthly[0].due_on == date(2026, 2, 5)
    # The rule stops at the first birthday: nothing under it falls due after 1 March 2027.
    assert all(o.due_on is None or o.due_on < date(2027, 3, 1) for o in monthly)


# -- a supervisor's absence [POR-3.1e, DUR-4.5, SHR-3.6b] -----------------------------------


def _absent_supervisor(start: date, returned: date | None) -> Facts:
    """TM1's own facts: an unplanned absence from ``start``."""
    facts = Facts()
    facts.add(AbsenceStarted, start, absence_id="TM1-A", kind="sickness", started_on=start)
    if returned is not None:
        facts.add(AbsenceEnded, returned, absence_id="TM1-A", returned_on=returned)
    return facts


def _supervised_by_tm1(start: date) -> Facts:
    facts = worker(start)
    facts.items[0] = Fact(
        1,
        WorkerRegistered.__name__,
        facts.items[0].occurred_at,
        facts.items[0].recorded_at,
        {**facts.items[0].data, "line_manager_id": "TM1"},
    )
    facts.add(SupervisionAgreementSigned, start, supervisor_id="TM1", frequency="P1M")
    return facts


def _absence_obligations(facts: Facts, supervisor: Facts, pack: str, key: str):
    found = obligations(
        known_facts(facts.items),
        LIBRARY.get(pack),
        ENGLAND,
        date(2027, 1, 1),
        {"TM1": known_facts(supervisor.items)},
    )
    return [o for o in found if o.rule_key == key]


@pytest.mark.parametrize(
    ("held", "expected"),
    [
        (date(2026, 4, 28), Status.MET),  # the day before: absence start + 4 weeks + 4 weeks
        (date(2026, 4, 29), Status.MET),  # the day of
        (date(2026, 4, 30), Status.BREACHED),  # the day after
    ],
)
def test_por_3_1e_alternative_supervision_when_the_supervisor_is_away(held, expected):
    facts = _supervised_by_tm1(date(2025, 6, 1))
    facts.add(SupervisionSessionHeld, held, session_id="S1", supervisor_id="TM2")
    away = _absent_supervisor(date(2026, 3, 4), None)  # unplanned, still away
    [found] = _absence_obligations(facts, away, "POR", "POR-3.1e")
    assert found.arises_on == date(2026, 4, 1)  # more than four weeks away
    assert found.due_on == date(2026, 4, 29)
    assert finding(found, date(2026, 6, 1), LIBRARY.get("POR").due_soon).status is expected
    assert "POR-3.1e" in finding(found, date(2026, 6, 1), LIBRARY.get("POR").due_soon).sentence


def test_por_3_1e_applies_only_past_four_weeks_and_only_to_the_supervisor():
    facts = _supervised_by_tm1(date(2025, 6, 1))
    back_in_time = _absent_supervisor(date(2026, 3, 4), date(2026, 4, 1))  # exactly 4 weeks
    assert _absence_obligations(facts, back_in_time, "POR", "POR-3.1e") == []
    a_day_longer = _absent_supervisor(date(2026, 3, 4), date(2026, 4, 2))
    [found] = _absence_obligations(facts, a_day_longer, "POR", "POR-3.1e")
    # Back before the deadline with nobody else arranged: the supervisor's return ends it.
    assert found.satisfied_on == date(2026, 4, 2)
    assert finding(found, date(2026, 6, 1), LIBRARY.get("POR").due_soon).status is Status.MET
    # A session with the absent supervisor themself is not an alternative.
    facts.add(SupervisionSessionHeld, date(2026, 4, 10), session_id="S1", supervisor_id="TM1")
    away = _absent_supervisor(date(2026, 3, 4), None)
    [found] = _absence_obligations(facts, away, "POR", "POR-3.1e")
    assert found.satisfied_on is None
    assert finding(found, date(2026, 4, 30), LIBRARY.get("POR").due_soon).status is (Status.OVERDUE)
    # Someone who is not their supervisor being away creates nothing.
    facts.items[1] = Fact(
        2,
        SupervisionAgreementSigned.__name__,
        facts.items[1].occurred_at,
        facts.items[1].recorded_at,
        {"supervisor_id": "TM9", "frequency": "P1M"},
    )
    assert _absence_obligations(facts, away, "POR", "POR-3.1e") == []


@pytest.mark.parametrize(
    ("pack", "key", "arises", "due"),
    [
        ("SHR", "SHR-3.6b", date(2026, 4, 4), date(2026, 5, 4)),  # a month, then a month
        ("DUR", "DUR-4.5", date(2026, 4, 1), date(2026, 4, 29)),  # four weeks, then four
    ],
)
def test_each_pack_sets_its_own_absence_threshold(pack, key, arises, due):
    facts = _supervised_by_tm1(date(2025, 6, 1))
    [found] = _absence_obligations(facts, _absent_supervisor(date(2026, 3, 4), None), pack, key)
    assert (found.arises_on, found.due_on) == (arises, due)


@given(
    moment=st.datetimes(
        min_value=datetime(1900, 1, 1),
        max_value=datetime(2100, 12, 31, 23, 59, 59),
        timezones=st.just(UTC),
    )
)
def test_the_local_day_worked_out_per_hour_is_englands_day_at_every_moment(
    moment: datetime,
) -> None:
    """``local_day`` works the day out once per UTC hour; the zone database agrees at
    every moment since 1900 (double summer time, British Standard Time, and each
    year's changes included)."""
    assert local_day(moment) == moment.astimezone(ZoneInfo("Europe/London")).date()


def test_the_local_day_at_each_change_of_clocks_in_a_year() -> None:
    # 2026: BST from 01:00 UTC on 29 March to 01:00 UTC on 25 October.
    assert local_day(datetime(2026, 3, 29, 0, 59, tzinfo=UTC)) == date(2026, 3, 29)
    assert local_day(datetime(2026, 5, 1, 23, 30, tzinfo=UTC)) == date(2026, 5, 2)
    assert local_day(datetime(2026, 10, 25, 0, 30, tzinfo=UTC)) == date(2026, 10, 25)
    assert local_day(datetime(2026, 10, 24, 23, 30, tzinfo=UTC)) == date(2026, 10, 25)
    assert local_day(datetime(2026, 10, 25, 23, 30, tzinfo=UTC)) == date(2026, 10, 25)


def test_dur_4_7a_a_correction_voids_the_signatures_the_record_needs_again():
    """A record signed by both, then corrected: its signatures are voided (ADR 0020), so
    DUR-4.7a's "signed record filed" is met only once both have signed it again."""
    facts = worker(date(2025, 1, 1))
    facts.add(SupervisionSessionHeld, date(2026, 3, 2), session_id="S1", duration_minutes=90)
    facts.add(PersonalSupervisionRecordWritten, date(2026, 3, 3), record_id="R1",
              session_id="S1")  # fmt: skip
    facts.add(PersonalSupervisionRecordSigned, date(2026, 3, 4), record_id="R1",
              signatory="supervisor")  # fmt: skip
    facts.add(PersonalSupervisionRecordSigned, date(2026, 3, 5), record_id="R1",
              signatory="supervisee")  # fmt: skip
    horizon = date(2026, 6, 1)

    def signed() -> Status:
        [filed] = by_rule(facts, "DUR", "DUR-4.7a/signed", horizon)
        return finding(filed, horizon, LIBRARY.get("DUR").due_soon).status

    assert signed() is Status.MET
    facts.add(EntryCorrected, date(2026, 3, 6), entry_id="R1",
              changes={"workload": "High"}, reason="miscounted")  # fmt: skip
    facts.add(EntrySignaturesVoided, date(2026, 3, 6), entry_id="R1",
              voided=["supervisor", "supervisee"])  # fmt: skip
    assert signed() is not Status.MET
    facts.add(PersonalSupervisionRecordSigned, date(2026, 3, 9), record_id="R1",
              signatory="supervisor")  # fmt: skip
    facts.add(PersonalSupervisionRecordSigned, date(2026, 3, 10), record_id="R1",
              signatory="supervisee")  # fmt: skip
    assert signed() is Status.MET
