"""The demo authorities: one per policy pack, each a configuration of the one generator.

``DEMO_AUTHORITIES`` holds the full-size ``DEMO`` under the Durham pack, and a smaller one
under each of Portsmouth, Devon, Shropshire and Bury, so that every pack has findings to
show (``oversight demo summary``). Their shape (monthly supervision and its slippage,
case supervision, triggers and oversight, disagreements, absences, leavers, the archive)
is the generator's (``oversight.generate.authority``); here are only their names, sizes
and packs, seeding them, and the counts an auditor asks for first.

Every command id is derived from the seed, so seeding twice writes nothing the second
time: each command replays from its receipt.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from sqlalchemy import Engine

from application.app import OversightApplication, fold
from domain import commands as c
from domain.child import Child
from domain.policy.packs import PackLibrary
from domain.subject import SubjectPurged
from domain.worker import Worker
from oversight.generate.authority import SCALES, AuthorityGenerator, Scale
from projections.compliance import register_items
from projections.compliance import summary as compliance_summary
from projections.engine import active_generation
from projections.purge_schedule import purge_schedule

DEMO_AUTHORITY = "DEMO"


@dataclass(frozen=True)
class DemoAuthority:
    """One demo authority: its code and name, the pack it adopts, and its scale."""

    code: str
    name: str
    pack: str
    scale: Scale

    def generator(self, seed: int, until: date) -> AuthorityGenerator:
        """The generator of this authority's history up to ``until`` (exclusive)."""
        return AuthorityGenerator(
            self.scale,
            seed=seed,
            until=until,
            authority_code=self.code,
            name=self.name,
            policy_pack=self.pack,
        )


#: One demo authority per pack [issue 4]: the full-size DEMO holds the Durham pack,
#: and a smaller one holds each of the others, so every pack produces findings.
DEMO_AUTHORITIES = (
    DemoAuthority(DEMO_AUTHORITY, "Demo Borough Council", "DUR", SCALES["demo"]),
    DemoAuthority("DEMO-POR", "Demo Harbour City Council", "POR", SCALES["demo-small"]),
    DemoAuthority("DEMO-DEV", "Demo Moorland County Council", "DEV", SCALES["demo-small"]),
    DemoAuthority("DEMO-SHR", "Demo Marches Council", "SHR", SCALES["demo-small"]),
    DemoAuthority("DEMO-BUR", "Demo Millstone Borough Council", "BUR", SCALES["demo-small"]),
)


@dataclass(frozen=True)
class SeedReport:
    executed: int
    replayed: int
    refused: int
    refusals: Counter[str]


def seed(
    app: OversightApplication,
    *,
    seed: int = 7,
    until: date | None = None,
    progress: Callable[[int, int], None] | None = None,
    authorities: Sequence[DemoAuthority] = DEMO_AUTHORITIES,
    batch_size: int = 1_000,
) -> SeedReport:
    """Write the demo authorities' histories, one authority after another, in batches.
    Commands the domain refuses are counted, never half-written."""
    last_day = until or datetime.now(UTC).date()
    commands = [
        command for demo in authorities for command in demo.generator(seed, last_day).commands()
    ]

    def reporting() -> Iterator[c.Command]:
        for index, command in enumerate(commands):
            if progress and (index % 250 == 0 or index == len(commands) - 1):
                progress(index + 1, len(commands))
            yield command

    report = app.execute_batch(reporting(), batch_size=batch_size)
    refusals = Counter(
        f"{type(command).__name__}: {error.rule or error.field}"
        for command, error in report.refused
    )
    return SeedReport(report.executed, report.replayed, len(report.refused), refusals)


def summary(app: OversightApplication, authority_code: str = DEMO_AUTHORITY) -> dict[str, Any]:
    """Counts an auditor would ask for first, read straight from the aggregates."""
    return summaries(app, (authority_code,))[authority_code]


