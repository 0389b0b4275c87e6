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
concerns and the event's fields as JSON. ``state`` folds the rows into attributes
(latest by valid time) and entries (fields merged in valid-time order, corrections
applied in recorded order). ``replay_known_at`` is the source of truth it is checked
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


# -- what each event means for the state ---------------------------------------------------

Fields = dict[str, Any]

#: Attribute changes: event name -> the attributes it sets (from the event's fields).
ATTRIBUTES: dict[str, Callable[[Fields], Fields]] = {
    "WorkerRegistered": lambda d: {
        k: d[k]
        for k in (
            "staff_id",
            "display_name",
            "role",
            "team",
            "line_manager_id",
            "employment_pattern",
            "fte",
            "weekly_hours",
            "engagement",
            "start_date",
            "case_holding",
            "nqsw_asye_start",
        )
    },
    "WorkerRoleChanged": lambda d: {"role": d["role"]},
    "WorkerTeamChanged": lambda d: {"team": d["team"]},
    "LineManagerChanged": lambda d: {"line_manager_id": d["line_manager_id"]},
    "WorkingPatternChanged": lambda d: {
        "employment_pattern": d["employment_pattern"],
        "fte": d["fte"],
        "weekly_hours": d["weekly_hours"],
    },
    "WorkerLeftEmployment": lambda d: {"left_on": d["last_day"]},
    "ChildRegistered": lambda d: {
        k: d[k]
        for k in (
            "local_child_id",
            "date_of_birth",
            "expected_date_of_birth",
            "case_type",
            "risk_level",
            "rag",
            "name",
        )
    },
    "WorkerAllocated": lambda d: {"allocated_worker_id": d["worker_id"], "team": d["team"]},
    "TeamAllocated": lambda d: {"team": d["team"]},
    "CaseTypeChanged": lambda d: {"case_type": d["case_type"]},
    "ThresholdChanged": lambda d: {"threshold": d["threshold"]},
    "RiskLevelChanged": lambda d: {
        "risk_level": d["risk_level"],
        **({"rag": d["rag"]} if d.get("rag") else {}),
    },
    "LegalStatusChanged": lambda d: {"legal_status": d["legal_status"]},
    "ChildCameIntoCare": lambda d: {
        "in_care": True,
        "legal_status": d["legal_status"],
        "placement": d["placement"],
    },
    "PlacementChanged": lambda d: {"placement": d["placement"]},
    "ChildReturnedHome": lambda d: {"in_care": False, "placement": None},
    "CaseClosed": lambda d: {"closed": d["kind"]},
}

