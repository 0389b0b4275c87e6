"""Team rules [DEV-7, POR-3.3]: a team's windows from its members' timelines (ADR 0024)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import ValidationError
from domain.events import (
    GroupSupervisionAttended,
    GroupSupervisionDiscussionRecorded,
    WorkerLeftEmployment,
    WorkerRegistered,
    WorkerTeamChanged,
)
from domain.policy.compliance import Status
from domain.policy.packs import BUILT_IN, PackError, PackLibrary, check_pack_file, parse_pack
from domain.policy.team_obligations import (
    TeamObligation,
    memberships,
    team_findings,
    team_lives,
    team_obligations,
    team_sessions,
)
from domain.policy.timeline import Fact, Timeline
from domain.team_sessions import TeamSessionKind, team_session_kind

LIBRARY = PackLibrary.load([BUILT_IN])
DEV = LIBRARY.get("DEV")
POR = LIBRARY.get("POR")


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


class Staff:
    """Each worker's facts, positions shared across them as in one log."""

    def __init__(self) -> None:
        self.facts: dict[str, list[Fact]] = {}
        self.position = 0

    def add(self, staff_id: str, event: Any, day: date, **data: Any) -> None:
        self.position += 1
        fact = Fact(self.position, event.__name__, at(day), at(day, 18), data)
        self.facts.setdefault(staff_id, []).append(fact)

    def join(self, staff_id: str, team: str, start: date) -> None:
        self.add(staff_id, WorkerRegistered, start, team=team, start_date=start.isoformat())

    def move(self, staff_id: str, team: str, day: date) -> None:
        self.add(staff_id, WorkerTeamChanged, day, team=team)

    def leave(self, staff_id: str, last_day: date) -> None:
        self.add(staff_id, WorkerLeftEmployment, last_day, last_day=last_day.isoformat())

    def attend(self, staff_id: str, session: str, day: date, kind: str | None = None) -> None:
        data = {"group_session_id": session, "facilitator_id": "TM1", "topic": "Reflection"}
        if kind is not None:  # an event stored before version 2 carries no kind
            data["session_kind"] = kind
        self.add(staff_id, GroupSupervisionAttended, day, **data)

    def timelines(self) -> dict[str, Timeline]:
        return {s: Timeline(f) for s, f in self.facts.items()}


def windows(found: list[TeamObligation], team: str, key: str) -> list[tuple[date, date | None]]:
    return [
        (t.obligation.arises_on, t.obligation.due_on)
        for t in found
        if t.team == team and t.obligation.rule_key == key
    ]


def statuses(staff: Staff, pack: Any, as_of: date, team: str, key: str) -> list[Status]:
    found = team_obligations(staff.timelines(), pack, as_of)
    return [
        f.finding.status
        for f in team_findings(found, as_of, pack)
        if f.team == team and f.finding.rule_key == key
    ]


def test_a_team_missing_months_has_one_breached_window_for_each() -> None:
    """DEV-7: group supervision in January, none in February or March, then April."""
    staff = Staff()
    staff.join("SW1", "Exeter", date(2026, 1, 1))
    staff.attend("SW1", "G1", date(2026, 1, 20))
    staff.attend("SW1", "G2", date(2026, 4, 10))
    found = team_obligations(staff.timelines(), DEV, date(2026, 5, 1))
    assert windows(found, "Exeter", "DEV-7") == [
        (date(2026, 1, 1), date(2026, 2, 1)),  # met on 20 Jan
        (date(2026, 1, 20), date(2026, 2, 20)),  # closed without one
        (date(2026, 2, 21), date(2026, 3, 20)),  # closed without one
        (date(2026, 3, 21), date(2026, 4, 20)),  # met on 10 Apr
        (date(2026, 4, 10), date(2026, 5, 10)),
    ]
    assert statuses(staff, DEV, date(2026, 5, 1), "Exeter", "DEV-7") == [
        Status.MET,
        Status.BREACHED,
        Status.BREACHED,
        Status.MET,
        Status.MET,
    ]
    [missed, *_] = [
        f.finding
        for f in team_findings(found, date(2026, 5, 1), DEV)
        if f.finding.status is Status.BREACHED
    ]
    assert "No group supervision in the window 2026-01-20 to 2026-02-20" in missed.sentence
    assert "DEV-7" in missed.sentence


