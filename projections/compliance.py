"""Compliance, registers and allocations, kept up to date incrementally (ADR 0010).

The handler stores each worker, child and authority event as a *fact* and marks its
subject dirty, in the batch's transaction. ``settle`` then recomputes each dirty subject
from its facts alone (``domain.policy``): its profile, every obligation its authority's
pack creates, its register items and (for a child) its allocations, and replaces the
subject's rows, clearing its mark in the same transaction. An authority's event (a new
pack, a closure day) marks the authority, and settling it recomputes all its subjects.

So a query never rescans history: findings on any as-of day are the stored obligations
with a status worked out for that day. Two cases compute from the stored facts instead,
for one subject at a time: a *known-at* question (only the facts recorded by then), and
a subject not yet settled or asked about beyond the horizon its obligations were
computed to (``valid_until``: two years past its latest fact).

Tables: ``compliance_fact``, ``compliance_dirty``, ``compliance_subject``,
``compliance_obligation``, ``oversight_register``, ``case_allocation``, and
``retention_schedule`` (the purge schedule: every record of the subject with the rule it
falls due under, its due date and what holds it, ADR 0012).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar

import orjson
from eventsourcing.persistence import Notification
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    select,
)

from domain.identifiers import authority_id, worker_id
from domain.policy.calendar import Period, WorkingCalendar
from domain.policy.compliance import (
    Finding,
    Obligation,
    closed_without_act,
    closes,
    findings,
    known_facts,
    obligations,
)
from domain.policy.packs import Pack, PackLibrary, Rule
from domain.policy.registers import (
    Allocation,
    Profile,
    RegisterItem,
    allocations,
    profile,
    registers,
)
from domain.policy.retention import CHILD_RECORD, WORKER_FILE, ScheduleItem, schedule
from domain.policy.sheets import (
    CaseTracker,
    ChildOnTracker,
    SupervisionSheet,
    case_tracker,
    supervision_sheet,
)
from domain.policy.timeline import LONDON, Fact, local_day
from projections.engine import (
    Delete,
    Insert,
    Operation,
    execute_operations,
    generation_table_name,
    utc,
)
from projections.history import SKIPPED_FIELDS, dumps

log = logging.getLogger(__name__)

#: Events defined on these classes are facts (``Subject``: corrections, disagreements
#: and holds, which workers and children share; ``AccessLog``: reads, as facts of the
#: subject read).
AGGREGATES = frozenset({"Worker", "Child", "Authority", "Subject", "AccessLog"})
AUTHORITY_EVENTS = frozenset({"AuthorityRegistered", "PolicyPackAdopted", "ClosureDayAdded"})
#: Obligations are computed this far past a subject's latest fact (ADR 0010).
HORIZON = timedelta(days=730)

TABLES = (
    "compliance_fact",
    "compliance_link",
    "compliance_dirty",
    "compliance_subject",
    "compliance_obligation",
    "oversight_register",
    "case_allocation",
    "retention_schedule",
)


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


@dataclass
class Compliance:
    """The compliance projection; ``library`` holds the packs subjects are held to."""

    library: PackLibrary = field(default_factory=PackLibrary.load)
    name: ClassVar[str] = "compliance"
    #: Generations whose subjects were checked against the packs loaded now.
    _checked: set[str] = field(default_factory=set, repr=False)
    table_names: ClassVar[tuple[str, ...]] = TABLES

    def define_tables(self, metadata: MetaData, generation: int) -> dict[str, Table]:
        def named(stable: str) -> str:
            return generation_table_name(stable, generation)

        fact = Table(
            named("compliance_fact"),
            metadata,
            Column("position", BigInteger, primary_key=True, autoincrement=False),
            Column("subject_id", String(36), nullable=False),
            Column("event_type", String(80), nullable=False),
            Column("occurred_at", DateTime(timezone=True), nullable=False),
            Column("recorded_at", DateTime(timezone=True), nullable=False),
            Column("data", Text, nullable=False),
            Index(f"{named('compliance_fact')}_subject", "subject_id", "position"),
        )
        dirty = Table(
            named("compliance_dirty"),
            metadata,
            # Position 0: marked because the subject's pack changed, not by an event.
            Column("position", BigInteger, nullable=False, autoincrement=False),
            Column("subject_id", String(36), nullable=False),
            # Keyed by subject first: settling groups, reads and deletes by subject
            # (measured: keyed by position, each delete scanned every mark; ADR 0010).
            PrimaryKeyConstraint("subject_id", "position"),
        )
        link = Table(
            named("compliance_link"),
            metadata,
            Column("subject_id", String(36), primary_key=True),
            Column("depends_on", String(36), primary_key=True),
            Index(f"{named('compliance_link')}_depends_on", "depends_on"),
        )
        subject = Table(
            named("compliance_subject"),
            metadata,
            Column("subject_id", String(36), primary_key=True),
            Column("authority_code", String(32), nullable=False),
            Column("subject_kind", String(10), nullable=False),
            Column("local_id", String(64), nullable=False),
            Column("display", String(200), nullable=False),
            Column("team", String(200), nullable=True),
            Column("manager_id", String(64), nullable=True),
            Column("worker_id", String(64), nullable=True),
            Column("supervisors", Text, nullable=False),
            Column("ended_on", Date, nullable=True),
            Column("pack_id", String(32), nullable=True),
            Column("pack_digest", String(64), nullable=True),
            # The authority's last fact its pack and calendar were read from.
            Column("authority_through", BigInteger, nullable=False),
            Column("valid_until", Date, nullable=False),
            Column("through_position", BigInteger, nullable=False),
            Index(f"{named('compliance_subject')}_authority", "authority_code", "subject_kind"),
            # The API's authorization reads one subject (and its managers) by local id on
            # every request (migration 0006; measured: 2.4 ms a lookup without it, with
            # 19,000 children in one authority).
            Index(
                f"{named('compliance_subject')}_local_id",
                "authority_code",
                "subject_kind",
                "local_id",
            ),
        )
        obligation = Table(
            named("compliance_obligation"),
            metadata,
            Column("subject_id", String(36), primary_key=True),
            Column("seq", Integer, primary_key=True, autoincrement=False),
            Column("authority_code", String(32), nullable=False),
            Column("team", String(200), nullable=True),
            Column("rule_key", String(100), nullable=False),
            Column("rule_id", String(40), nullable=False),
            Column("kind", String(20), nullable=False),
            Column("arises_on", Date, nullable=False),
            Column("due_on", Date, nullable=True),
            Column("satisfied_on", Date, nullable=True),
            Column("evidence", Text, nullable=False),
            Column("detail", Text, nullable=False),
            Index(f"{named('compliance_obligation')}_authority", "authority_code", "team"),
        )
        register = Table(
            named("oversight_register"),
            metadata,
            Column("subject_id", String(36), primary_key=True),
            Column("register", String(20), primary_key=True),
            Column("item_id", String(200), primary_key=True),
            Column("authority_code", String(32), nullable=False),
            Column("team", String(200), nullable=True),
            Column("owner", String(64), nullable=True),
            Column("opened_on", Date, nullable=False),
            Column("due_on", Date, nullable=True),
            Column("closed_on", Date, nullable=True),
            Column("rule_id", String(40), nullable=True),
            Column("evidence", Text, nullable=False),
            Column("detail", Text, nullable=False),
            Index(f"{named('oversight_register')}_open", "authority_code", "register", "closed_on"),
        )
        allocation = Table(
            named("case_allocation"),
            metadata,
            Column("child_id", String(36), primary_key=True),
            Column("seq", Integer, primary_key=True, autoincrement=False),
            Column("authority_code", String(32), nullable=False),
            Column("worker_id", String(64), nullable=False),
            Column("team", String(200), nullable=True),
            Column("start_on", Date, nullable=False),
            Column("end_on", Date, nullable=True),
            Index(f"{named('case_allocation')}_worker", "authority_code", "worker_id"),
        )
        retention = Table(
            named("retention_schedule"),
            metadata,
            Column("subject_id", String(36), primary_key=True),
            Column("record_class", String(40), primary_key=True),
            Column("record_id", String(200), primary_key=True),
            Column("authority_code", String(32), nullable=False),
            Column("subject_kind", String(10), nullable=False),
            Column("local_id", String(64), nullable=False),
            Column("team", String(200), nullable=True),
            Column("rule_id", String(40), nullable=True),
            Column("trigger", String(40), nullable=True),
            Column("trigger_date", Date, nullable=True),
            Column("due_on", Date, nullable=True),
            Column("held_by", Text, nullable=True),
            Column("events", Integer, nullable=False),
            Column("purged_on", Date, nullable=True),
            Column("authorised_by", String(300), nullable=True),
            # The schedule's own order: a page of it is a top-N scan of this index.
            Index(
                f"{named('retention_schedule')}_due",
                "authority_code",
                "due_on",
                "subject_kind",
                "local_id",
                "record_class",
                "record_id",
            ),
        )
        return {
            "retention_schedule": retention,
            "compliance_fact": fact,
            "compliance_link": link,
            "compliance_dirty": dirty,
            "compliance_subject": subject,
            "compliance_obligation": obligation,
            "oversight_register": register,
            "case_allocation": allocation,
        }

    def handle(self, event: Any, notification: Notification) -> Sequence[Operation]:
        if type(event).__qualname__.split(".", 1)[0] not in AGGREGATES:
            return []
        provenance = getattr(event, "provenance", None)
        if provenance is None:
            return []
        # An access log's reads are facts of the subject they read (the purge schedule
        # keeps a record per year of them, ADR 0012).
        subject_id = str(getattr(event, "subject_id", None) or event.originator_id)
        data = {k: v for k, v in vars(event).items() if k not in SKIPPED_FIELDS}
        # A purge takes its record's facts with it (a rebuild never stores them: the
        # tombstones carry no provenance); the purge is a fact itself (ADR 0012).
        purged: list[Operation] = (
            [
                Delete(
                    "compliance_fact",
                    {"subject_id": subject_id, "position": list(event.positions)},
                )
            ]
            if type(event).__name__ == "RecordPurged"
            else []
        )
        return [
            *purged,
            Insert(
                "compliance_fact",
                (
                    notification.id,
                    subject_id,
                    type(event).__name__,
                    utc(provenance.occurred_at),
                    utc(event.timestamp),
                    dumps(data),
                ),
            ),
            Insert("compliance_dirty", (notification.id, subject_id)),
        ]

    # -- settling ----------------------------------------------------------------------------

    def mark_stale(self, conn: Connection, tables: Mapping[str, Table]) -> int:
        """Mark every subject whose stored rows were made under a pack that has changed
        since (its digest differs from the loaded pack's), or is no longer loaded.
        Returns how many were marked."""
        subject, dirty = tables["compliance_subject"], tables["compliance_dirty"]
        marked = set(
            conn.execute(select(dirty.c.subject_id).where(dirty.c.position == 0)).scalars()
        )
        stale = [
            str(row.subject_id)
            for row in conn.execute(
                select(subject.c.subject_id, subject.c.pack_id, subject.c.pack_digest)
            )
            if row.pack_id is not None
            and _digest_of(self.library, row.pack_id) != row.pack_digest
            and str(row.subject_id) not in marked
        ]
        if stale:
            log.info("compliance: %d subjects were settled under a changed pack", len(stale))
            conn.execute(insert(dirty), [{"position": 0, "subject_id": s} for s in stale])
        return len(stale)

    def settle(self, conn: Connection, tables: Mapping[str, Table], limit: int) -> int:
        dirty = tables["compliance_dirty"]
        generation = tables["compliance_subject"].name
        if generation not in self._checked:
            self.mark_stale(conn, tables)
            self._checked.add(generation)
        marked = conn.execute(
            select(dirty.c.subject_id, func.max(dirty.c.position))
            .group_by(dirty.c.subject_id)
            .order_by(func.min(dirty.c.position))
            .limit(limit)
        ).all()
        if not marked:
            return 0
        ids = {str(r[0]) for r in marked}
        facts = _facts(conn, tables, ids)
        authorities = {i for i in ids if _is_authority(facts.get(i, []))}
        if authorities:
            # A new pack or closure day concerns every subject of the authority that was
            # settled without it: hand the mark on to each (settled ``limit`` at a time
            # by the next calls). Subjects settled since read it already.
            subject = tables["compliance_subject"]
            already = set(
                conn.execute(select(dirty.c.subject_id).where(dirty.c.position == 0)).scalars()
            )
            for authority, last in marked:
                if authority not in authorities:
                    continue
                code = str(facts[authority][0].data["authority_code"])
                if authority == str(authority_id(code)):
                    behind = set(
                        conn.execute(
                            select(subject.c.subject_id).where(
                                subject.c.authority_code == code,
                                subject.c.authority_through < last,
                            )
                        ).scalars()
                    )
                    if behind - already:
                        conn.execute(
                            insert(dirty),
                            [{"position": 0, "subject_id": s} for s in sorted(behind - already)],
                        )
                        already |= behind
                conn.execute(
                    delete(dirty).where(dirty.c.subject_id == authority, dirty.c.position <= last)
                )
            return len(authorities)
        # Subjects whose rules read these subjects' facts (a worker, their supervisor's),
        # unless marked themselves: those are settled in their turn, from the same facts
        # (measured: in a rebuild this recomputed each supervisee once per supervisor).
        link = tables["compliance_link"]
        dependents: set[str] = set()
        for chunk in _chunks(ids):
            dependents |= set(
                conn.execute(
                    select(link.c.subject_id).where(link.c.depends_on.in_(chunk))
                ).scalars()
            )
        for chunk in _chunks(dependents - ids):
            dependents -= set(
                conn.execute(
                    select(dirty.c.subject_id).distinct().where(dirty.c.subject_id.in_(chunk))
                ).scalars()
            )
        facts.update(_facts(conn, tables, dependents - ids))
        profiles = {i: profile(known_facts(f)) for i, f in facts.items() if f}
        supervisors = supervisors_facts(conn, tables, profiles.values())
        contexts: dict[str, AuthorityContext] = {}
        operations: list[Insert] = []
        recomputed: list[str] = []
        for subject_id, subject_facts in facts.items():
            who = profiles.get(subject_id)
            if who is None:
                # Its registration is purged: nothing derived stays but the tombstones.
                recomputed.append(subject_id)
                operations.extend(
                    Insert("retention_schedule", row)
                    for row in purged_subject_rows(subject_id, subject_facts)
                )
                continue
            code = who.authority_code
            if code not in contexts:
                contexts[code] = authority_context(conn, tables, code, self.library)
            related = _related_of(supervisors, who)
            derived = derive(subject_id, subject_facts, contexts[code], related=related)
            if derived is None:
                continue
            recomputed.append(subject_id)
            for table, table_rows in derived.rows().items():
                operations.extend(Insert(table, row) for row in table_rows)
        _replace(conn, tables, recomputed, operations)
        # Only this runner marks (it holds the lock), so nothing newer than what was read
        # can be among them; the bound keeps it so if that ever changes.
        reached = max(int(last) for _, last in marked)
        for chunk in _chunks(ids):
            conn.execute(
                delete(dirty).where(dirty.c.subject_id.in_(chunk), dirty.c.position <= reached)
            )
        return len(marked)


def _digest_of(library: PackLibrary, pack_id: str) -> str | None:
    pack = library.packs.get(pack_id)
    return pack.digest if pack is not None else None


def _is_authority(facts: Sequence[Fact]) -> bool:
    return bool(facts) and facts[0].event_type in AUTHORITY_EVENTS


def _chunks(values: Iterable[str], size: int = 500) -> Iterator[list[str]]:
    items = sorted(values)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _fact(row: Any) -> Fact:
    """A ``compliance_fact`` row as a Fact (its columns by position: a row's attributes
    are looked up by name each time, which cost as much as the rest of this)."""
    position, _, event_type, occurred_at, recorded_at, data = row
    return Fact(
        int(position), str(event_type), utc(occurred_at), utc(recorded_at), orjson.loads(data)
    )


def _facts(
    conn: Connection, tables: Mapping[str, Table], subject_ids: Iterable[str]
) -> dict[str, list[Fact]]:
    """Each subject's facts in recorded (position) order."""
    table = tables["compliance_fact"]
    found: dict[str, list[Fact]] = {}
    for chunk in _chunks(subject_ids):
        # In the index's order (no sort), fetched at once (row by row through the
        # driver cost more than decoding the facts: issue 7, benchmark 3).
        rows = conn.execute(
            select(table)
            .where(table.c.subject_id.in_(chunk))
            .order_by(table.c.subject_id, table.c.position)
        ).all()
        for row in rows:
            found.setdefault(str(row.subject_id), []).append(_fact(row))
    return found


def supervisors_facts(
    conn: Connection,
    tables: Mapping[str, Table],
    profiles: Iterable[Profile | None],
    known_at: datetime | None = None,
) -> dict[str, dict[str, list[Fact]]]:
    """For each worker among ``profiles``, the facts of their supervisors that their
    rules read (absences), by staff id; one read for them all. Keyed by the worker's
    authority and staff id (``"AUTH/SW1"``)."""
    workers = [p for p in profiles if p is not None and p.subject == "worker"]
    wanted = {str(worker_id(p.authority_code, s)) for p in workers for s in p.supervisors}
    found = _facts(conn, tables, wanted)
    result: dict[str, dict[str, list[Fact]]] = {}
    for who in workers:
        result[f"{who.authority_code}/{who.local_id}"] = {
            s: [
                f
                for f in found.get(str(worker_id(who.authority_code, s)), [])
                if known_at is None or f.recorded_at <= known_at
            ]
            for s in who.supervisors
        }
    return result


def _related_of(
    related: Mapping[str, dict[str, list[Fact]]], who: Profile
) -> dict[str, list[Fact]]:
    return related.get(f"{who.authority_code}/{who.local_id}", {})


@dataclass(frozen=True)
class AuthorityContext:
    """What an authority's subjects are held to: its pack and its working calendar."""

    authority_code: str
    pack_id: str | None
    pack: Pack | None
    calendar: WorkingCalendar
    through: int = 0  # the position of the last authority fact read


def context_from(code: str, facts: Sequence[Fact], library: PackLibrary) -> AuthorityContext:
    pack_id: str | None = None
    closures: set[date] = set()
    for fact in sorted(facts, key=lambda f: f.position):
        if fact.event_type in ("AuthorityRegistered", "PolicyPackAdopted"):
            pack_id = str(fact.data["policy_pack"])
        elif fact.event_type == "ClosureDayAdded":
            closures.add(date.fromisoformat(str(fact.data["day"])[:10]))
    pack = library.packs.get(pack_id) if pack_id else None
    if pack_id and pack is None:
        log.warning("authority %s uses pack %s, which is not loaded", code, pack_id)
    through = max((f.position for f in facts), default=0)
    return AuthorityContext(code, pack_id, pack, WorkingCalendar(frozenset(closures)), through)


def authority_context(
    conn: Connection,
    tables: Mapping[str, Table],
    code: str,
    library: PackLibrary,
    known_at: datetime | None = None,
) -> AuthorityContext:
    facts = _facts(conn, tables, [str(authority_id(code))]).get(str(authority_id(code)), [])
    if known_at is not None:
        facts = [f for f in facts if f.recorded_at <= known_at]
    return context_from(code, facts, library)


@dataclass(frozen=True)
class Derived:
    """Everything ``settle`` stores for one subject."""

    subject_id: str
    profile: Profile
    pack_id: str | None
    pack_digest: str | None
    authority_through: int
    valid_until: date
    through_position: int
    obligations: list[Obligation]
    registers: list[RegisterItem]
    allocations: list[Allocation]
    depends_on: list[str]
    retention: list[ScheduleItem]

    def rows(self) -> dict[str, list[dict[str, Any]]]:
        p = self.profile
        common = {"authority_code": p.authority_code, "team": p.team}
        return {
            "retention_schedule": [
                _retention_row(self.subject_id, p.authority_code, p.subject, p.local_id, p.team, i)
                for i in self.retention
            ],
            "compliance_subject": [
                {
                    "subject_id": self.subject_id,
                    "authority_code": p.authority_code,
                    "subject_kind": p.subject,
                    "local_id": p.local_id,
                    "display": p.display[:200],
                    "team": p.team,
                    "manager_id": p.manager_id,
                    "worker_id": p.worker_id,
                    "supervisors": _json(list(p.supervisors)),
                    "ended_on": p.ended_on,
                    "pack_id": self.pack_id,
                    "pack_digest": self.pack_digest,
                    "authority_through": self.authority_through,
                    "valid_until": self.valid_until,
                    "through_position": self.through_position,
                }
            ],
            "compliance_obligation": [
                {
                    "subject_id": self.subject_id,
                    "seq": seq,
                    **common,
                    "rule_key": o.rule_key,
                    "rule_id": o.rule_id,
                    "kind": o.kind,
                    "arises_on": o.arises_on,
                    "due_on": o.due_on,
                    "satisfied_on": o.satisfied_on,
                    "evidence": _json(list(o.evidence)),
                    "detail": _json(o.detail),
                }
                for seq, o in enumerate(self.obligations)
            ],
            "oversight_register": [
                {
                    "subject_id": self.subject_id,
                    "register": item.register,
                    "item_id": item.item_id,
                    **common,
                    "owner": item.owner,
                    "opened_on": item.opened_on,
                    "due_on": item.due_on,
                    "closed_on": item.closed_on,
                    "rule_id": item.rule_id,
                    "evidence": _json(list(item.evidence)),
                    "detail": _json(item.detail),
                }
                for item in self.registers
            ],
            "compliance_link": [
                {"subject_id": self.subject_id, "depends_on": other} for other in self.depends_on
            ],
            "case_allocation": [
                {
                    "child_id": self.subject_id,
                    "seq": seq,
                    "authority_code": p.authority_code,
                    "worker_id": a.worker_id,
                    "team": a.team,
                    "start_on": a.start,
                    "end_on": a.end,
                }
                for seq, a in enumerate(self.allocations)
            ],
        }


def horizon_for(facts: Sequence[Fact]) -> date:
    latest = max(max(local_day(f.occurred_at), local_day(f.recorded_at)) for f in facts)
    return latest + HORIZON


def derive(
    subject_id: str,
    facts: Sequence[Fact],
    context: AuthorityContext,
    horizon: date | None = None,
    related: Mapping[str, Sequence[Fact]] | None = None,
) -> Derived | None:
    """A subject's rows from its facts (in recorded order), corrections applied, and
    the facts of others its rules read (``related``, by staff id)."""
    current = known_facts(facts)
    who = profile(current)
    if who is None:
        return None
    others = {k: known_facts(v) for k, v in (related or {}).items()}
    until = horizon or horizon_for(facts)
    found = (
        obligations(current, context.pack, context.calendar, until, others)
        if context.pack is not None
        else []
    )
    depends_on = (
        sorted(str(worker_id(who.authority_code, s)) for s in who.supervisors)
        if who.subject == "worker"
        else []
    )
    return Derived(
        subject_id=subject_id,
        profile=who,
        pack_id=context.pack_id,
        pack_digest=context.pack.digest if context.pack is not None else None,
        authority_through=context.through,
        valid_until=until,
        through_position=max(f.position for f in facts),
        obligations=found,
        registers=registers(current, found),
        allocations=allocations(current) if who.subject == "child" else [],
        depends_on=[d for d in depends_on if d != subject_id],
        retention=schedule(who.subject, who.local_id, facts, context.pack),
    )


def _retention_row(
    subject_id: str,
    authority_code: str,
    subject_kind: str,
    local_id: str,
    team: str | None,
    item: ScheduleItem,
) -> dict[str, Any]:
    purged = item.purged
    return {
        "subject_id": subject_id,
        "record_class": item.record.record_class,
        "record_id": item.record.record_id,
        "authority_code": authority_code,
        "subject_kind": subject_kind,
        "local_id": local_id,
        "team": team,
        "rule_id": item.rule_id,
        "trigger": item.trigger,
        "trigger_date": item.trigger_date,
        "due_on": item.due_on,
        "held_by": ",".join(f"{h.hold_id} ({h.kind})" for h in item.holds) or None,
        "events": len(item.positions),
        "purged_on": date.fromisoformat(purged.purged_at[:10]) if purged else None,
        "authorised_by": purged.authorised_by if purged else None,
    }


def purged_subject_rows(subject_id: str, facts: Sequence[Fact]) -> list[dict[str, Any]]:
    """The tombstones of a subject whose own registration was purged: one row per
    record purged, from its ``RecordPurged`` facts (ADR 0012)."""
    purges = [f for f in facts if f.event_type == "RecordPurged"]
    whole = next((f for f in purges if f.data["record_class"] in (CHILD_RECORD, WORKER_FILE)), None)
    if whole is None:
        return []
    kind = "child" if whole.data["record_class"] == CHILD_RECORD else "worker"
    local_id = str(whole.data["record_id"])
    items = schedule(kind, local_id, facts, None)
    return [
        _retention_row(subject_id, str(whole.data["authority_code"]), kind, local_id, None, i)
        for i in items
    ]


def _replace(
    conn: Connection,
    tables: Mapping[str, Table],
    subject_ids: Sequence[str],
    operations: Sequence[Insert],
) -> None:
    """Replace the subjects' derived rows (COPY on PostgreSQL, as the engine writes)."""
    keyed = {
        "retention_schedule": "subject_id",
        "compliance_subject": "subject_id",
        "compliance_link": "subject_id",
        "compliance_obligation": "subject_id",
        "oversight_register": "subject_id",
        "case_allocation": "child_id",
    }
    for chunk in _chunks(subject_ids):
        for name, key in keyed.items():
            table = tables[name]
            conn.execute(delete(table).where(table.c[key].in_(chunk)))
    execute_operations(conn, tables, operations)


# -- reading ---------------------------------------------------------------------------------


def view(name: str) -> Table:
    """The stable view over the active generation's table."""
    return _VIEWS[name]


_VIEWS = {
    name: Table(name, MetaData(), *[Column(c.name, c.type) for c in table.columns])
    for name, table in Compliance(library=PackLibrary({})).define_tables(MetaData(), 0).items()
}


def end_of_day(day: date) -> datetime:
    """The last instant of a local day in England, for known-at and as-of bounds."""
    return datetime.combine(day, time(23, 59, 59, 999999), tzinfo=LONDON).astimezone(UTC)


@dataclass(frozen=True)
class SubjectCompliance:
    subject_id: str
    profile: Profile
    pack_id: str | None
    as_of: date
    known_at: datetime | None
    #: Where the answer came from: "stored" obligations, or "computed" from the facts.
    source: str
    findings: list[Finding]


def subject_facts(
    conn: Connection, subject_id: str, known_at: datetime | None = None
) -> list[Fact]:
    table = view("compliance_fact")
    query = select(table).where(table.c.subject_id == subject_id).order_by(table.c.position)
    if known_at is not None:
        query = query.where(table.c.recorded_at <= known_at)
    return [_fact(r) for r in conn.execute(query)]


def _stored_obligations(conn: Connection, subject_id: str) -> list[Obligation]:
    table = view("compliance_obligation")
    return [
        Obligation(
            rule_key=r.rule_key,
            rule_id=r.rule_id,
            kind=r.kind,
            arises_on=_day(r.arises_on),
            due_on=_day(r.due_on) if r.due_on is not None else None,
            satisfied_on=_day(r.satisfied_on) if r.satisfied_on is not None else None,
            evidence=tuple(orjson.loads(r.evidence)),
            detail=orjson.loads(r.detail),
        )
        for r in conn.execute(
            select(table).where(table.c.subject_id == subject_id).order_by(table.c.seq)
        )
    ]


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def is_settled(conn: Connection, subject_id: str, as_of: date) -> bool:
    """Whether the stored obligations answer for ``as_of``: settled, not marked dirty,
    and within the horizon they were computed to."""
    subject = view("compliance_subject")
    dirty = view("compliance_dirty")
    row = conn.execute(
        select(subject.c.valid_until).where(subject.c.subject_id == subject_id)
    ).one_or_none()
    if row is None or _day(row[0]) < as_of:
        return False
    marked = conn.execute(
        select(dirty.c.position).where(dirty.c.subject_id == subject_id).limit(1)
    ).first()
    return marked is None


@dataclass(frozen=True)
class Answer:
    """A subject's obligations, from the store of obligations or from its facts."""

    subject_id: str
    profile: Profile
    context: AuthorityContext
    obligations: list[Obligation]
    source: str  # "stored" | "computed"
    #: The subject's facts the answer rests on, corrections applied, valid-time order.
    facts: list[Fact] = field(default_factory=list)


def answer(
    conn: Connection,
    library: PackLibrary,
    subject_id: str,
    *,
    as_of: date,
    known_at: datetime | None = None,
) -> Answer | None:
    facts = subject_facts(conn, subject_id, known_at)
    current = known_facts(facts)
    who = profile(current)
    if who is None:
        return None
    context = authority_context(conn, _VIEWS, who.authority_code, library, known_at)
    if known_at is None and is_settled(conn, subject_id, as_of):
        stored = _stored_obligations(conn, subject_id)
        return Answer(subject_id, who, context, stored, "stored", current)
    horizon = max(horizon_for(facts), as_of)
    related = _related_of(supervisors_facts(conn, _VIEWS, [who], known_at), who)
    others = {k: known_facts(v) for k, v in related.items()}
    found = (
        obligations(current, context.pack, context.calendar, horizon, others)
        if context.pack is not None
        else []
    )
    return Answer(subject_id, who, context, found, "computed", current)


def evaluate(
    engine: Engine,
    library: PackLibrary,
    subject_id: str,
    *,
    as_of: date,
    known_at: datetime | None = None,
) -> SubjectCompliance | None:
    """A worker's or child's findings on ``as_of``, as known at ``known_at`` (now, if
    None). None if no such subject was recorded (by then)."""
    with engine.connect() as conn:
        found = answer(conn, library, subject_id, as_of=as_of, known_at=known_at)
    if found is None:
        return None
    pack = found.context.pack
    return SubjectCompliance(
        subject_id=subject_id,
        profile=found.profile,
        pack_id=found.context.pack_id,
        as_of=as_of,
        known_at=known_at,
        source=found.source,
        findings=findings(found.obligations, as_of, pack.due_soon) if pack is not None else [],
    )


def _active_tables() -> Mapping[str, Table]:
    return _VIEWS


# -- summaries by team and authority [POR-7, SHR-5.8] -----------------------------------------

#: How each obligation counts in a summary (``category``).
ON_TIME, LATE, MISSED, BREACHED, DUE_SOON = "on_time", "late", "missed", "breached", "due_soon"
CATEGORIES = (ON_TIME, LATE, MISSED, BREACHED, DUE_SOON)
#: The kinds whose windows close on their due day (``domain.policy.compliance.closes``).
CLOSING_KINDS = tuple(k for k in ("recurring", "minimum_count", "deadline") if closes(k))


def category(o: Obligation, as_of: date, since: date, soon: date) -> str | None:
    """An obligation's place in a summary for the period ``[since, as_of]``: fell due in
    it and was met on time, late, not at all by ``as_of`` (still open: missed), or is a
    window that closed without the act (breached); or is open and due by ``soon``. None:
    it does not count (not yet due, not applicable, outside)."""
    due = o.due_on
    if due is None or o.arises_on > as_of:
        return None
    done = o.satisfied_on if o.satisfied_on is not None and o.satisfied_on <= as_of else None
    # A window of a closing kind due today is still open: it counts as due soon.
    still_open = done is None and closes(o.kind) and due == as_of
    if since <= due <= as_of and not still_open:
        if done is None:
            return BREACHED if closed_without_act(o, as_of) else MISSED
        return ON_TIME if done <= due else LATE
    if as_of <= due <= soon and done is None:
        return DUE_SOON
    return None


@dataclass
class Tally:
    on_time: int = 0
    late: int = 0
    missed: int = 0
    due_soon: int = 0
    #: Windows that closed without the act (each missed window of a recurring or
    #: annual rule counts once).
    breached: int = 0

    @property
    def fell_due(self) -> int:
        return self.on_time + self.late + self.missed + self.breached

    @property
    def rate(self) -> float | None:
        """Share of what fell due that was done on time (None: nothing fell due)."""
        return self.on_time / self.fell_due if self.fell_due else None

    def add(self, name: str, count: int = 1) -> None:
        setattr(self, name, getattr(self, name) + count)


@dataclass
class Summary:
    authority_code: str
    pack_id: str | None
    as_of: date
    since: date
    #: (team, rule id) -> tally; team None for subjects with no team.
    cells: dict[tuple[str | None, str], Tally]
    #: Subjects answered from their facts (not settled, or past their horizon).
    computed_subjects: int

    def by_rule(self) -> dict[str, Tally]:
        return {str(k): v for k, v in self._fold(1).items()}

    def by_team(self) -> dict[str | None, Tally]:
        return {(None if k is None else str(k)): v for k, v in self._fold(0).items()}

    def overall(self) -> Tally:
        total = Tally()
        for tally in self.cells.values():
            for name in CATEGORIES:
                total.add(name, getattr(tally, name))
        return total

    def _fold(self, index: int) -> dict[str | None, Tally]:
        folded: dict[str | None, Tally] = {}
        for key, tally in self.cells.items():
            into = folded.setdefault(key[index], Tally())
            for name in CATEGORIES:
                into.add(name, getattr(tally, name))
        return dict(sorted(folded.items(), key=lambda item: str(item[0])))


def summary(
    engine: Engine,
    library: PackLibrary,
    authority_code: str,
    *,
    as_of: date,
    since: date | None = None,
    team: str | None = None,
) -> Summary:
    """Compliance rates by rule and team for what fell due in ``[since, as_of]`` (the
    year to ``as_of`` by default), and what falls due soon after it. Settled subjects are
    counted in the database; the few that are not are computed from their facts."""
    since = since or as_of - timedelta(days=365)
    o = view("compliance_obligation")
    s = view("compliance_subject")
    d = view("compliance_dirty")
    with engine.connect() as conn:
        context = authority_context(conn, _VIEWS, authority_code, library)
        soon = context.pack.due_soon.after(as_of, context.calendar) if context.pack else as_of
        settled = and_(
            s.c.authority_code == authority_code,
            s.c.valid_until >= as_of,
            ~s.c.subject_id.in_(select(d.c.subject_id)),
            *([s.c.team == team] if team is not None else []),
        )
        done = and_(o.c.satisfied_on.is_not(None), o.c.satisfied_on <= as_of)
        closing = o.c.kind.in_(CLOSING_KINDS)
        still_open = and_(~done, closing, o.c.due_on == as_of)
        category_sql = case(
            (
                and_(o.c.due_on >= since, o.c.due_on <= as_of, ~still_open),
                case(
                    (and_(~done, closing), literal(BREACHED)),
                    (~done, literal(MISSED)),
                    (o.c.satisfied_on <= o.c.due_on, literal(ON_TIME)),
                    else_=literal(LATE),
                ),
            ),
            (and_(o.c.due_on >= as_of, o.c.due_on <= soon, ~done), literal(DUE_SOON)),
            else_=literal(None),
        ).label("category")
        counted = (
            select(o.c.team, o.c.rule_id, category_sql, func.count().label("n"))
            .join(s, s.c.subject_id == o.c.subject_id)
            .where(
                settled,
                o.c.arises_on <= as_of,
                o.c.due_on >= since,
            )
            .group_by(o.c.team, o.c.rule_id, category_sql)
        )
        cells: dict[tuple[str | None, str], Tally] = {}
        for row in conn.execute(counted):
            if row.category is not None:
                cells.setdefault((row.team, row.rule_id), Tally()).add(row.category, int(row.n))
        unsettled = conn.execute(
            select(s.c.subject_id, s.c.team).where(
                s.c.authority_code == authority_code,
                ~settled,
                *([s.c.team == team] if team is not None else []),
            )
        ).all()
        never = conn.execute(
            select(d.c.subject_id).distinct().where(~d.c.subject_id.in_(select(s.c.subject_id)))
        ).scalars()
        candidates = {str(r.subject_id) for r in unsettled} | {str(i) for i in never}
        candidates -= {str(authority_id(authority_code))}
        computed = 0
        for subject_id in sorted(candidates):
            found = answer(conn, library, subject_id, as_of=as_of)
            if found is None or found.profile.authority_code != authority_code:
                continue
            if team is not None and found.profile.team != team:
                continue
            computed += 1
            for obligation in found.obligations:
                name = category(obligation, as_of, since, soon)
                if name is not None:
                    cells.setdefault((found.profile.team, obligation.rule_id), Tally()).add(name)
    return Summary(authority_code, context.pack_id, as_of, since, cells, computed)


# -- registers and queues --------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterRow:
    """One item of a register or queue, as it stood on ``as_of``."""

    subject_id: str
    subject_kind: str
    local_id: str
    team: str | None
    register: str
    item_id: str
    owner: str | None
    opened_on: date
    due_on: date | None
    closed_on: date | None
    rule_id: str | None
    evidence: tuple[int, ...]
    detail: Mapping[str, Any]
    as_of: date

    @property
    def open(self) -> bool:
        return self.closed_on is None or self.closed_on > self.as_of

    @property
    def age_days(self) -> int:
        """Days open, to ``as_of`` (or to closing)."""
        end = self.as_of if self.open or self.closed_on is None else self.closed_on
        return (end - self.opened_on).days

    @property
    def overdue_days(self) -> int | None:
        if self.due_on is None:
            return None
        end = self.as_of if self.open or self.closed_on is None else self.closed_on
        return max(0, (end - self.due_on).days)

    @property
    def days_since_escalation(self) -> int | None:
        """Disagreements: days at the current level (since raised, if never escalated)."""
        if self.register != "disagreement":
            return None
        last = self.detail.get("last_escalated_on")
        since = date.fromisoformat(str(last)) if last else self.opened_on
        return (self.as_of - since).days


def register_items(
    engine: Engine,
    authority_code: str,
    register: str,
    *,
    as_of: date,
    open_only: bool = True,
    team: str | None = None,
    limit: int = 500,
) -> list[RegisterRow]:
    """A register's items opened by ``as_of``, oldest due first (open ones only, by
    default: the queue as it stood that day)."""
    r = view("oversight_register")
    s = view("compliance_subject")
    query = (
        select(r, s.c.subject_kind, s.c.local_id)
        .join(s, s.c.subject_id == r.c.subject_id)
        .where(
            r.c.authority_code == authority_code,
            r.c.register == register,
            r.c.opened_on <= as_of,
        )
        .order_by(r.c.due_on.is_(None), r.c.due_on, r.c.opened_on, r.c.item_id)
        .limit(limit)
    )
    if open_only:
        query = query.where((r.c.closed_on.is_(None)) | (r.c.closed_on > as_of))
    if team is not None:
        query = query.where(r.c.team == team)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        RegisterRow(
            subject_id=str(row.subject_id),
            subject_kind=str(row.subject_kind),
            local_id=str(row.local_id),
            team=row.team,
            register=str(row.register),
            item_id=str(row.item_id),
            owner=row.owner,
            opened_on=_day(row.opened_on),
            due_on=_day(row.due_on) if row.due_on is not None else None,
            closed_on=_day(row.closed_on) if row.closed_on is not None else None,
            rule_id=row.rule_id,
            evidence=tuple(orjson.loads(row.evidence)),
            detail=orjson.loads(row.detail),
            as_of=as_of,
        )
        for row in rows
    ]


