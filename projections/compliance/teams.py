"""Team obligations [DEV-7, POR-3.3]: each team's windows and findings (ADR 0024).

A team's obligations read every member's facts (who was in the team when, which group
sessions they attended), so they are not a subject's rows: they are computed from the
stored facts of the authority's workers (``compliance_fact``), only the events a team's
life and sessions are made of, through the one fold (``domain.policy.timeline``) and the
team rules' recurring windows (``domain.policy.team_obligations``). The stored facts are
the log's, so a rebuild gives the same findings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, select

from domain.events import (
    EntryCorrected,
    GroupSupervisionAttended,
    WorkerLeftEmployment,
    WorkerRegistered,
    WorkerTeamChanged,
)
from domain.policy.compliance import Status
from domain.policy.packs import PackLibrary
from domain.policy.team_obligations import (
    TeamFinding,
    TeamObligation,
    TeamSession,
    team_findings,
    team_obligations,
    team_sessions,
)
from domain.policy.timeline import Fact, Timeline
from projections.compliance.context import AuthorityContext, authority_context
from projections.compliance.facts import fact_of
from projections.compliance.tables import VIEWS, chunks, view

#: The events a team's membership and sessions are made of.
TEAM_EVENTS = (
    WorkerRegistered,
    WorkerTeamChanged,
    WorkerLeftEmployment,
    GroupSupervisionAttended,
    EntryCorrected,
)
_NAMES = [e.__name__ for e in TEAM_EVENTS]


def _worker_ids(conn: Connection, authority_code: str) -> set[str]:
    """The authority's workers: settled ones, and those marked but never settled."""
    s, d = view("compliance_subject"), view("compliance_dirty")
    settled = conn.execute(
        select(s.c.subject_id).where(
            s.c.authority_code == authority_code, s.c.subject_kind == "worker"
        )
    ).scalars()
    never = conn.execute(
        select(d.c.subject_id).distinct().where(~d.c.subject_id.in_(select(s.c.subject_id)))
    ).scalars()
    return {str(i) for i in settled} | {str(i) for i in never}


def team_timelines(
    conn: Connection, authority_code: str, known_at: datetime | None = None
) -> dict[str, Timeline]:
    """Each of the authority's workers' team facts (recorded by ``known_at``), folded
    once, by staff id."""
    f = view("compliance_fact")
    facts: dict[str, list[Fact]] = {}
    for chunk in chunks(_worker_ids(conn, authority_code)):
        query = (
            select(f)
            .where(f.c.subject_id.in_(chunk), f.c.event_type.in_(_NAMES))
            .order_by(f.c.subject_id, f.c.position)
        )
        if known_at is not None:
            query = query.where(f.c.recorded_at <= known_at)
        for row in conn.execute(query).all():
            facts.setdefault(str(row.subject_id), []).append(fact_of(row))
    timelines: dict[str, Timeline] = {}
    for subject_facts in facts.values():
        timeline = Timeline(subject_facts)
        registration = timeline.registration
        if registration is None or registration.kind is not WorkerRegistered:
            continue
        if registration.data.get("authority_code") != authority_code:
            continue  # a never-settled subject of another authority
        timelines[str(registration.data["staff_id"])] = timeline
    return timelines


@dataclass(frozen=True)
class TeamCompliance:
    """An authority's teams' findings on ``as_of`` under its pack's team rules."""

    authority_code: str
    pack_id: str | None
    as_of: date
    known_at: datetime | None
    findings: list[TeamFinding]
    sessions: list[TeamSession]

    def breached(self) -> dict[tuple[str, str], int]:
        """Windows closed without a session, by team and rule key."""
        counts: dict[tuple[str, str], int] = {}
        for f in self.findings:
            if f.finding.status is Status.BREACHED:
                key = (f.team, f.finding.rule_key)
                counts[key] = counts.get(key, 0) + 1
        return counts


def team_obligations_of(
    conn: Connection,
    library: PackLibrary,
    authority_code: str,
    *,
    as_of: date,
    team: str | None = None,
    known_at: datetime | None = None,
    context: AuthorityContext | None = None,
) -> tuple[AuthorityContext, list[TeamObligation], Mapping[str, Timeline]]:
    """The authority's context, its teams' obligations to ``as_of`` and the timelines
    they were computed from."""
    context = context or authority_context(conn, VIEWS, authority_code, library, known_at)
    if context.pack is None or not context.pack.team_rules:
        return context, [], {}
    timelines = team_timelines(conn, authority_code, known_at)
    return context, team_obligations(timelines, context.pack, as_of, team), timelines


def team_compliance(
    conn: Connection,
    library: PackLibrary,
    authority_code: str,
    *,
    as_of: date,
    team: str | None = None,
    known_at: datetime | None = None,
) -> TeamCompliance:
    """Every team's findings on ``as_of`` (one team's, if ``team``), as known at
    ``known_at`` (now, if None), and the sessions they rest on."""
    context, found, timelines = team_obligations_of(
        conn, library, authority_code, as_of=as_of, team=team, known_at=known_at
    )
    findings = team_findings(found, as_of, context.pack) if context.pack is not None else []
    sessions = [
        s for s in team_sessions(timelines) if (team is None or s.team == team) and s.day <= as_of
    ]
    return TeamCompliance(authority_code, context.pack_id, as_of, known_at, findings, sessions)


def teams_of(found: Iterable[TeamObligation]) -> list[str]:
    return sorted({t.team for t in found})