def test_a_session_counts_once_per_team_however_many_attended() -> None:
    staff = Staff()
    for who in ("SW1", "SW2", "SW3"):
        staff.join(who, "Exeter", date(2026, 1, 1))
        staff.attend(who, "G1", date(2026, 1, 15))
    [session] = team_sessions(staff.timelines())
    assert (session.team, session.session_id, session.attendees) == (
        "Exeter",
        "G1",
        ("SW1", "SW2", "SW3"),
    )
    assert session.kind is TeamSessionKind.GROUP_SUPERVISION  # stored before version 2
    assert session.fact.position == 2  # the first attendance recorded is the evidence
    found = team_obligations(staff.timelines(), DEV, date(2026, 1, 31))
    assert windows(found, "Exeter", "DEV-7") == [
        (date(2026, 1, 1), date(2026, 2, 1)),
        (date(2026, 1, 15), date(2026, 2, 15)),
    ]


def test_a_session_counts_for_the_team_its_attendee_was_in_that_day() -> None:
    """A member who moves mid-window takes their sessions after the move to the new team;
    a team with nobody left has no windows after its last member leaves."""
    staff = Staff()
    staff.join("SW1", "Exeter", date(2026, 1, 1))
    staff.join("SW2", "Tiverton", date(2026, 1, 1))
    staff.move("SW1", "Tiverton", date(2026, 1, 10))
    staff.attend("SW1", "G1", date(2026, 1, 20))
    staff.leave("SW2", date(2026, 3, 31))
    staff.leave("SW1", date(2026, 3, 31))
    timelines = staff.timelines()
    assert [(m.staff_id, m.team, m.start, m.end) for m in memberships(timelines)] == [
        ("SW1", "Exeter", date(2026, 1, 1), date(2026, 1, 10)),
        ("SW1", "Tiverton", date(2026, 1, 10), date(2026, 4, 1)),
        ("SW2", "Tiverton", date(2026, 1, 1), date(2026, 4, 1)),
    ]
    assert team_lives(memberships(timelines)) == {
        "Exeter": [(date(2026, 1, 1), date(2026, 1, 10))],
        "Tiverton": [(date(2026, 1, 1), date(2026, 4, 1))],
    }
    found = team_obligations(timelines, DEV, date(2026, 12, 31))
    # Exeter existed nine days: its first month never fell due.
    assert windows(found, "Exeter", "DEV-7") == []
    assert windows(found, "Tiverton", "DEV-7") == [
        (date(2026, 1, 1), date(2026, 2, 1)),  # met by SW1's session after the move
        (date(2026, 1, 20), date(2026, 2, 20)),
        (date(2026, 2, 21), date(2026, 3, 20)),
        # the next would fall due after 31 March, when the team has nobody
    ]


def test_a_team_that_empties_and_fills_again_starts_afresh() -> None:
    staff = Staff()
    staff.join("SW1", "Exeter", date(2026, 1, 1))
    staff.leave("SW1", date(2026, 1, 31))
    staff.join("SW2", "Exeter", date(2026, 6, 1))
    found = team_obligations(staff.timelines(), DEV, date(2026, 7, 15))
    assert windows(found, "Exeter", "DEV-7") == [
        (date(2026, 6, 1), date(2026, 7, 1)),
        (date(2026, 7, 2), date(2026, 8, 1)),
    ]