#: Entry changes: event name -> (entry kind, field holding the entry id, fields it sets).
ENTRIES: dict[str, tuple[str, str, Callable[[Fields], Fields]]] = {
    "SupervisionAgreementSigned": (
        "supervision_agreement",
        "agreement_id",
        lambda d: {
            k: d[k]
            for k in (
                "supervisor_id",
                "frequency",
                "supervision_format",
                "review_due_on",
                "escalation_manager_id",
            )
        },
    ),
    "SupervisionAgreementReviewed": (
        "supervision_agreement",
        "agreement_id",
        lambda d: {"review_due_on": d["next_review_due_on"]},
    ),
    "SupervisionSessionScheduled": (
        "supervision_session",
        "session_id",
        lambda d: {
            "supervisor_id": d["supervisor_id"],
            "scheduled_for": d["scheduled_for"],
            "status": "scheduled",
        },
    ),
    "SupervisionSessionRescheduled": (
        "supervision_session",
        "session_id",
        lambda d: {"scheduled_for": d["new_scheduled_for"]},
    ),
    "SupervisionSessionCancelled": (
        "supervision_session",
        "session_id",
        lambda d: {"status": "cancelled", "cancellation_reason": d["reason"]},
    ),
    "SupervisionSessionHeld": (
        "supervision_session",
        "session_id",
        lambda d: {
            "status": "held",
            "supervisor_id": d["supervisor_id"],
            "duration_minutes": d["duration_minutes"],
            "functions_covered": d["functions_covered"],
            "wellbeing_discussed": d["wellbeing_discussed"],
            "equality_and_diversity_discussed": d["equality_and_diversity_discussed"],
        },
    ),
    "PersonalSupervisionRecordWritten": (
        "personal_record",
        "record_id",
        lambda d: {
            k: d[k]
            for k in (
                "session_id",
                "actions_reviewed",
                "wellbeing",
                "workload",
                "development",
                "disagreements",
            )
        },
    ),
    "PersonalSupervisionRecordSigned": (
        "personal_record",
        "record_id",
        lambda d: {
            f"signed_by_{d['signatory']}": True,
            **({"differing_view": d["differing_view"]} if d.get("differing_view") else {}),
        },
    ),
    "PersonalRecordCommentRemoved": (
        "personal_record",
        "record_id",
        lambda d: {d["field_name"]: None},
    ),
    "CaseSupervisionRecorded": (
        "case_supervision",
        "entry_id",
        lambda d: {
            k: d[k]
            for k in (
                "worker_id",
                "supervisor_id",
                "session_id",
                "current_situation",
                "child_last_seen_on",
                "childs_views",
                "reflection",
                "analysis",
                "decision",
                "rationale",
                "previous_actions_reviewed",
            )
        },
    ),
    "OversightTriggered": (
        "oversight_trigger",
        "trigger_id",
        lambda d: {"kind": d["kind"], "automatic": d["automatic"], "answered_by": None},
    ),
    "ManagementOversightRecorded": (
        "management_oversight",
        "entry_id",
        lambda d: {
            k: d[k]
            for k in (
                "answers_trigger_ids",
                "reason",
                "current_situation",
                "decision",
                "rationale",
                "decision_maker_id",
                "decision_maker_role",
            )
        },
    ),
    "ManagementDecisionRecorded": (
        "management_decision",
        "entry_id",
        lambda d: {
            k: d[k] for k in ("decision", "rationale", "consulted_by", "recorded_by_instruction_of")
        },
    ),
    "DisagreementRaised": (
        "disagreement",
        "disagreement_id",
        lambda d: {
            "subject": d["subject"],
            "about": d["about"],
            "escalations": 0,
            "resolution": None,
        },
    ),
    "DisagreementResolved": (
        "disagreement",
        "disagreement_id",
        lambda d: {"resolution": d["resolution"]},
    ),
    "LegalHoldPlaced": (
        "legal_hold",
        "hold_id",
        lambda d: {"kind": d["kind"], "reference": d["reference"], "lifted": False},
    ),
    "LegalHoldLifted": ("legal_hold", "hold_id", lambda d: {"lifted": True}),
    "GroupSupervisionAttended": (
        "group_supervision",
        "group_session_id",
        lambda d: {"facilitator_id": d["facilitator_id"], "topic": d["topic"]},
    ),
    "DirectObservationRecorded": (
        "direct_observation",
        "observation_id",
        lambda d: {"observer_id": d["observer_id"], "summary": d["summary"]},
    ),
    "AppraisalHeld": ("appraisal", "appraisal_id", lambda d: {"kind": d["kind"]}),
    "GroupSupervisionDiscussionRecorded": (
        "group_discussion",
        "entry_id",
        lambda d: {k: d[k] for k in ("group_session_id", "facilitator_id", "summary")},
    ),
}


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
        name = type(event).__name__
        provenance = getattr(event, "provenance", None)
        if provenance is None:
            return []
        data = {k: v for k, v in vars(event).items() if k not in SKIPPED_FIELDS}
        ref = None
        if name in ENTRIES:
            ref = str(data[ENTRIES[name][1]])
        elif name in (
            "EntryCorrected",
            "EntrySignaturesVoided",
            "DisagreementEscalated",
            "ActionCompleted",
        ):
            ref = data.get("entry_id") or data.get("disagreement_id") or data.get("action_id")
        # A purge deletes its record's rows (a rebuild never writes them: the tombstones
        # carry no provenance); the purge itself stays on the history (ADR 0012).
        purged: list[Operation] = (
            [
                # By position alone: a purged year of an access log is on its own
                # aggregate, not the subject's.
                Delete("subject_history", {"position": list(event.positions)})
            ]
            if name == "RecordPurged"
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
                    "event_type": name,
                    "occurred_at": utc(provenance.occurred_at),
                    "recorded_at": utc(event.timestamp),
                    "entry_ref": ref,
                    "data": dumps(data),
                },
            ),
        ]


