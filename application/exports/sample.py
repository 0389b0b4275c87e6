"""An auditor's sample pack: for a team and a period, N of its cases sampled with a seed
(the same seed, the same sample), their chronologies over the period and the team's
supervision tracking sheets, ready for the QA audits (issue 24 item 3, ADR 0030)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from application.exports.chronology import Chronology, Request, Sources, chronology
from application.exports.reading import Reader
from domain.errors import ValidationError
from domain.identifiers import child_id as child_uuid
from domain.identifiers import worker_id as worker_uuid
from domain.policy.timeline import Timeline
from projections.audit_trail import subjects_of
from projections.compliance.sheets import supervision_sheet_for
from projections.history import rows as history_rows

#: The most cases one pack samples.
MAX_SIZE = 100


@dataclass(frozen=True)
class SheetLine:
    """One worker of the team on the supervision tracking sheet over the period."""

    staff_id: str
    sessions_held: int
    records_signed_by_both: int
    breached_by_rule: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class SamplePack:
    authority: str
    team: str
    period_from: date
    period_to: date
    seed: int
    #: Every case of the team in the period, sorted: what the sample was drawn from.
    population: tuple[str, ...]
    chronologies: tuple[Chronology, ...]
    sheet: tuple[SheetLine, ...]


def sample_pack(
    sources: Sources,
    reader: Reader,
    authority: str,
    team: str,
    period_from: date,
    period_to: date,
    *,
    size: int,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
) -> SamplePack:
    if period_from > period_to:
        raise ValidationError("the period ends before it begins", field="to")
    if not 1 <= size <= MAX_SIZE:
        raise ValidationError(f"a sample is 1 to {MAX_SIZE} cases", field="size")
    reader.open_reports(team)
    population = tuple(
        child
        for child in subjects_of(sources.engine, authority, "child")
        if _in_team(sources, authority, child, team, period_from, period_to)
    )
    chosen = sorted(random.Random(seed).sample(population, min(size, len(population))))
    chronologies = []
    for index, child in enumerate(chosen, start=1):
        request = Request(authority, child, period_from=period_from, period_to=period_to)
        chronologies.append(chronology(sources, reader, request))
        if progress is not None:
            progress(index, len(chosen))
    return SamplePack(
        authority=authority,
        team=team,
        period_from=period_from,
        period_to=period_to,
        seed=seed,
        population=population,
        chronologies=tuple(chronologies),
        sheet=_sheet(sources, authority, team, period_from, period_to),
    )


def _in_team(
    sources: Sources, authority: str, child: str, team: str, start: date, end: date
) -> bool:
    rows = history_rows(sources.engine, str(child_uuid(authority, child)))
    return any(
        a.team == team and a.start <= end and (a.end is None or a.end >= start)
        for a in Timeline(rows).allocations()
    )


def _sheet(
    sources: Sources, authority: str, team: str, start: date, end: date
) -> tuple[SheetLine, ...]:
    lines = []
    for staff_id in subjects_of(sources.engine, authority, "worker"):
        rows = history_rows(sources.engine, str(worker_uuid(authority, staff_id)))
        if Timeline(rows).current.get("team") != team:
            continue
        sheet = supervision_sheet_for(
            sources.engine, sources.library, authority, staff_id, as_of=end, since=start
        )
        if sheet is None:
            continue
        held = [s for s in sheet.sessions if start <= s.held_on <= end]
        lines.append(
            SheetLine(
                staff_id=staff_id,
                sessions_held=len(held),
                records_signed_by_both=sum(1 for s in held if s.record_signed_by_both),
                breached_by_rule=tuple(sorted(sheet.breached_by_rule.items())),
            )
        )
    return tuple(lines)