def test_portsmouths_programme_counts_each_kind_in_its_own_rule() -> None:
    """POR-3.3: a team meeting, a fortnight later group supervision, two weeks later a
    practice development session, and then a fortnight with nothing."""
    staff = Staff()
    staff.join("SW1", "Hilsea", date(2026, 1, 5))
    staff.attend("SW1", "T1", date(2026, 1, 12), "team_meeting")
    staff.attend("SW1", "G1", date(2026, 1, 26), "group_supervision")
    staff.attend("SW1", "P1", date(2026, 2, 9), "practice_development")
    as_of = date(2026, 3, 31)
    found = team_obligations(staff.timelines(), POR, as_of)
    fortnightly = windows(found, "Hilsea", "POR-3.3/fortnightly")
    assert fortnightly[:4] == [
        (date(2026, 1, 5), date(2026, 1, 19)),
        (date(2026, 1, 12), date(2026, 1, 26)),
        (date(2026, 1, 26), date(2026, 2, 9)),
        (date(2026, 2, 9), date(2026, 2, 23)),  # nothing: breached
    ]
    assert statuses(staff, POR, as_of, "Hilsea", "POR-3.3/fortnightly")[:5] == [
        Status.MET,
        Status.MET,
        Status.MET,
        Status.BREACHED,
        Status.BREACHED,
    ]
    assert windows(found, "Hilsea", "POR-3.3/team-meeting")[:2] == [
        (date(2026, 1, 5), date(2026, 2, 16)),
        (date(2026, 1, 12), date(2026, 2, 23)),
    ]
    # Devon's rule does not bind Portsmouth's teams, nor Portsmouth's Devon's.
    assert {t.obligation.rule_id for t in found} == {"POR-3.3"}
    assert {t.obligation.rule_id for t in team_obligations(staff.timelines(), DEV, as_of)} == {
        "DEV-7"
    }
    # A team meeting is no group supervision (DEV-7 counts group supervision only).
    devon = team_obligations(staff.timelines(), DEV, as_of)
    assert [t.obligation.satisfied_on for t in devon][:2] == [date(2026, 1, 26), None]


def test_packs_without_team_rules_create_no_team_obligations() -> None:
    staff = Staff()
    staff.join("SW1", "Durham North", date(2026, 1, 1))
    for code in ("DUR", "SHR", "BUR", "SWRB"):
        assert team_obligations(staff.timelines(), LIBRARY.get(code), date(2026, 6, 1)) == []


@settings(max_examples=60, deadline=None)
@given(
    start=st.dates(date(2024, 1, 1), date(2026, 12, 31)),
    gaps=st.lists(st.integers(1, 80), max_size=12),
    horizon_days=st.integers(0, 500),
)
def test_windows_partition_the_teams_life(start: date, gaps: list[int], horizon_days: int) -> None:
    """Each window opens on the day the one before was met, or the day after it closed
    without a session: no day of the team's life is in no window, none in two open ones,
    and a window closed without a session is breached."""
    staff = Staff()
    staff.join("SW1", "Exeter", start)
    day = start
    for n, gap in enumerate(gaps):
        day += timedelta(days=gap)
        staff.attend("SW1", f"G{n}", day)
    horizon = start + timedelta(days=horizon_days)
    found = [t.obligation for t in team_obligations(staff.timelines(), DEV, horizon)]
    assert found[0].arises_on == start
    for before, after in pairwise(found):
        assert before.due_on is not None
        if before.satisfied_on is not None:
            assert after.arises_on == before.satisfied_on
        else:
            assert after.arises_on == before.due_on + timedelta(days=1)
    assert found[-1].arises_on <= horizon
    for o in found:
        assert o.due_on is not None and o.arises_on <= o.due_on
        if o.satisfied_on is None and o.due_on < horizon:
            [f] = team_findings([TeamObligation("Exeter", o)], horizon, DEV)
            assert f.finding.status is Status.BREACHED


# -- the pack data, checked when it loads -------------------------------------------------


def _dev_with(**team_rule: Any) -> dict[str, Any]:
    return {
        "pack": {"id": "DEVX", "name": "Devon test", "extends": "SWRB"},
        "team_rule": [team_rule],
    }