def summaries(
    app: OversightApplication, authority_codes: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """``summary`` of each authority, in one pass over the log: every aggregate is folded
    once, whichever authority it belongs to (the log is not read once per authority)."""
    wanted = set(authority_codes)
    events: dict[str, Counter[str]] = {code: Counter() for code in wanted}
    workers: dict[str, list[Worker]] = {code: [] for code in wanted}
    children: dict[str, list[Child]] = {code: [] for code in wanted}
    authority_of: dict[UUID, str | None] = {}
    for notification in _all_notifications(app):
        originator = notification.originator_id
        if originator not in authority_of:
            try:
                aggregate: Aggregate = app.repository.get(originator, projector_func=fold)
            except SubjectPurged:  # only its tombstones are left
                authority_of[originator] = None
                continue
            code = getattr(aggregate, "authority_code", None)
            authority_of[originator] = code
            if code in wanted:
                if isinstance(aggregate, Worker):
                    workers[code].append(aggregate)
                elif isinstance(aggregate, Child):
                    children[code].append(aggregate)
        code = authority_of[originator]
        if code in wanted:
            events[code][notification.topic.rsplit(".", 1)[-1]] += 1
    return {
        code: _counts(app, code, events[code], workers[code], children[code])
        for code in authority_codes
    }


def _counts(
    app: OversightApplication,
    authority_code: str,
    events: Counter[str],
    workers: list[Worker],
    children: list[Child],
) -> dict[str, Any]:
    sessions = Counter(s.status for w in workers for s in w.sessions.values())
    records = [r for w in workers for r in w.records.values()]
    return {
        "authority": authority_code,
        "policy_pack": app.get_authority(authority_code).policy_pack,
        "events": sum(events.values()),
        "workers": len(workers),
        "workers_left": sum(1 for w in workers if w.employment.left_on is not None),
        "children": len(children),
        "children_in_care": sum(1 for ch in children if ch.in_care),
        "sessions_held": sessions["held"],
        "sessions_cancelled": sessions["cancelled"],
        "sessions_scheduled_not_held": sessions["scheduled"],
        "personal_records": len(records),
        "records_fully_signed": sum(1 for r in records if len(r.signed_by) == 2),
        "records_disputed": sum(1 for r in records if r.disputed),
        "case_supervisions": sum(
            1 for ch in children for e in ch.entries.values() if e.kind == "case_supervision"
        ),
        "oversight_records": sum(
            1 for ch in children for e in ch.entries.values() if e.kind == "management_oversight"
        ),
        "open_oversight_triggers": sum(len(ch.open_triggers) for ch in children),
        "open_disagreements": sum(
            1 for s in [*workers, *children] for d in s.disagreements.values() if not d.resolved
        ),
        "event_counts": dict(sorted(events.items())),
    }


def _all_notifications(app: OversightApplication) -> Iterator[Any]:
    start = 1
    while True:
        batch = app.recorder.select_notifications(start=start, limit=1000)
        if not batch:
            return
        yield from batch
        start = batch[-1].id + 1


def compliance_overview(
    engine: Engine, library: PackLibrary, authority_code: str, as_of: date, head: int
) -> dict[str, Any]:
    """The authority's compliance on ``as_of`` from the compliance projection: rates by
    rule for the year to then, and its open queues and registers."""
    with engine.connect() as conn:
        _, position = active_generation(conn, "compliance")
    result = compliance_summary(engine, library, authority_code, as_of=as_of)
    overall = result.overall()
    return {
        "as_of": as_of.isoformat(),
        "since": result.since.isoformat(),
        "projection_position": position,
        "projection_lag_events": max(0, head - position),
        "fell_due": overall.fell_due,
        "on_time": overall.on_time,
        "late": overall.late,
        "missed": overall.missed,
        "breached": overall.breached,
        "due_soon": overall.due_soon,
        "rate": None if overall.rate is None else round(overall.rate, 3),
        "by_rule": {
            rule: {
                "fell_due": t.fell_due,
                "on_time": t.on_time,
                "late": t.late,
                "missed": t.missed,
                "breached": t.breached,
                "due_soon": t.due_soon,
            }
            for rule, t in result.by_rule().items()
        },
        "open": {
            name: len(register_items(engine, authority_code, name, as_of=as_of, limit=100_000))
            for name in ("oversight_trigger", "action", "sign_off", "disagreement")
        },
        "retention": dict(
            sorted(
                Counter(
                    row.status_on(as_of)
                    for row in purge_schedule(
                        engine, authority_code=authority_code, include_purged=True
                    )
                ).items()
            )
        ),
    }
