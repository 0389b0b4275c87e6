"""Point-in-time (bitemporal) history of a child or a worker (ADR 0007).

Two independent axes:

- **as of** a valid time V: only what had happened in the world by V
  (``occurred_at <= V``);
- **as known at** a system time K: only what had been recorded by K
  (``recorded_at <= K``).

A correction supersedes an entry's fields from the correction's ``recorded_at`` onwards:
known at any earlier K, the original stands. A correction changes what is known about the
entry's own valid time, so the as-of axis filters the entry, never the correction.

Table ``subject_history``: one row per event on a subject, with both times, the entry it
concerns and the event's fields as JSON. ``state`` reads the rows through the subject's
timeline (``domain.policy.timeline``, the one fold compliance and registers read too):
attributes (latest by valid time) and entries (fields merged in valid-time order,
corrections applied in recorded order). ``replay_known_at`` is the source of truth it is checked
against: the aggregate rebuilt from the event store up to the last version recorded by K.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

import orjson
from eventsourcing.persistence import Notification
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
)

from domain.events import (
    ActionCompleted,
    DisagreementEscalated,
    EntryCorrected,
    EntrySignaturesVoided,
    EventType,
    RecordPurged,
    kind_of,
)
from domain.policy.timeline import ENTRIES, Fact, Timeline
from projections.engine import Delete, Insert, Operation, generation_table_name, utc

SKIPPED_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "provenance", "originator_topic"}
)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot store {type(value).__name__} in history")


def dumps(value: Any) -> str:
    """Event fields as JSON (orjson: dates ISO 8601, UUIDs and decimals as strings,
    dataclasses as objects, keys sorted). Measured: a third of the stdlib's cost."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_SORT_KEYS).decode()


def jsonable(value: Any) -> Any:
    """A value as it reads back from the history's JSON (for comparisons)."""
    return orjson.loads(dumps(value))


Fields = dict[str, Any]

#: Events that concern an entry without setting its fields: their rows name it too.
REFERRING: tuple[EventType, ...] = (
    EntryCorrected,
    EntrySignaturesVoided,
    DisagreementEscalated,
    ActionCompleted,
)


# -- the projection ------------------------------------------------------------------------


@dataclass
class SubjectHistory:
    name: ClassVar[str] = "subject_history"
    table_names: ClassVar[tuple[str, ...]] = ("subject_history",)

    def define_tables(self, metadata: MetaData, generation: int) -> dict[str, Table]:
        name = generation_table_name("subject_history", generation)
        table = Table(
            name,
            metadata,
            Column("position", BigInteger, primary_key=True, autoincrement=False),
            Column("subject_id", String(36), nullable=False),
            Column("version", Integer, nullable=False),
            Column("event_type", String(80), nullable=False),
            Column("occurred_at", DateTime(timezone=True), nullable=False),
            Column("recorded_at", DateTime(timezone=True), nullable=False),
            Column("entry_ref", String(200), nullable=True),
            Column("data", Text, nullable=False),
            Index(f"{name}_subject", "subject_id", "position"),
        )
        return {"subject_history": table}

    def handle(self, event: Any, notification: Notification) -> Sequence[Operation]:
        provenance = getattr(event, "provenance", None)
        if provenance is None:
            return []
        kind = kind_of(event)
        data = {k: v for k, v in vars(event).items() if k not in SKIPPED_FIELDS}
        ref = None
        entry = ENTRIES.get(kind)
        if entry is not None:
            ref = str(data[entry.ref])
        elif kind in REFERRING:
            ref = data.get("entry_id") or data.get("disagreement_id") or data.get("action_id")
        # A purge deletes its record's rows (a rebuild never writes them: the tombstones
        # carry no provenance); the purge itself stays on the history (ADR 0012).
        purged: list[Operation] = (
            [
                # By position alone: a purged year of an access log is on its own
                # aggregate, not the subject's.
                Delete("subject_history", {"position": list(event.positions)})
            ]
            if kind is RecordPurged
            else []
        )
        return [
            *purged,
            Insert(
                "subject_history",
                {
                    "position": notification.id,
                    "subject_id": str(event.originator_id),
                    "version": event.originator_version,
                    "event_type": kind.__name__,
                    "occurred_at": utc(provenance.occurred_at),
                    "recorded_at": utc(event.timestamp),
                    "entry_ref": ref,
                    "data": dumps(data),
                },
            ),
        ]


