"""Reading the purge schedule (ADR 0012).

The compliance projection keeps ``retention_schedule``: for every record of every
subject, its class, the rule it is kept under, what starts the period and when, the
day it falls due for destruction, the legal holds that stop it, and, once destroyed,
when and on whose authority. Here it is queried by due-date window, authority and
class, and written out as CSV.

A read model only reads: purge runs are the application's (``application.purge``, ADR
0018), which take their candidates from ``due_for_destruction`` here and check each again
from the event store before destroying it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import Engine, and_, select

from projections.compliance import view


@dataclass(frozen=True)
class ScheduleRow:
    authority_code: str
    subject_kind: str
    local_id: str
    subject_id: str
    record_class: str
    record_id: str
    rule_id: str | None
    trigger: str | None
    trigger_date: date | None
    due_on: date | None
    held_by: str | None
    events: int
    purged_on: date | None
    authorised_by: str | None

    def status_on(self, day: date) -> str:
        if self.purged_on is not None:
            return "purged"
        if self.held_by:
            return "held"
        if self.rule_id is None:
            return "no_rule"
        if self.due_on is None:
            return "waiting"
        return "due" if self.due_on <= day else "scheduled"


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def purge_schedule(
    engine: Engine,
    *,
    authority_code: str,
    due_from: date | None = None,
    due_to: date | None = None,
    record_class: str | None = None,
    include_purged: bool = False,
    limit: int | None = None,
) -> list[ScheduleRow]:
    """The authority's records in due-date order (``due_to`` inclusive); records with no
    due date only when no window is given."""
    table = view("retention_schedule")
    conditions = [table.c.authority_code == authority_code]
    if due_from is not None:
        conditions.append(table.c.due_on >= due_from)
    if due_to is not None:
        conditions.append(table.c.due_on <= due_to)
    if record_class is not None:
        conditions.append(table.c.record_class == record_class)
    if not include_purged:
        conditions.append(table.c.purged_on.is_(None))
    query = (
        select(table)
        .where(and_(*conditions))
        .order_by(
            table.c.due_on.asc().nulls_last(),  # both engines (SQLite sorts NULL first)
            table.c.subject_kind,
            table.c.local_id,
            table.c.record_class,
            table.c.record_id,
        )
    )
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as conn:
        found = conn.execute(query).mappings().all()
    return [
        ScheduleRow(
            authority_code=str(r["authority_code"]),
            subject_kind=str(r["subject_kind"]),
            local_id=str(r["local_id"]),
            subject_id=str(r["subject_id"]),
            record_class=str(r["record_class"]),
            record_id=str(r["record_id"]),
            rule_id=r["rule_id"],
            trigger=r["trigger"],
            trigger_date=_day(r["trigger_date"]),
            due_on=_day(r["due_on"]),
            held_by=r["held_by"],
            events=int(r["events"]),
            purged_on=_day(r["purged_on"]),
            authorised_by=r["authorised_by"],
        )
        for r in found
    ]


def due_for_destruction(engine: Engine, *, authority_code: str, as_of: date) -> list[ScheduleRow]:
    """What a purge run on ``as_of`` would take: due by then, not held, not destroyed."""
    return [
        row
        for row in purge_schedule(engine, authority_code=authority_code, due_to=as_of)
        if row.status_on(as_of) == "due"
    ]


CSV_COLUMNS = [f.name for f in fields(ScheduleRow)] + ["status"]


def schedule_csv(rows: Sequence[ScheduleRow], as_of: date) -> str:
    """The schedule as CSV: one row per record, its status on ``as_of``."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        values = {k: ("" if v is None else v) for k, v in asdict(row).items()}
        writer.writerow({**values, "status": row.status_on(as_of)})
    return out.getvalue()
