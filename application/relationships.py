"""The relationship table: who each subject is related to, part of the write model.

Write authorisation must read its own writes (issue 20, ADR 0020 addendum): before a
write is decided on the aggregates, the API checks that the caller may see every subject
it names, and a relationship changed a moment ago (a worker moved to a new manager, a
child reallocated, a worker moved team) must count at once. So the relationships are kept
in ``subject_relationship``, written by the recorder in the same transaction as the events
that change them, on every write path (one command, a batch, an atomic batch, a purge),
never by a projection that settles later.

This module is the one derivation of a row from the catalogue's events (``apply``,
``fold``: pure, the same whether a row is updated as each command writes or rebuilt from
a subject's whole history) and the table's shape and reads. Only the events in
``RELATIONSHIP_EVENTS`` change a row: a command that triggers none writes nothing here,
so the plain command keeps its one statement (benchmark 1).

A row mirrors what the aggregates decide on (``domain.authorization.worker_relations_of``
and ``child_relations_of``): a worker's team, line manager and the supervisors their
signed agreements name; a child's team and allocated worker. A subject whose own record
is purged keeps a row that says only that (ADR 0012): no team, no people.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    text,
)

from domain.events import (
    ChildRegistered,
    EventType,
    LineManagerChanged,
    RecordPurged,
    SupervisionAgreementSigned,
    TeamAllocated,
    UnknownEvent,
    WorkerAllocated,
    WorkerRegistered,
    WorkerTeamChanged,
    kind_of,
)
from domain.policy.retention import CHILD_RECORD, WORKER_FILE

TABLE = "subject_relationship"

#: The catalogue events that change a subject's relationships (and so its row).
RELATIONSHIP_EVENTS: frozenset[EventType] = frozenset(
    {
        WorkerRegistered,
        WorkerTeamChanged,
        LineManagerChanged,
        SupervisionAgreementSigned,
        ChildRegistered,
        WorkerAllocated,
        TeamAllocated,
        RecordPurged,
    }
)

#: The record classes whose purge is the purge of the subject itself.
OWN_RECORDS = frozenset({WORKER_FILE, CHILD_RECORD})

metadata = MetaData()

#: ``subject_id`` is the aggregate's id (str of the UUID); the lookups go by
#: (authority, kind, local id), the chain by (authority, kind, line manager).
subject_relationship = Table(
    TABLE,
    metadata,
    Column("subject_id", String(36), primary_key=True),
    Column("authority_code", String(64), nullable=False),
    Column("subject_kind", String(16), nullable=False),
    Column("local_id", String(64), nullable=False),
    Column("team", String(200), nullable=True),
    Column("line_manager_id", String(64), nullable=True),
    Column("allocated_worker_id", String(64), nullable=True),
    #: A worker's signed agreements: [[agreement id, supervisor id], ...], JSON.
    Column("supervisors", Text, nullable=False),
    Column("purged", Boolean, nullable=False),
    #: The aggregate version of the last event the row reflects.
    Column("version", Integer, nullable=False),
    Index(f"{TABLE}_local", "authority_code", "subject_kind", "local_id", unique=True),
)

#: The columns, in the order the recorders write them.
COLUMNS: tuple[str, ...] = tuple(c.name for c in subject_relationship.columns)


@dataclass(frozen=True)
class Relationship:
    """One subject's row."""

    subject_id: str
    authority_code: str
    subject_kind: str  # worker | child
    local_id: str
    team: str | None = None
    line_manager_id: str | None = None
    allocated_worker_id: str | None = None
    #: (agreement id, supervisor id), in the order the agreements were first signed.
    supervisors: tuple[tuple[str, str], ...] = ()
    purged: bool = False
    version: int = 0

    @property
    def supervisor_ids(self) -> list[str]:
        """The supervisors the worker's agreements name, first signed first, once each."""
        return list(dict.fromkeys(s for _, s in self.supervisors if s))

    def values(self) -> tuple[Any, ...]:
        """The row, in ``COLUMNS`` order."""
        return (
            self.subject_id,
            self.authority_code,
            self.subject_kind,
            self.local_id,
            self.team,
            self.line_manager_id,
            self.allocated_worker_id,
            orjson.dumps([list(pair) for pair in self.supervisors]).decode(),
            self.purged,
            self.version,
        )