@dataclass(frozen=True)
class HistoryRow(Fact):
    """One row of a subject's history. It is a fact of the subject's timeline as it
    stands, so the fold reads the rows themselves: building a second object per row cost
    as much as the rest of the fold (issue 18)."""

    version: int
    entry_ref: str | None


@dataclass
class SubjectState:
    """A subject as of a valid time and as known at a system time."""

    attributes: Fields = field(default_factory=dict)
    entries: dict[str, Fields] = field(default_factory=dict)
    #: Versions of the events the answer used (for evidence and for the store check).
    versions: list[int] = field(default_factory=list)

    @property
    def exists(self) -> bool:
        return bool(self.versions)


_view = Table(
    "subject_history",
    MetaData(),
    *[
        Column(c.name, c.type)
        for c in SubjectHistory().define_tables(MetaData(), 0)["subject_history"].columns
    ],
)


_columns = (
    _view.c.position,
    _view.c.event_type,
    _view.c.occurred_at,
    _view.c.recorded_at,
    _view.c.data,
    _view.c.version,
    _view.c.entry_ref,
)


def fetched(engine: Engine, subject_id: UUID | str) -> Sequence[Any]:
    """The subject's stored rows in recorded order (its log positions), as the driver
    gives them: ``decoded`` makes them ``HistoryRow``s. One statement, so on PostgreSQL it
    runs in autocommit: no BEGIN before it nor ROLLBACK after it, two of the read's round
    trips (its one statement is its own snapshot). Apart, so that a reader may fetch
    while another thread waits on the database, and decode after (ADR 0036)."""
    connection = engine.connect()
    if engine.dialect.name == "postgresql":
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
    with connection as conn:
        return conn.execute(
            select(*_columns)
            .where(_view.c.subject_id == str(subject_id))
            .order_by(_view.c.position)
        ).all()


def decoded(stored: Sequence[Any]) -> list[HistoryRow]:
    """``fetched`` rows as the timeline's facts."""
    return [
        HistoryRow(
            int(position),
            event_type,
            utc(occurred_at),
            utc(recorded_at),
            orjson.loads(data),
            int(version),
            entry_ref,
        )
        for position, event_type, occurred_at, recorded_at, data, version, entry_ref in stored
    ]


def rows(engine: Engine, subject_id: UUID | str) -> list[HistoryRow]:
    """The subject's rows in recorded order (its log positions)."""
    return decoded(fetched(engine, subject_id))


def history(
    engine: Engine,
    subject_id: UUID | str,
    *,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
) -> list[HistoryRow]:
    """The events that had happened by ``as_of`` and were recorded by ``known_at``, in the
    order they happened (valid time), ties in recorded order."""
    return visible(rows(engine, subject_id), as_of=as_of, known_at=known_at)


def visible(
    all_rows: Sequence[HistoryRow], *, as_of: datetime | None, known_at: datetime | None
) -> list[HistoryRow]:
    """``history`` of rows already read."""
    selected = [r for r in all_rows if _visible(r, as_of, known_at)]
    return sorted(selected, key=lambda r: (r.occurred_at, r.position))


def read(
    engine: Engine,
    subject_id: UUID | str,
    *,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
) -> tuple[SubjectState, list[HistoryRow]]:
    """``state`` and ``history`` together from one read of the subject's rows: the API
    answers both, and reading and decoding the rows is most of either."""
    return answer(rows(engine, subject_id), as_of=as_of, known_at=known_at)


def answer(
    all_rows: Sequence[HistoryRow], *, as_of: datetime | None, known_at: datetime | None
) -> tuple[SubjectState, list[HistoryRow]]:
    """``read`` of rows already read."""
    return (
        fold(all_rows, as_of=as_of, known_at=known_at),
        visible(all_rows, as_of=as_of, known_at=known_at),
    )


