"""The tracking sheets, from the stored facts: a worker's supervision sheet, the case
supervision tracker (Shropshire's SHR-3.6e; counted under each authority's own rule, where
it has one) and a team's group sessions (DEV-7, POR-3.3)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import Engine, select

from domain.identifiers import worker_id
from domain.policy.calendar import Period
from domain.policy.compliance import known_facts
from domain.policy.packs import Pack, PackLibrary, Rule
from domain.policy.registers import allocations, profile
from domain.policy.sheets import (
    CaseTracker,
    ChildOnTracker,
    QuotaLine,
    SupervisionSheet,
    TeamSheet,
    case_tracker,
    supervision_sheet,
    team_sheet,
)
from projections.compliance.answers import answer
from projections.compliance.context import authority_context
from projections.compliance.facts import subject_facts
from projections.compliance.quality import quotas_for
from projections.compliance.tables import VIEWS, view
from projections.compliance.teams import held_sessions, team_obligations_of


def _agreement_rule(pack: Pack | None) -> tuple[Period | None, str | None]:
    """The pack's rule holding sessions to the agreed frequency: its default interval
    and rule ID (SHR-APP2, POR-3.1a), if it has one."""
    rule = next((r for r in pack.rules if r.interval_from_agreement), None) if pack else None
    return (rule.interval, rule.rule_id) if rule else (None, None)


def supervision_sheet_for(
    engine: Engine,
    library: PackLibrary,
    authority_code: str,
    staff_id: str,
    *,
    as_of: date,
    since: date | None = None,
) -> SupervisionSheet | None:
    """A worker's supervision tracking sheet, from the worker's stored facts, with the
    windows breached in ``[since, as_of]`` (a year to ``as_of`` by default)."""
    subject_id = str(worker_id(authority_code, staff_id))
    with engine.connect() as conn:
        found = answer(conn, library, subject_id, as_of=as_of)
        if found is None or found.profile.subject != "worker":
            return None
        if found.profile.authority_code != authority_code:
            return None
    sheet = supervision_sheet(
        found.profile,
        found.facts,
        as_of,
        *_agreement_rule(found.context.pack),
        found=found.obligations,
        since=since,
    )
    # The worker's own quotas as an auditor (ADR 0023): they read other workers' files.
    due_soon = found.context.pack.due_soon if found.context.pack else None
    windows = quotas_for(
        engine, library, authority_code, start=sheet.since or as_of, end=as_of, auditor_id=staff_id
    )
    quotas = [
        QuotaLine(
            w.rule_id,
            w.rule_key,
            w.starts_on,
            w.ends_on,
            w.due,
            w.done,
            w.status(as_of, due_soon) if due_soon else "met",
        )
        for w in windows
    ]
    return replace(sheet, audit_quotas=quotas)


def case_tracker_for(
    engine: Engine,
    library: PackLibrary,
    authority_code: str,
    staff_id: str,
    *,
    start: date,
    end: date,
) -> CaseTracker | None:
    """The case supervision tracker for one worker over ``[start, end]``, counted under
    the authority's own rule where its pack has one (``CaseTracker.counted_rule``)."""
    subject_id = str(worker_id(authority_code, staff_id))
    a = view("case_allocation")
    with engine.connect() as conn:
        worker_facts = known_facts(subject_facts(conn, subject_id))
        who = profile(worker_facts)
        if who is None or who.subject != "worker":
            return None
        child_ids = sorted(
            {
                str(i)
                for i in conn.execute(
                    select(a.c.child_id).where(
                        a.c.authority_code == authority_code,
                        a.c.worker_id == staff_id,
                        a.c.start_on <= end,
                        (a.c.end_on.is_(None)) | (a.c.end_on >= start),
                    )
                ).scalars()
            }
        )
        context = authority_context(conn, VIEWS, authority_code, library)
        children: list[ChildOnTracker] = []
        for child_id in child_ids:
            found = answer(conn, library, child_id, as_of=end)
            if found is None:
                continue
            children.append(
                ChildOnTracker(
                    child_id,
                    found.profile,
                    found.facts,
                    found.obligations,
                    allocations(found.facts),
                )
            )
    return case_tracker(staff_id, worker_facts, children, start, end, case_minimum(context.pack))


def case_minimum(pack: Pack | None) -> Rule | None:
    """The rule the tracker checks each case against: the authority's own counted case
    supervision rule (SHR-3.6e), or None where its pack has none: never another
    council's (issue 19 item 3)."""
    for rule in pack.rules if pack else ():
        if rule.subject == "child" and rule.kind == "minimum_count":
            return rule
    return None


def team_sheet_for(
    engine: Engine,
    library: PackLibrary,
    authority_code: str,
    team: str,
    *,
    as_of: date,
    since: date | None = None,
) -> TeamSheet | None:
    """A team's group sessions and its breached team windows in ``[since, as_of]`` (a
    year to ``as_of`` by default) [DEV-7, POR-3.3]; None: no such team."""
    with engine.connect() as conn:
        _, found = team_obligations_of(conn, library, authority_code, as_of=as_of, team=team)
        sessions = held_sessions(conn, authority_code, as_of, team)
    if not found and not sessions:
        return None
    return team_sheet(team, sessions, [t.obligation for t in found], as_of, since)