@pytest.mark.parametrize(
    ("team_rule", "field", "says"),
    [
        ({"title": "t", "sessions": ["group_supervision"], "interval": "P1M"}, "id", "id like"),
        ({"id": "X-1", "sessions": ["group_supervision"], "interval": "P1M"}, "title", "title"),
        ({"id": "X-1", "title": "t", "interval": "P1M"}, "sessions", "sessions"),
        (
            {"id": "X-1", "title": "t", "sessions": ["supper"], "interval": "P1M"},
            "sessions",
            "unknown group session kind 'supper'",
        ),
        (
            {"id": "X-1", "title": "t", "sessions": ["group_supervision"], "interval": "monthly"},
            "interval",
            "interval",
        ),
        (
            {"id": "X-1", "title": "t", "sessions": ["group_supervision"], "interval": "5WD"},
            "interval",
            "calendar period",
        ),
        (
            {
                "id": "X-1",
                "title": "t",
                "sessions": ["group_supervision"],
                "interval": "P1M",
                "kind": "deadline",
            },
            "kind",
            "recurring",
        ),
        (
            {
                "id": "X-1",
                "title": "t",
                "sessions": ["group_supervision"],
                "interval": "P1M",
                "subject": "team",
            },
            "subject",
            "unknown key",
        ),
    ],
)
def test_a_bad_team_rule_is_refused_naming_the_field(
    team_rule: dict[str, Any], field: str, says: str
) -> None:
    with pytest.raises(PackError) as refused:
        parse_pack(_dev_with(**team_rule), "devx.toml", LIBRARY.get("SWRB"))
    assert refused.value.field == field
    assert says in refused.value.message
    assert "devx.toml" in refused.value.message


def test_a_bad_team_rule_in_a_file_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "devx.toml"
    path.write_text(
        '[pack]\nid = "DEVX"\nname = "Devon test"\nextends = "SWRB"\n\n'
        '[[team_rule]]\nid = "DEVX-7"\ntitle = "Monthly"\n'
        'sessions = ["group_supervision"]\ninterval = "every month"\n',
        encoding="utf-8",
    )
    with pytest.raises(PackError) as refused:
        check_pack_file(path, LIBRARY)
    assert f"{path}:10:" in str(refused.value)
    with pytest.raises(PackError) as at_load:
        PackLibrary.load([BUILT_IN, tmp_path])
    assert "line 10 of" in at_load.value.message


def test_a_pack_inherits_its_parents_team_rules_and_may_replace_one() -> None:
    child = parse_pack(
        {
            "pack": {"id": "DEVX", "name": "Devon test", "extends": "DEV"},
            "team_rule": [
                {
                    "id": "DEV-7",
                    "title": "Fortnightly",
                    "sessions": ["group_supervision"],
                    "interval": "P2W",
                }
            ],
        },
        "devx.toml",
        DEV,
    )
    assert [(r.key, r.interval.code) for r in child.team_rules] == [("DEV-7", "P2W")]
    inherited = parse_pack(
        {"pack": {"id": "DEVY", "name": "Devon test", "extends": "DEV"}}, "devy.toml", DEV
    )
    assert inherited.team_rules == DEV.team_rules


def test_a_duplicate_team_rule_is_refused() -> None:
    rule = {"id": "X-1", "title": "t", "sessions": ["group_supervision"], "interval": "P1M"}
    with pytest.raises(PackError) as refused:
        parse_pack(
            {"pack": {"id": "DEVX", "extends": "SWRB"}, "team_rule": [rule, rule]},
            "devx.toml",
            LIBRARY.get("SWRB"),
        )
    assert "duplicate team rule X-1" in refused.value.message


def test_a_session_kind_is_one_of_the_policies() -> None:
    assert team_session_kind("team_meeting") is TeamSessionKind.TEAM_MEETING
    with pytest.raises(ValidationError) as refused:
        team_session_kind("supper")
    assert refused.value.field == "session_kind"
    assert refused.value.rule == "DEV-7"


def test_the_fold_shows_a_sessions_kind_on_the_attendees_record() -> None:
    staff = Staff()
    staff.join("SW1", "Hilsea", date(2026, 1, 5))
    staff.attend("SW1", "T1", date(2026, 1, 12), "team_meeting")
    staff.attend("SW1", "G0", date(2026, 1, 13))  # version 1: no kind stored
    entries, _ = staff.timelines()["SW1"].entries_at()
    assert entries["T1"]["session_kind"] == "team_meeting"
    assert "session_kind" not in entries["G0"]  # as stored; the upcaster gives the default


def test_group_supervision_never_replaces_one_to_one_supervision_in_devon() -> None:
    """DEV-7: "Group Supervision cannot replace 1:1 child specific supervision": no Devon
    rule but the team's counts a group session or a group discussion of a child."""
    for rule in DEV.rules:
        assert GroupSupervisionAttended not in rule.event_kinds, rule.key
        assert GroupSupervisionDiscussionRecorded not in rule.event_kinds, rule.key
