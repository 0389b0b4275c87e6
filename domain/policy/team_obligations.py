"""A team's obligations under its authority's team rules [DEV-7, POR-3.3] (ADR 0024).

A team is not an aggregate: it is known from its members' timelines (the one fold,
``domain.policy.timeline``). Each worker's team by day gives the team's membership over
time; the team's *life* is the days it has at least one member. A group session is known
from its attendees' ``GroupSupervisionAttended`` facts: it counts for the team each
attendee was in on its day, once per team however many attended (deduplicated by
``group_session_id``). Each team rule is then the recurring rule of
``domain.policy.compliance`` over the team's life: one window per interval, each closed
without a session its own BREACHED finding, the next opening at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

from domain.events import GroupSupervisionAttended
from domain.policy.compliance import Finding, Obligation, _recurring, finding
from domain.policy.packs import Pack, Rule
from domain.policy.teams import TeamRule
from domain.policy.timeline import Fact, Life, Timeline
from domain.team_sessions import TeamSessionKind


@dataclass(frozen=True)
class Membership:
    """A worker in a team from ``start`` to ``end`` (exclusive; None: still)."""

    staff_id: str
    team: str
    start: date
    end: date | None


@dataclass(frozen=True)
class TeamSession:
    """One group session of a team, however many of its members attended."""

    team: str
    session_id: str
    kind: TeamSessionKind
    day: date
    facilitator_id: str
    attendees: tuple[str, ...]
    #: The first attendance recorded: its day is the session's, its log position the
    #: evidence.
    fact: Fact


@dataclass(frozen=True)
class TeamObligation:
    team: str
    obligation: Obligation


@dataclass(frozen=True)
class TeamFinding:
    team: str
    finding: Finding
    satisfied_on: date | None


def memberships(timelines: Mapping[str, Timeline]) -> list[Membership]:
    """Each worker's spans in each team, from their life (start, team changes, leaving)."""
    found: list[Membership] = []
    for staff_id, timeline in sorted(timelines.items()):
        life = timeline.life
        if life is None or life.subject != "worker":
            continue
        end = life.end + timedelta(days=1) if life.end is not None else None
        team: str | None = None
        since = life.start
        for change in life.changes:
            if "team" not in change.attributes:
                continue
            day = max(change.day, life.start)
            if end is not None and day >= end:
                break
            new = change.attributes.get("team")
            if new == team:
                continue
            if team and day > since:
                found.append(Membership(staff_id, team, since, day))
            team, since = (str(new) if new else None), day
        if team and (end is None or since < end):
            found.append(Membership(staff_id, team, since, end))
    return found


def team_lives(members: Iterable[Membership]) -> dict[str, list[tuple[date, date | None]]]:
    """Each team's spans with at least one member: its members' spans, merged."""
    by_team: dict[str, list[Membership]] = {}
    for m in members:
        by_team.setdefault(m.team, []).append(m)
    lives: dict[str, list[tuple[date, date | None]]] = {}
    for team, spans in sorted(by_team.items()):
        merged: list[tuple[date, date | None]] = []
        for m in sorted(spans, key=lambda s: s.start):
            if merged:
                start, end = merged[-1]
                if end is None or m.start <= end:
                    later = None if end is None or m.end is None else max(end, m.end)
                    merged[-1] = (start, later)
                    continue
            merged.append((m.start, m.end))
        lives[team] = merged
    return lives


def _team_on(members: Iterable[Membership], staff_id: str, day: date) -> str | None:
    for m in members:
        if m.staff_id == staff_id and m.start <= day and (m.end is None or day < m.end):
            return m.team
    return None


def team_sessions(
    timelines: Mapping[str, Timeline], members: Iterable[Membership] | None = None
) -> list[TeamSession]:
    """Every team's group sessions: each attendance counted for the attendee's team on
    its day, one session per team and ``group_session_id`` (the first recorded fact)."""
    spans = list(members) if members is not None else memberships(timelines)
    by_member: dict[str, list[Membership]] = {}
    for m in spans:
        by_member.setdefault(m.staff_id, []).append(m)
    sessions: dict[tuple[str, str], TeamSession] = {}
    for staff_id, timeline in sorted(timelines.items()):
        for fact in timeline.facts:
            if fact.kind is not GroupSupervisionAttended:
                continue
            team = _team_on(by_member.get(staff_id, ()), staff_id, fact.day)
            if team is None:
                continue
            key = (team, str(fact.data["group_session_id"]))
            known = sessions.get(key)
            if known is None:
                sessions[key] = TeamSession(
                    team=team,
                    session_id=key[1],
                    kind=TeamSessionKind(
                        fact.data.get("session_kind", TeamSessionKind.GROUP_SUPERVISION.value)
                    ),
                    day=fact.day,
                    facilitator_id=str(fact.data.get("facilitator_id", "")),
                    attendees=(staff_id,),
                    fact=fact,
                )
            else:
                first = known.fact if known.fact.position <= fact.position else fact
                sessions[key] = replace(
                    known,
                    attendees=tuple(sorted({*known.attendees, staff_id})),
                    fact=first,
                    day=first.day,
                )
    return sorted(sessions.values(), key=lambda s: (s.team, s.day, s.fact.position))


def as_recurring(rule: TeamRule) -> Rule:
    """The team rule as the compliance engine's recurring rule (subject ``team``)."""
    return Rule(
        rule_id=rule.rule_id,
        variant=rule.variant,
        kind=rule.kind,
        subject="team",
        title=rule.title,
        events=(GroupSupervisionAttended.__name__,),
        interval=rule.interval,
    )


def team_obligations(
    timelines: Mapping[str, Timeline],
    pack: Pack,
    horizon: date,
    team: str | None = None,
) -> list[TeamObligation]:
    """Every team's obligations under the pack's team rules to ``horizon`` (the teams of
    ``timelines``, its workers by staff id; one team if ``team`` is given)."""
    if not pack.team_rules:
        return []
    members = memberships(timelines)
    lives = team_lives(members)
    sessions = team_sessions(timelines, members)
    found: list[TeamObligation] = []
    for name, spans in lives.items():
        if team is not None and name != team:
            continue
        held = [s for s in sessions if s.team == name]
        for rule in pack.team_rules:
            occasions = sorted(
                (s.fact for s in held if s.kind in rule.sessions),
                key=lambda f: (f.day, f.position),
            )
            recurring = as_recurring(rule)
            for start, end in spans:
                last = end - timedelta(days=1) if end is not None else None
                life = Life(subject="team", start=start, end=last, changes=[])
                for o in _recurring(recurring, occasions, life, horizon):
                    found.append(TeamObligation(name, _worded(o, rule)))
    return found


def _worded(obligation: Obligation, rule: TeamRule) -> Obligation:
    return replace(obligation, detail={**obligation.detail, "noun": rule.noun, "team": True})


def team_findings(found: Iterable[TeamObligation], as_of: date, pack: Pack) -> list[TeamFinding]:
    """The findings on ``as_of``: every team window that had opened by then."""
    return [
        TeamFinding(t.team, finding(t.obligation, as_of, pack.due_soon), t.obligation.satisfied_on)
        for t in found
        if t.obligation.arises_on <= as_of
    ]