@dataclass(frozen=True)
class HistoryRow:
    position: int
    version: int
    event_type: str
    occurred_at: datetime
    recorded_at: datetime
    entry_ref: str | None
    data: Fields


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


def rows(engine: Engine, subject_id: UUID | str) -> list[HistoryRow]:
    with engine.connect() as conn:
        result = (
            conn.execute(
                select(_view)
                .where(_view.c.subject_id == str(subject_id))
                .order_by(_view.c.position)
            )
            .mappings()
            .all()
        )
    return [
        HistoryRow(
            int(r["position"]),
            int(r["version"]),
            r["event_type"],
            utc(r["occurred_at"]),
            utc(r["recorded_at"]),
            r["entry_ref"],
            orjson.loads(r["data"]),
        )
        for r in result
    ]


def history(
    engine: Engine,
    subject_id: UUID | str,
    *,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
) -> list[HistoryRow]:
    """The events that had happened by ``as_of`` and were recorded by ``known_at``, in the
    order they happened (valid time), ties in recorded order."""
    selected = [r for r in rows(engine, subject_id) if _visible(r, as_of, known_at)]
    return sorted(selected, key=lambda r: (r.occurred_at, r.position))


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
    """The state from history rows (in recorded order)."""
    known = [r for r in all_rows if known_at is None or r.recorded_at <= known_at]
    happened = sorted(
        (r for r in known if as_of is None or r.occurred_at <= as_of),
        key=lambda r: (r.occurred_at, r.position),
    )
    result = SubjectState()
    for row in happened:
        result.versions.append(row.version)
        if row.event_type in ATTRIBUTES:
            result.attributes.update(ATTRIBUTES[row.event_type](row.data))
        if row.event_type in ENTRIES:
            kind, ref_field, fields = ENTRIES[row.event_type]
            entry = result.entries.setdefault(row.data[ref_field], {"kind": kind})
            entry.update(fields(row.data))
        elif row.event_type == "DisagreementEscalated":
            entry = result.entries.setdefault(row.data["disagreement_id"], {})
            entry["escalations"] = int(entry.get("escalations", 0)) + 1
            entry["level"] = row.data["level"]
        if row.event_type == "ManagementOversightRecorded":
            for trigger_id in row.data["answers_trigger_ids"]:
                result.entries.setdefault(trigger_id, {})["answered_by"] = row.data["entry_id"]
    # Corrections: in recorded order, to entries that are in the answer at all. A
    # correction to a signed record voids its signatures (ADR 0020): a party reads as
    # unsigned unless they signed again after it (recorded later, and in the answer).
    for row in known:
        entry_id = row.data.get("entry_id")
        if row.event_type == "EntryCorrected" and entry_id in result.entries:
            result.entries[entry_id].update(row.data["changes"])
            result.versions.append(row.version)
        elif row.event_type == "EntrySignaturesVoided" and entry_id in result.entries:
            for party in row.data["voided"]:
                if not _signed_again(happened, entry_id, party, after=row.position):
                    result.entries[entry_id][f"signed_by_{party}"] = False
            result.versions.append(row.version)
    result.versions.sort()
    return result


def _signed_again(rows: Sequence[HistoryRow], entry_id: str, party: str, *, after: int) -> bool:
    """Whether ``party`` signed ``entry_id`` again in ``rows`` after ``after``."""
    return any(
        r.position > after
        and r.event_type in SIGNATURES
        and str(r.data.get(SIGNATURES[r.event_type])) == entry_id
        and r.data.get("signatory") == party
        for r in rows
    )


#: Events by which a party signs an entry, and the field naming the entry.
SIGNATURES = {
    "PersonalSupervisionRecordSigned": "record_id",
    "DirectObservationSigned": "observation_id",
}


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