def _visible(row: HistoryRow, as_of: datetime | None, known_at: datetime | None) -> bool:
    if known_at is not None and row.recorded_at > known_at:
        return False
    return as_of is None or row.occurred_at <= as_of


def state(
    engine: Engine,
    subject_id: UUID | str,
    *,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
) -> SubjectState:
    return fold(rows(engine, subject_id), as_of=as_of, known_at=known_at)


def fold(
    all_rows: Sequence[HistoryRow], *, as_of: datetime | None, known_at: datetime | None
) -> SubjectState:
    """The state from history rows (in recorded order): the subject's timeline known at
    ``known_at``, read as of ``as_of`` (``Timeline.attributes_at``, ``entries_at``). The
    rows are the timeline's facts (``HistoryRow``)."""
    timeline = Timeline(all_rows, known_at)
    entries, used = timeline.entries_at(as_of)
    version = {r.position: r.version for r in all_rows}
    return SubjectState(
        attributes=timeline.attributes_at(as_of),
        entries=entries,
        versions=sorted(version[p] for p in used),
    )


# -- the source of truth -----------------------------------------------------------------


def last_version_known_at(events: Sequence[Any], known_at: datetime) -> int | None:
    """The last version of an aggregate recorded by ``known_at``."""
    version = None
    for domain_event in events:
        if domain_event.timestamp <= known_at:
            version = domain_event.originator_version
    return version


def differences(projected: SubjectState, aggregate: Any) -> list[str]:
    """Where the projection's state (as of the end of time, known at K) disagrees with the
    aggregate replayed from the store to its last version known at K."""
    found: list[str] = []
    for ref, entry in getattr(aggregate, "entries", {}).items():
        mine = projected.entries.get(ref)
        if mine is None:
            found.append(f"entry {ref} missing from the projection")
            continue
        for key, value in entry.current().items():
            if key in mine and jsonable(value) != mine[key]:
                found.append(f"entry {ref}.{key}: projection {mine[key]!r}, store {value!r}")
    checks: Mapping[str, Callable[[Any], Any]] = (
        {
            "case_type": lambda a: a.case_type.value,
            "risk_level": lambda a: a.risk_level.value,
            "allocated_worker_id": lambda a: a.allocated_worker_id,
            "team": lambda a: a.team,
            "in_care": lambda a: a.in_care,
            "legal_status": lambda a: a.legal_status,
            "placement": lambda a: a.placement,
        }
        if hasattr(aggregate, "case_type")
        else {
            "role": lambda a: a.employment.role.value,
            "team": lambda a: a.employment.team,
            "line_manager_id": lambda a: a.employment.line_manager_id,
            "employment_pattern": lambda a: a.employment.pattern.value,
        }
    )
    for key, read in checks.items():
        expected = jsonable(read(aggregate))
        actual = projected.attributes.get(key, None if key != "in_care" else False)
        if actual != expected:
            found.append(f"attribute {key}: projection {actual!r}, store {expected!r}")
    if hasattr(aggregate, "triggers"):
        for trigger_id, trigger in aggregate.triggers.items():
            if projected.entries.get(trigger_id, {}).get("answered_by") != trigger.answered_by:
                found.append(f"trigger {trigger_id} answered_by differs")
    return found


def verify(
    engine: Engine,
    subject_id: UUID,
    known_at: datetime,
    stored_events: Callable[[UUID], Sequence[Any]],
    aggregate_at: Callable[[UUID, int], Any],
) -> list[str]:
    """Compare the projection's state known at ``known_at`` with the aggregate replayed
    from the event store to its last version recorded by then. Empty means they agree."""
    version = last_version_known_at(stored_events(subject_id), known_at)
    projected = state(engine, subject_id, known_at=known_at)
    if version is None:
        return (
            []
            if not projected.exists
            else ["the projection shows a subject the store did not know yet"]
        )
    return differences(projected, aggregate_at(subject_id, version))