def from_values(values: Sequence[Any]) -> Relationship:
    """A row read back (``COLUMNS`` order) as a ``Relationship``."""
    subject, authority, kind, local, team, manager, allocated, supervisors, purged, version = values
    return Relationship(
        subject_id=str(subject),
        authority_code=str(authority),
        subject_kind=str(kind),
        local_id=str(local),
        team=team,
        line_manager_id=manager,
        allocated_worker_id=allocated,
        supervisors=tuple((str(a), str(s)) for a, s in orjson.loads(supervisors)),
        purged=bool(purged),
        version=int(version),
    )


def _kind(event: object) -> EventType | None:
    try:
        return kind_of(event)
    except UnknownEvent:
        return None  # a purged event's tombstone, or not the catalogue's


#: Whether events of each class change a row (each class looked up once).
_CHANGES: dict[type, bool] = {}


def changes_relationships(event: object) -> bool:
    """Whether ``event`` changes its subject's row (by its class, looked up once: this
    runs on every command's events)."""
    cls = type(event)
    found = _CHANGES.get(cls)
    if found is None:
        found = _CHANGES[cls] = _kind(cls) in RELATIONSHIP_EVENTS
    return found


def apply(row: Relationship | None, event: Any) -> Relationship | None:
    """The row after ``event`` (an event of the subject's, in the order written). Pure:
    the one derivation, for the write paths and for a rebuild from the log alike."""
    kind = _kind(event)
    if kind not in RELATIONSHIP_EVENTS:
        return row
    version = int(event.originator_version)
    subject_id = str(event.originator_id)
    if kind is WorkerRegistered:
        return Relationship(
            subject_id,
            str(event.authority_code),
            "worker",
            str(event.staff_id),
            team=event.team,
            line_manager_id=event.line_manager_id,
            version=version,
        )
    if kind is ChildRegistered:
        return Relationship(
            subject_id, str(event.authority_code), "child", str(event.local_child_id),
            version=version,
        )  # fmt: skip
    if kind is RecordPurged and event.record_class in OWN_RECORDS:
        # The subject's own record is gone: the row says only that it was purged. Its
        # registration is a tombstone in the log now, so the event alone names it (the
        # record id of a subject's own record is its local id).
        return Relationship(
            subject_id,
            str(event.authority_code),
            "worker" if event.record_class == WORKER_FILE else "child",
            row.local_id if row is not None else str(event.record_id),
            purged=True,
            version=version,
        )
    if row is None or row.purged:
        return row  # nothing known to change (a purged subject takes no more events)
    if kind is WorkerTeamChanged:
        return replace(row, team=event.team, version=version)
    if kind is LineManagerChanged:
        return replace(row, line_manager_id=event.line_manager_id, version=version)
    if kind is SupervisionAgreementSigned:
        agreements = dict(row.supervisors)
        agreements[str(event.agreement_id)] = str(event.supervisor_id)
        return replace(row, supervisors=tuple(agreements.items()), version=version)
    if kind is WorkerAllocated:
        return replace(row, allocated_worker_id=event.worker_id, team=event.team, version=version)
    if kind is TeamAllocated:
        return replace(row, team=event.team, version=version)
    return row


def fold(events: Iterable[Any], row: Relationship | None = None) -> Relationship | None:
    """``apply`` over ``events``, from ``row`` (None: the subject's whole history)."""
    for event in events:
        row = apply(row, event)
    return row


def relationship_events(events: Iterable[Any]) -> dict[UUID, list[Any]]:
    """The events among ``events`` that change a row, by subject (written order kept).
    Empty for a command that changes no relationship: it then writes no row."""
    found: dict[UUID, list[Any]] = {}
    for event in events:
        if changes_relationships(event):
            found.setdefault(event.originator_id, []).append(event)
    return found


def updated_rows(
    changes: Mapping[UUID, Sequence[Any]], previous: Mapping[str, Relationship]
) -> list[Relationship]:
    """The rows ``changes`` leave, each folded from its row before (``previous``, by
    subject id as stored); a subject with no row and no registration writes none."""
    rows: list[Relationship] = []
    for subject_id, events in changes.items():
        row = fold(events, previous.get(str(subject_id)))
        if row is not None:
            rows.append(row)
    return rows