# -- tracking sheets ---------------------------------------------------------------------------


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
    return supervision_sheet(
        found.profile,
        found.facts,
        as_of,
        *_agreement_rule(found.context.pack),
        found=found.obligations,
        since=since,
    )


def case_tracker_for(
    engine: Engine,
    library: PackLibrary,
    authority_code: str,
    staff_id: str,
    *,
    start: date,
    end: date,
) -> CaseTracker | None:
    """Shropshire's case supervision tracker for one worker over ``[start, end]``."""
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
        context = authority_context(conn, _VIEWS, authority_code, library)
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
    return case_tracker(
        staff_id, worker_facts, children, start, end, _case_minimum(context.pack, library)
    )


def _case_minimum(pack: Pack | None, library: PackLibrary) -> Rule:
    """The rule the tracker checks each case against: the authority's own counted case
    supervision rule, else the one the sheet comes from (Shropshire's SHR-3.6e)."""
    for candidate in (pack, library.packs.get("SHR")):
        for rule in candidate.rules if candidate else ():
            if rule.subject == "child" and rule.kind == "minimum_count":
                return rule
    raise LookupError("no pack defines a counted case supervision rule (SHR-3.6e)")


def team_positions(engine: Engine, authority_code: str, team: str) -> dict[str, int]:
    """Each settled subject of a team, with the position its rows were computed through
    (a change shows as a higher position: the subscription's watermark)."""
    subject = view("compliance_subject")
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                subject.c.subject_id, subject.c.through_position, subject.c.authority_through
            ).where(subject.c.authority_code == authority_code, subject.c.team == team)
        ).all()
    return {str(r[0]): max(int(r[1]), int(r[2])) for r in rows}


