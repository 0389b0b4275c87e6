"""Team obligations [DEV-7, POR-3.3]: each team's windows and findings (ADR 0024).

A team's obligations read every member's facts (who was in the team when, which group
sessions they attended), so they are not one subject's rows. They are derived per
authority from the stored facts of its workers (``compliance_fact``), only the events a
team's life and sessions are made of, through the one fold (``domain.policy.timeline``)
and the team rules' recurring windows (``domain.policy.team_obligations``).

Settling a worker marks their authority's teams (``team_dirty``); once no subject is left
to settle, ``settle_teams`` recomputes each marked authority's teams and replaces its
``team_obligation`` rows (``team_settled`` says under which pack and to which horizon), so
a rebuild stores the same rows. A question the stored rows cannot answer (a *known-at*
question, an authority still marked, a pack changed since, a day past the horizon) is
computed from the facts instead, as ``answers`` does for a subject.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import orjson
from sqlalchemy import Connection, Table, delete, insert, select

from domain.events import (
    EntryCorrected,
    GroupSupervisionAttended,
    WorkerLeftEmployment,
    WorkerRegistered,
    WorkerTeamChanged,
)
from domain.policy.compliance import Obligation, Status
from domain.policy.packs import PackLibrary
from domain.policy.team_obligations import (
    TeamFinding,
    TeamObligation,
    TeamSession,
    team_findings,
    team_obligations,
    team_sessions,
)
from domain.policy.timeline import Fact, Timeline, local_day
from projections.compliance.context import AuthorityContext, authority_context
from projections.compliance.derive import HORIZON
from projections.compliance.facts import fact_of
from projections.compliance.tables import VIEWS, chunks, json_text, stored_day

#: The events a team's membership and sessions are made of.
TEAM_EVENTS = (
    WorkerRegistered,
    WorkerTeamChanged,
    WorkerLeftEmployment,
    GroupSupervisionAttended,
    EntryCorrected,
)
_NAMES = [e.__name__ for e in TEAM_EVENTS]


def _worker_ids(conn: Connection, tables: Mapping[str, Table], authority_code: str) -> set[str]:
    """The authority's workers: settled ones, and those marked but never settled."""
    s, d = tables["compliance_subject"], tables["compliance_dirty"]
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
    conn: Connection,
    authority_code: str,
    known_at: datetime | None = None,
    tables: Mapping[str, Table] = VIEWS,
) -> dict[str, Timeline]:
    """Each of the authority's workers' team facts (recorded by ``known_at``), folded
    once, by staff id."""
    f = tables["compliance_fact"]
    facts: dict[str, list[Fact]] = {}
    for chunk in chunks(_worker_ids(conn, tables, authority_code)):
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


def horizon_of(timelines: Mapping[str, Timeline]) -> date | None:
    """How far an authority's team obligations are stored: ``HORIZON`` past the latest
    team fact of its workers (None: no facts)."""
    days = [
        max(local_day(f.occurred_at), local_day(f.recorded_at))
        for t in timelines.values()
        for f in t.recorded
    ]
    return max(days) + HORIZON if days else None


# -- settling: marks, and the stored rows -------------------------------------------------


def mark_teams(conn: Connection, tables: Mapping[str, Table], codes: Iterable[str]) -> None:
    """Mark these authorities' teams to be settled (a worker of theirs changed)."""
    dirty = tables["team_dirty"]
    wanted = set(codes)
    if not wanted:
        return
    marked = set(conn.execute(select(dirty.c.authority_code)).scalars())
    fresh = sorted(wanted - marked)
    if fresh:
        conn.execute(insert(dirty), [{"authority_code": code} for code in fresh])


def settle_teams(
    conn: Connection, tables: Mapping[str, Table], library: PackLibrary, limit: int
) -> int:
    """Recompute the teams of up to ``limit`` marked authorities and replace their rows;
    return how many."""
    dirty = tables["team_dirty"]
    codes = sorted(
        str(c)
        for c in conn.execute(
            select(dirty.c.authority_code).order_by(dirty.c.authority_code).limit(limit)
        ).scalars()
    )
    obligation, settled = tables["team_obligation"], tables["team_settled"]
    for code in codes:
        context = authority_context(conn, tables, code, library)
        timelines = team_timelines(conn, code, tables=tables)
        horizon = horizon_of(timelines)
        found = (
            team_obligations(timelines, context.pack, horizon)
            if context.pack is not None and horizon is not None
            else []
        )
        conn.execute(delete(obligation).where(obligation.c.authority_code == code))
        conn.execute(delete(settled).where(settled.c.authority_code == code))
        rows = team_rows(code, found)
        if rows:
            conn.execute(insert(obligation), rows)
        conn.execute(
            insert(settled).values(
                authority_code=code,
                pack_id=context.pack_id,
                pack_digest=context.pack.digest if context.pack is not None else None,
                valid_until=horizon or date.min,
            )
        )
        conn.execute(delete(dirty).where(dirty.c.authority_code == code))
    return len(codes)