#: The last part of the stored topics of ``RELATIONSHIP_EVENTS``: a rebuild decodes only
#: the stored events whose topic ends in one of these.
RELATIONSHIP_NAMES: frozenset[str] = frozenset(k.__name__ for k in RELATIONSHIP_EVENTS)


def may_change(topic: str) -> bool:
    """Whether a stored event's topic may be one of ``RELATIONSHIP_EVENTS`` (cheap: the
    rest are never decoded by a rebuild)."""
    return topic.rsplit(".", 1)[-1].rsplit(":", 1)[-1] in RELATIONSHIP_NAMES


def rebuilt(events: Iterable[Any]) -> dict[str, Relationship]:
    """Every row, folded from ``events`` (the log, in order), by subject id."""
    rows: dict[str, Relationship] = {}
    for event in events:
        key = str(event.originator_id)
        row = apply(rows.get(key), event)
        if row is not None:
            rows[key] = row
    return rows


def from_log(app: Any, page: int = 5_000) -> dict[str, Relationship]:
    """Every row, rebuilt from ``app``'s whole log through the one derivation (only the
    events whose topic may change a relationship are decoded)."""

    def events() -> Iterable[Any]:
        start = 1
        while True:
            notifications = app.recorder.select_notifications(start=start, limit=page)
            for notification in notifications:
                if may_change(notification.topic):
                    yield app.mapper.to_domain_event(notification)
            if len(notifications) < page:
                return
            start = notifications[-1].id + 1

    return rebuilt(events())


def stored(engine: Engine) -> dict[str, Relationship]:
    """Every row of the table, by subject id."""
    with engine.connect() as conn:
        rows = conn.execute(select(*subject_relationship.columns)).all()
    return {r.subject_id: r for r in (from_values(tuple(row)) for row in rows)}


def differences(app: Any, engine: Engine) -> list[str]:
    """Where the table differs from the rows rebuilt from the log (empty: they agree):
    ``oversight db relationships verify``."""
    expected = from_log(app)
    found = stored(engine)
    problems: list[str] = []
    for subject_id in sorted(set(expected) | set(found)):
        want, have = expected.get(subject_id), found.get(subject_id)
        if want != have:
            who = want or have
            assert who is not None
            problems.append(
                f"{who.authority_code} {who.subject_kind} {who.local_id}: the table has "
                f"{_describe(have)}, the log says {_describe(want)}"
            )
    return problems


def rebuild(app: Any, engine: Engine) -> int:
    """Replace every row with the rows rebuilt from the log (after a restore, say), in
    one transaction that holds the events table's write lock, so no command writes
    meanwhile: ``oversight db relationships rebuild``. The number of rows."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"LOCK TABLE {app.recorder.events_table_name} IN EXCLUSIVE MODE"))
        else:  # SQLite: take the write lock now (readers go on, writers wait)
            conn.execute(text(f"DELETE FROM {TABLE} WHERE 0"))
        rows = from_log(app)
        conn.execute(delete(subject_relationship))
        if rows:
            conn.execute(
                insert(subject_relationship),
                [dict(zip(COLUMNS, r.values(), strict=True)) for r in rows.values()],
            )
    return len(rows)


def _describe(row: Relationship | None) -> str:
    if row is None:
        return "no row"
    if row.purged:
        return f"purged (version {row.version})"
    return (
        f"team={row.team!r} line_manager={row.line_manager_id!r} "
        f"allocated={row.allocated_worker_id!r} supervisors={row.supervisor_ids!r} "
        f"(version {row.version})"
    )


__all__ = [
    "COLUMNS",
    "OWN_RECORDS",
    "RELATIONSHIP_EVENTS",
    "TABLE",
    "Relationship",
    "apply",
    "changes_relationships",
    "differences",
    "fold",
    "from_log",
    "from_values",
    "may_change",
    "rebuild",
    "rebuilt",
    "relationship_events",
    "stored",
    "subject_relationship",
    "updated_rows",
]
