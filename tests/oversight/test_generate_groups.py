"""The generator's group sessions [DEV-7, POR-3.3] (ADR 0024): from the pack's team rules,
deterministic, one session recorded by each member present, and some teams missing
some months."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from itertools import pairwise

from domain import commands as c
from oversight.generate import DEMO_AUTHORITIES

UNTIL = date(2026, 10, 31)


def _attendances(code: str) -> list[c.AttendGroupSupervision]:
    [demo] = [d for d in DEMO_AUTHORITIES if d.code == code]
    return [
        x for x in demo.generator(7, UNTIL).commands() if isinstance(x, c.AttendGroupSupervision)
    ]


def test_devon_teams_hold_monthly_group_supervision_and_some_months_go_without() -> None:
    found = _attendances("DEMO-DEV")
    assert found and {x.session_kind for x in found} == {"group_supervision"}
    assert found == _attendances("DEMO-DEV")  # deterministic
    sessions: dict[str, set[str]] = defaultdict(set)
    months: dict[str, set[tuple[int, int]]] = defaultdict(set)
    for x in found:
        team = x.group_session_id.split("-")[1]
        sessions[x.group_session_id].add(x.staff_id)
        months[team].add((x.occurred_at.year, x.occurred_at.month))
        # Each member present records their own attendance; the manager facilitates.
        assert x.actor.id == x.staff_id
    assert any(len(staff) > 1 for staff in sessions.values())  # one session, many records
    assert all(len(staff) == len(set(staff)) for staff in sessions.values())
    span = (UNTIL.year - 2024) * 12 + UNTIL.month - 10  # about two years of months
    assert any(len(held) < span for held in months.values())  # some teams miss months
    assert all(len(held) > span // 2 for held in months.values())  # but not most


def test_portsmouths_teams_run_the_fortnightly_programme_in_turn() -> None:
    found = _attendances("DEMO-POR")
    kinds = Counter(x.session_kind for x in found)
    assert set(kinds) == {"team_meeting", "group_supervision", "practice_development"}
    by_team: dict[str, list[tuple[date, str]]] = defaultdict(list)
    for x in sorted({(x.group_session_id, x.occurred_at, x.session_kind) for x in found}):
        by_team[x[0].split("-")[1]].append((x[1].date(), x[2]))
    for held in by_team.values():
        held.sort()
        gaps = [(b[0] - a[0]).days for a, b in pairwise(held)]
        assert min(gaps) >= 12  # a fortnightly programme, never two in a week


def test_packs_without_team_rules_generate_no_group_sessions() -> None:
    for code in ("DEMO", "DEMO-SHR", "DEMO-BUR"):
        assert _attendances(code) == [], code