# -- case lists -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseRow:
    subject_id: str
    local_id: str
    team: str | None
    allocated_worker: str | None


def case_list(
    engine: Engine,
    authority_code: str,
    *,
    team: str | None = None,
    first: int = 50,
    after: str | None = None,
    kind: str = "child",
) -> list[CaseRow]:
    """Children (or workers) of the authority or one team, by local id, keyset-paginated
    on it. For a worker, ``allocated_worker`` is their line manager."""
    subject = view("compliance_subject")
    holder = subject.c.worker_id if kind == "child" else subject.c.manager_id
    query = (
        select(subject.c.subject_id, subject.c.local_id, subject.c.team, holder)
        .where(subject.c.authority_code == authority_code, subject.c.subject_kind == kind)
        .order_by(subject.c.local_id)
        .limit(first)
    )
    if team is not None:
        query = query.where(subject.c.team == team)
    if after is not None:
        query = query.where(subject.c.local_id > after)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [CaseRow(str(r[0]), str(r[1]), r[2], r[3]) for r in rows]


@dataclass(frozen=True)
class OpenWork:
    """A subject's stored obligations on a day: how many are overdue, and the next due."""

    overdue: int
    next_due_on: date | None


def open_work(engine: Engine, subject_ids: Sequence[str], as_of: date) -> dict[str, OpenWork]:
    """For many subjects in one query (the API's DataLoader batches into this). Overdue:
    the deadlines open past their due day, and each rule whose last window to close did
    so without the act, with nothing done since (the act is still owed: the subject is
    behind on it, however many windows that has been)."""
    obligation = view("compliance_obligation")
    found: dict[str, list[Any]] = {s: [] for s in subject_ids}
    with engine.connect() as conn:
        for chunk in _chunks(subject_ids):
            rows = conn.execute(
                select(
                    obligation.c.subject_id,
                    obligation.c.due_on,
                    obligation.c.satisfied_on,
                    obligation.c.rule_key,
                    obligation.c.kind,
                    obligation.c.arises_on,
                    obligation.c.seq,
                ).where(
                    obligation.c.subject_id.in_(chunk),
                    obligation.c.arises_on <= as_of,
                    obligation.c.due_on.is_not(None),
                )
            ).all()
            for row in rows:
                found[str(row[0])].append(row)
    result: dict[str, OpenWork] = {}
    for subject_id, rows in found.items():
        open_rows = [r for r in rows if r.satisfied_on is None or _day(r.satisfied_on) > as_of]
        overdue = sum(1 for r in open_rows if not closes(r.kind) and _day(r.due_on) < as_of)
        windows: dict[str, list[Any]] = {}
        for r in rows:
            if closes(r.kind):
                windows.setdefault(str(r.rule_key), []).append(r)
        for chain in windows.values():
            chain.sort(key=lambda r: (_day(r.arises_on), int(r.seq)))
            current = chain[-1]
            if current.satisfied_on is not None and _day(current.satisfied_on) <= as_of:
                continue  # done in the window open now (or the last one): caught up
            closed = [r for r in chain if _day(r.due_on) < as_of]
            last = closed[-1] if closed else None
            if last is not None and (
                last.satisfied_on is None or _day(last.satisfied_on) > _day(last.due_on)
            ):
                overdue += 1
        upcoming = [_day(r.due_on) for r in open_rows if _day(r.due_on) >= as_of]
        result[subject_id] = OpenWork(overdue, min(upcoming) if upcoming else None)
    return result