def team_rows(authority_code: str, found: Sequence[TeamObligation]) -> list[dict[str, object]]:
    """Team obligations as rows, numbered per team in the order they were found."""
    rows: list[dict[str, object]] = []
    seq: dict[str, int] = {}
    for t in found:
        o = t.obligation
        n = seq.get(t.team, 0)
        seq[t.team] = n + 1
        rows.append(
            {
                "authority_code": authority_code,
                "team": t.team,
                "seq": n,
                "rule_key": o.rule_key,
                "rule_id": o.rule_id,
                "kind": o.kind,
                "arises_on": o.arises_on,
                "due_on": o.due_on,
                "satisfied_on": o.satisfied_on,
                "evidence": json_text(list(o.evidence)),
                "detail": json_text(o.detail),
            }
        )
    return rows


def stored_team_obligations(
    conn: Connection,
    library: PackLibrary,
    context: AuthorityContext,
    as_of: date,
    team: str | None = None,
) -> list[TeamObligation] | None:
    """The authority's stored team obligations, if they answer for ``as_of``: settled,
    not marked since, under the pack loaded now, to a horizon past ``as_of``."""
    code = context.authority_code
    settled, dirty = VIEWS["team_settled"], VIEWS["team_dirty"]
    state = conn.execute(select(settled).where(settled.c.authority_code == code)).one_or_none()
    if state is None or stored_day(state.valid_until) < as_of:
        return None
    if conn.execute(select(dirty.c.authority_code).where(dirty.c.authority_code == code)).first():
        return None
    loaded = library.packs.get(str(state.pack_id)) if state.pack_id else None
    if state.pack_id != context.pack_id or (
        loaded is not None and loaded.digest != state.pack_digest
    ):
        return None
    table = VIEWS["team_obligation"]
    query = select(table).where(table.c.authority_code == code, table.c.arises_on <= as_of)
    if team is not None:
        query = query.where(table.c.team == team)
    return [
        TeamObligation(
            str(r.team),
            Obligation(
                rule_key=r.rule_key,
                rule_id=r.rule_id,
                kind=r.kind,
                arises_on=stored_day(r.arises_on),
                due_on=stored_day(r.due_on) if r.due_on is not None else None,
                satisfied_on=stored_day(r.satisfied_on) if r.satisfied_on is not None else None,
                evidence=tuple(orjson.loads(r.evidence)),
                detail=orjson.loads(r.detail),
            ),
        )
        for r in conn.execute(query.order_by(table.c.team, table.c.seq))
    ]


@dataclass(frozen=True)
class TeamCompliance:
    """An authority's teams' findings on ``as_of`` under its pack's team rules."""

    authority_code: str
    pack_id: str | None
    as_of: date
    since: date
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
) -> tuple[AuthorityContext, list[TeamObligation]]:
    """The authority's context and its teams' obligations that had arisen by ``as_of``:
    the stored ones where they answer, else computed from the facts."""
    context = context or authority_context(conn, VIEWS, authority_code, library, known_at)
    if context.pack is None or not context.pack.team_rules:
        return context, []
    if known_at is None:
        stored = stored_team_obligations(conn, library, context, as_of, team)
        if stored is not None:
            return context, stored
    timelines = team_timelines(conn, authority_code, known_at)
    return context, team_obligations(timelines, context.pack, as_of, team)


def team_compliance(
    conn: Connection,
    library: PackLibrary,
    authority_code: str,
    *,
    as_of: date,
    since: date | None = None,
    team: str | None = None,
    known_at: datetime | None = None,
) -> TeamCompliance:
    """Every team's findings on ``as_of`` (one team's, if ``team``) for the windows open
    at some time in ``[since, as_of]`` (a year to ``as_of`` by default), as known at
    ``known_at`` (now, if None), and the sessions held in it."""
    since = since or as_of - timedelta(days=365)
    context, found = team_obligations_of(
        conn, library, authority_code, as_of=as_of, team=team, known_at=known_at
    )
    findings = (
        [
            f
            for f in team_findings(found, as_of, context.pack)
            if f.finding.window_end is None or f.finding.window_end >= since
        ]
        if context.pack is not None
        else []
    )
    sessions = [
        s for s in held_sessions(conn, authority_code, as_of, team, known_at) if s.day >= since
    ]
    return TeamCompliance(
        authority_code, context.pack_id, as_of, since, known_at, findings, sessions
    )


def held_sessions(
    conn: Connection,
    authority_code: str,
    as_of: date,
    team: str | None = None,
    known_at: datetime | None = None,
) -> list[TeamSession]:
    """The teams' group sessions held by ``as_of`` (one team's, if ``team``)."""
    timelines = team_timelines(conn, authority_code, known_at)
    return [
        s for s in team_sessions(timelines) if (team is None or s.team == team) and s.day <= as_of
    ]


def teams_of(found: Iterable[TeamObligation]) -> list[str]:
    return sorted({t.team for t in found})
