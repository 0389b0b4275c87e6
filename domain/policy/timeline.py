"""A subject's timeline: the one fold of the facts recorded on a worker or child, which
every read side (compliance, registers, tracking sheets, history) shares (issue 18).

A *fact* is one recorded event on the subject: its position in the log, its catalogue
class, when it happened (valid time) and when it was recorded (system time), and its
fields as stored.

Days are local days in England (Europe/London): an event at 00:30 BST on 1 June counts
on 1 June.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import lru_cache
from operator import attrgetter
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from domain.events import (
    AppraisalHeld,
    AssessmentCompleted,
    CareBeganBeforeRecord,
    CareEpisodeCorrected,
    CaseClosed,
    CaseFileAudited,
    CaseSupervisionRecorded,
    CaseTypeChanged,
    ChildCameIntoCare,
    ChildInNeedEpisodeClosed,
    ChildInNeedPlanStarted,
    ChildProtectionPlanEnded,
    ChildProtectionPlanReviewed,
    ChildProtectionPlanStarted,
    ChildRegistered,
    ChildReturnedHome,
    DirectObservationRecorded,
    DirectObservationSigned,
    DisagreementEscalated,
    DisagreementRaised,
    DisagreementResolved,
    EntryCorrected,
    EntrySignaturesVoided,
    EventType,
    GroupSupervisionAttended,
    GroupSupervisionDiscussionRecorded,
    InitialChildProtectionConferenceHeld,
    LegalHoldLifted,
    LegalHoldPlaced,
    LegalStatusChanged,
    LineManagerChanged,
    ManagementDecisionRecorded,
    ManagementOversightRecorded,
    OversightTriggered,
    PeriodOfCareEnded,
    PersonalRecordCommentRemoved,
    PersonalSupervisionRecordSigned,
    PersonalSupervisionRecordWritten,
    PlacementChanged,
    QualityAuditDisputed,
    QualityAuditModerated,
    ReferralReceived,
    RiskLevelChanged,
    Section47EnquiryStarted,
    SupervisionAgreementReviewed,
    SupervisionAgreementSigned,
    SupervisionFileAudited,
    SupervisionSessionCancelled,
    SupervisionSessionHeld,
    SupervisionSessionRescheduled,
    SupervisionSessionScheduled,
    TeamAllocated,
    ThresholdChanged,
    WorkerAllocated,
    WorkerLeftEmployment,
    WorkerRegistered,
    WorkerRoleChanged,
    WorkerTeamChanged,
    WorkingPatternChanged,
    named,
)

LONDON = ZoneInfo("Europe/London")
T = TypeVar("T")


def local_day(moment: datetime) -> date:
    """The day in England at ``moment``. England's offsets from UTC are whole hours and
    change on the hour (since 1900), so the day of a UTC hour is worked out once per
    hour: three million times in a medium rebuild, a third of it in ``astimezone``."""
    if moment.tzinfo is UTC and moment.year >= _WHOLE_HOURS_SINCE:
        return _day_of_utc_hour(moment.year, moment.month, moment.day, moment.hour)
    return moment.astimezone(LONDON).date()


_WHOLE_HOURS_SINCE = 1900


@lru_cache(maxsize=1 << 17)
def _day_of_utc_hour(year: int, month: int, day: int, hour: int) -> date:
    return datetime(year, month, day, hour, tzinfo=UTC).astimezone(LONDON).date()


class _computed_once(Generic[T]):  # noqa: N801 (a decorator, named like one)
    """``functools.cached_property`` without its lock: Python 3.11's takes an RLock on
    every first read, which cost more than the value (a day per fact, a million facts in
    a medium rebuild). Two threads reading it first at once both compute the same value:
    it is pure, so nothing is lost."""

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self.compute = compute
        self.name = compute.__name__

    def __get__(self, instance: Any, owner: type | None = None) -> T:
        value = self.compute(instance)
        instance.__dict__[self.name] = value  # read from there from now on
        return value


@dataclass(frozen=True)
class Fact:
    """One recorded event on the subject, its fields as stored (JSON values)."""

    position: int
    event_type: str
    occurred_at: datetime
    recorded_at: datetime
    data: Mapping[str, Any]

    @_computed_once
    def kind(self) -> EventType:
        """The event's catalogue class (``domain.events``)."""
        return named(self.event_type)

    @_computed_once
    def day(self) -> date:
        """The local day in England it happened on (computed once: rules ask often)."""
        return local_day(self.occurred_at)


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return local_day(value)
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


# -- what each event means for the subject -------------------------------------------------
#
# The one table of what an event sets. Compliance (a subject's life), registers (its
# profile) and history (its state at a valid and a system time) all read these.

Fields = dict[str, Any]
Data = Mapping[str, Any]


def _pick(*names: str) -> Callable[[Data], Fields]:
    """The named fields the event carries (a hand-made fact may carry fewer)."""
    return lambda d: {k: d[k] for k in names if k in d}


#: Attribute changes: event class -> the attributes it sets (from the event's fields).
ATTRIBUTES: Mapping[EventType, Callable[[Data], Fields]] = {
    WorkerRegistered: _pick(
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
    ),
    WorkerRoleChanged: _pick("role"),
    WorkerTeamChanged: _pick("team"),
    LineManagerChanged: _pick("line_manager_id"),
    WorkingPatternChanged: _pick("employment_pattern", "fte", "weekly_hours"),
    WorkerLeftEmployment: lambda d: {"left_on": d.get("last_day")},
    ChildRegistered: _pick(
        "local_child_id",
        "date_of_birth",
        "expected_date_of_birth",
        "case_type",
        "risk_level",
        "rag",
        "name",
    ),
    WorkerAllocated: lambda d: {"allocated_worker_id": d.get("worker_id"), "team": d.get("team")},
    TeamAllocated: _pick("team"),
    CaseTypeChanged: _pick("case_type"),
    ThresholdChanged: _pick("threshold"),
    RiskLevelChanged: lambda d: {
        "risk_level": d.get("risk_level"),
        **({"rag": d["rag"]} if d.get("rag") else {}),
    },
    LegalStatusChanged: _pick("legal_status"),
    ChildCameIntoCare: lambda d: {
        "in_care": True,
        "legal_status": d.get("legal_status"),
        "placement": d.get("placement"),
    },
    PlacementChanged: _pick("placement"),
    ChildReturnedHome: lambda d: {"in_care": False, "placement": None},
    PeriodOfCareEnded: lambda d: {"in_care": False, "placement": None},
    # ADR 0025: a child looked after, as the SSDA903 return gives it.
    CareBeganBeforeRecord: lambda d: {"in_care": True},
    CareEpisodeCorrected: lambda d: (
        {k: v for k, v in d.get("changes", {}).items() if k in ("placement", "legal_status")}
        if d.get("current")
        else {}
    ),
    CaseClosed: lambda d: {"closed": d.get("kind")},
}

#: The events that register a worker or a child.
REGISTRATIONS: tuple[EventType, ...] = (WorkerRegistered, ChildRegistered)


@dataclass(frozen=True)
class EntryEvent:
    """What an event means for the entry it concerns."""

    kind: str  # the entry's kind (the aggregates' ``Entry.kind``)
    ref: str  # the field naming the entry
    fields: Callable[[Data], Fields]  # the fields it sets
    #: Its fact carries the fields a correction supersedes (the aggregates' CORRECTABLE
    #: kinds): a correction amends the latest such fact of the entry.
    correctable: bool = False


def _audit_fields(d: Data) -> Fields:
    """What every audit sets: graded, and neither disputed nor moderated yet."""
    return {
        **_pick("auditor_id", "period_from", "period_to", "answers", "judgement", "comment")(d),
        "graded": d.get("judgement"),
        "disputed_by": None,
        "moderated_by": None,
    }


#: Entry changes: event class -> what it sets on which entry.
ENTRIES: Mapping[EventType, EntryEvent] = {
    SupervisionAgreementSigned: EntryEvent(
        "supervision_agreement",
        "agreement_id",
        _pick(
            "supervisor_id",
            "frequency",
            "supervision_format",
            "review_due_on",
            "escalation_manager_id",
        ),
    ),
    SupervisionAgreementReviewed: EntryEvent(
        "supervision_agreement",
        "agreement_id",
        lambda d: {"review_due_on": d.get("next_review_due_on")},
    ),
    SupervisionSessionScheduled: EntryEvent(
        "supervision_session",
        "session_id",
        lambda d: {
            "supervisor_id": d.get("supervisor_id"),
            "scheduled_for": d.get("scheduled_for"),
            "status": "scheduled",
        },
    ),
    SupervisionSessionRescheduled: EntryEvent(
        "supervision_session",
        "session_id",
        lambda d: {"scheduled_for": d.get("new_scheduled_for")},
    ),
    SupervisionSessionCancelled: EntryEvent(
        "supervision_session",
        "session_id",
        lambda d: {"status": "cancelled", "cancellation_reason": d.get("reason")},
    ),
    SupervisionSessionHeld: EntryEvent(
        "supervision_session",
        "session_id",
        lambda d: {
            "status": "held",
            **_pick(
                "supervisor_id",
                "duration_minutes",
                "functions_covered",
                "wellbeing_discussed",
                "equality_and_diversity_discussed",
            )(d),
        },
        correctable=True,
    ),
    PersonalSupervisionRecordWritten: EntryEvent(
        "personal_record",
        "record_id",
        _pick(
            "session_id",
            "actions_reviewed",
            "wellbeing",
            "workload",
            "development",
            "disagreements",
        ),
        correctable=True,
    ),
    PersonalSupervisionRecordSigned: EntryEvent(
        "personal_record",
        "record_id",
        lambda d: {
            f"signed_by_{d['signatory']}": True,
            **({"differing_view": d["differing_view"]} if d.get("differing_view") else {}),
        },
    ),
    PersonalRecordCommentRemoved: EntryEvent(
        "personal_record", "record_id", lambda d: {d["field_name"]: None}
    ),
    CaseSupervisionRecorded: EntryEvent(
        "case_supervision",
        "entry_id",
        _pick(
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
        ),
        correctable=True,
    ),
    OversightTriggered: EntryEvent(
        "oversight_trigger",
        "trigger_id",
        lambda d: {"kind": d.get("kind"), "automatic": d.get("automatic"), "answered_by": None},
    ),
    ManagementOversightRecorded: EntryEvent(
        "management_oversight",
        "entry_id",
        _pick(
            "answers_trigger_ids",
            "reason",
            "current_situation",
            "decision",
            "rationale",
            "decision_maker_id",
            "decision_maker_role",
        ),
        correctable=True,
    ),
    ManagementDecisionRecorded: EntryEvent(
        "management_decision",
        "entry_id",
        _pick("decision", "rationale", "consulted_by", "recorded_by_instruction_of"),
        correctable=True,
    ),
    # -- a child in need: the CIN census's modules, each an entry (ADR 0026); a census
    # correction amends the fact that made the entry.
    ReferralReceived: EntryEvent(
        "cin_episode",
        "entry_id",
        _pick("referral_on", "referral_source", "primary_need", "no_further_action"),
        correctable=True,
    ),
    ChildInNeedEpisodeClosed: EntryEvent(
        "cin_episode", "entry_id", _pick("closed_on", "reason_for_closure")
    ),
    AssessmentCompleted: EntryEvent(
        "assessment",
        "entry_id",
        _pick("episode_id", "started_on", "authorised_on", "factors"),
        correctable=True,
    ),
    Section47EnquiryStarted: EntryEvent(
        "section47",
        "entry_id",
        _pick("episode_id", "started_on", "conference_required"),
        correctable=True,
    ),
    InitialChildProtectionConferenceHeld: EntryEvent(
        "initial_child_protection_conference", "entry_id", _pick("episode_id", "held_on")
    ),
    ChildProtectionPlanStarted: EntryEvent(
        "child_protection_plan",
        "entry_id",
        _pick("episode_id", "started_on", "category_of_abuse"),
        correctable=True,
    ),
    ChildProtectionPlanReviewed: EntryEvent(
        "child_protection_plan",
        "entry_id",
        lambda d: {"last_reviewed_on": d.get("reviewed_on"), "reviews": d.get("review_number")},
    ),
    ChildProtectionPlanEnded: EntryEvent(
        "child_protection_plan", "entry_id", _pick("ended_on", "at_review")
    ),
    ChildInNeedPlanStarted: EntryEvent("cin_plan", "entry_id", _pick("episode_id", "started_on")),
    # -- end of the CIN census entries
    DisagreementRaised: EntryEvent(
        "disagreement",
        "disagreement_id",
        lambda d: {
            "subject": d.get("subject"),
            "about": d.get("about"),
            "escalations": 0,
            "resolution": None,
        },
    ),
    DisagreementResolved: EntryEvent(
        "disagreement", "disagreement_id", lambda d: {"resolution": d.get("resolution")}
    ),
    LegalHoldPlaced: EntryEvent(
        "legal_hold",
        "hold_id",
        lambda d: {"kind": d.get("kind"), "reference": d.get("reference"), "lifted": False},
    ),
    LegalHoldLifted: EntryEvent("legal_hold", "hold_id", lambda d: {"lifted": True}),
    GroupSupervisionAttended: EntryEvent(
        "group_supervision",
        "group_session_id",
        _pick("facilitator_id", "topic", "session_kind"),
        correctable=True,
    ),
    DirectObservationRecorded: EntryEvent(
        "direct_observation",
        "observation_id",
        _pick("observer_id", "summary"),
        correctable=True,
    ),
    AppraisalHeld: EntryEvent("appraisal", "appraisal_id", _pick("kind"), correctable=True),
    GroupSupervisionDiscussionRecorded: EntryEvent(
        "group_discussion",
        "entry_id",
        _pick("group_session_id", "facilitator_id", "summary"),
        correctable=True,
    ),
    # Quality assurance (ADR 0023): an audit, then its dispute and moderation.
    SupervisionFileAudited: EntryEvent(
        "quality_audit",
        "audit_id",
        lambda d: {
            "record": "supervision_file",
            **_audit_fields(d),
            **_pick("supervisor_id", "file_role")(d),
        },
    ),
    CaseFileAudited: EntryEvent(
        "quality_audit",
        "audit_id",
        lambda d: {
            "record": "case_file",
            **_audit_fields(d),
            **_pick("worker_id", "supervisor_id")(d),
        },
    ),
    QualityAuditDisputed: EntryEvent(
        "quality_audit",
        "audit_id",
        lambda d: {"disputed_by": d.get("disputed_by"), "dispute_reasons": d.get("reasons")},
    ),
    QualityAuditModerated: EntryEvent(
        "quality_audit",
        "audit_id",
        lambda d: {
            "moderated_by": d.get("moderator_id"),
            "judgement": d.get("judgement"),
            "moderation_rationale": d.get("rationale"),
        },
    ),
}

#: Corrected fields that move when the entry happened (its valid time).
WHEN_FIELDS = frozenset({"held_on", "observed_on", "attended_on"})

#: Events by which a party signs an entry, and the field naming the entry.
SIGNATURES: Mapping[EventType, str] = {
    PersonalSupervisionRecordSigned: "record_id",
    DirectObservationSigned: "observation_id",
}

#: Events that escalate an entry (a disagreement) one level.
ESCALATIONS: Mapping[EventType, str] = {DisagreementEscalated: "disagreement_id"}


# -- the subject over time -------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """Attributes set on a day (``ATTRIBUTES``)."""

    day: date
    attributes: Mapping[str, Any]


@dataclass
class Life:
    """A subject's attributes over time, and when it began and ended."""

    subject: str  # worker or child
    start: date
    end: date | None
    changes: list[Change]
    asye_start: date | None = None
    born: date | None = None  # a child's date of birth (expected, if unborn)

    def at(self, day: date) -> Mapping[str, Any]:
        current: dict[str, Any] = {}
        for change in self.changes:
            if change.day > day:
                break
            current.update(change.attributes)
        return current


class Facts(list[Fact]):
    """A timeline's facts (corrections applied, valid-time order) that remember their
    timeline, so a caller handed the list folds nothing twice."""

    timeline: Timeline


class Timeline:
    """A subject's facts recorded by ``known_at`` (all, if None), folded once.

    - ``recorded``: the known facts in recorded order, as stored;
    - ``facts``: the known facts in valid-time order (ties in recorded order), each
      correction applied, in recorded order, to the latest correctable fact of its entry
      recorded before it: its fields superseded and, for ``WHEN_FIELDS``, its valid time
      moved. Before a correction was recorded the original stands (ADR 0007). The
      corrections themselves are in ``corrections``, not in ``facts``;
    - ``registration``, ``life``, ``attributes_at``, ``entries_at``, ``signatures``:
      what compliance, registers, sheets and history read from them.
    """

    def __init__(self, facts: Iterable[Fact], known_at: datetime | None = None) -> None:
        recorded = (
            list(facts) if known_at is None else [f for f in facts if f.recorded_at <= known_at]
        )
        recorded.sort(key=_position)  # given in recorded order, as usual: one pass
        by_entry: dict[str, int] = {}
        current: list[Fact] = []
        corrections: list[Fact] = []
        for fact in recorded:
            kind = fact.kind
            if kind is EntryCorrected:
                corrections.append(fact)
                index = by_entry.get(str(fact.data.get("entry_id")))
                if index is not None:
                    current[index] = _corrected(current[index], fact.data.get("changes", {}))
                continue
            entry = ENTRIES.get(kind)
            if entry is not None and entry.correctable:
                by_entry[str(fact.data.get(entry.ref))] = len(current)
            current.append(fact)
        current.sort(key=_valid_order)
        self.known_at = known_at
        self.recorded: Sequence[Fact] = recorded
        self.corrections: Sequence[Fact] = corrections
        self.facts = Facts(current)
        self.facts.timeline = self

    @_computed_once
    def registration(self) -> Fact | None:
        """The fact that registered the worker or child (None: not a worker or child)."""
        return next((f for f in self.facts if f.kind in REGISTRATIONS), None)

    @_computed_once
    def life(self) -> Life | None:
        """The subject's life: a worker's from their start date, a child's from their
        registration, to leaving or closure, with their attributes by day."""
        registration = self.registration
        if registration is None:
            return None
        data = registration.data
        worker = registration.kind is WorkerRegistered
        start = _date(data["start_date"]) if worker else registration.day
        life = Life(subject="worker" if worker else "child", start=start, end=None, changes=[])
        if worker:
            asye = data.get("nqsw_asye_start")
            life.asye_start = _date(asye) if asye else None
        else:
            born = data.get("date_of_birth") or data.get("expected_date_of_birth")
            life.born = _date(born) if born else None
        for fact in self.facts:
            kind = fact.kind
            sets = ATTRIBUTES.get(kind)
            if sets is not None:
                day = start if fact is registration else fact.day
                life.changes.append(Change(day, sets(fact.data)))
            if kind is WorkerLeftEmployment:
                life.end = _date(fact.data["last_day"])
            elif kind is CaseClosed:
                life.end = fact.day
        life.changes.sort(key=_change_day)  # a worker's registration counts from their start
        return life

    def attributes_at(self, as_of: datetime | None = None) -> Fields:
        """The subject's attributes as of ``as_of`` (all known, if None): each the value
        with the latest valid time, ties in recorded order."""
        attributes: Fields = {}
        for fact in self.facts:
            if as_of is not None and fact.occurred_at > as_of:
                break
            sets = ATTRIBUTES.get(fact.kind)
            if sets is not None:
                attributes.update(sets(fact.data))
        return attributes

    @_computed_once
    def current(self) -> Fields:
        """The subject's attributes now (as known)."""
        return self.attributes_at(None)

    def entries_at(self, as_of: datetime | None = None) -> tuple[dict[str, Fields], list[int]]:
        """The entries that had happened by ``as_of`` (their corrected valid time), their
        events' fields merged in valid-time order and every known correction applied in
        recorded order; and the positions of the facts the answer used. A correction to a
        signed record voids its signatures (ADR 0020): a party reads as unsigned unless
        they signed again after it."""
        entries: dict[str, Fields] = {}
        used: list[int] = []
        happened: list[Fact] = []
        for fact in self.facts:
            if as_of is not None and fact.occurred_at > as_of:
                break
            happened.append(fact)
            used.append(fact.position)
            kind = fact.kind
            entry = ENTRIES.get(kind)
            data = fact.data
            if entry is not None:
                ref = str(data[entry.ref])
                fields = entries.setdefault(ref, {"kind": entry.kind})
                fields.update(entry.fields(data))
            elif kind in ESCALATIONS:
                fields = entries.setdefault(str(data[ESCALATIONS[kind]]), {})
                fields["escalations"] = int(fields.get("escalations", 0)) + 1
                fields["level"] = data.get("level")
            if kind is ManagementOversightRecorded:
                for trigger_id in data.get("answers_trigger_ids", []):
                    entries.setdefault(str(trigger_id), {})["answered_by"] = data["entry_id"]
        for correction in self.corrections:
            if as_of is None or correction.occurred_at <= as_of:
                used.append(correction.position)
            corrected = entries.get(str(correction.data.get("entry_id")))
            if corrected is not None:
                corrected.update(correction.data.get("changes", {}))
                used.append(correction.position)
        # Like a correction, a voiding known at K applies whatever the as-of time.
        for fact in self.facts:
            if fact.kind is not EntrySignaturesVoided:
                continue
            entry_id = str(fact.data.get("entry_id"))
            if entry_id not in entries:
                continue
            used.append(fact.position)
            for party in fact.data.get("voided", []):
                if not _signed_again(happened, entry_id, str(party), after=fact.position):
                    entries[entry_id][f"signed_by_{party}"] = False
        return entries, sorted(set(used))

    @_computed_once
    def signatures(self) -> Mapping[str, Mapping[str, Fact]]:
        """Who has signed each entry, by entry id and party (the fact of their
        signature): in recorded order, a correction's voiding forgets the signatures
        recorded before it, and a party signs again after it (ADR 0020)."""
        return signatures(self.recorded)

    def allocations(self) -> list[Allocation]:
        """A child's allocations to workers, in valid-time order: each runs until the
        next allocation or the case's closure."""
        found: list[Allocation] = []
        for fact in self.facts:
            kind = fact.kind
            if kind is WorkerAllocated:
                if found and found[-1].end is None:
                    found[-1] = replace(found[-1], end=fact.day)
                found.append(
                    Allocation(str(fact.data["worker_id"]), fact.data.get("team"), fact.day, None)
                )
            elif kind is CaseClosed and found and found[-1].end is None:
                found[-1] = replace(found[-1], end=fact.day)
        return found

    def supervisors(self) -> list[str]:
        """The staff ids who supervised a worker (agreements and sessions), first seen
        first."""
        found: dict[str, None] = {}
        for fact in self.facts:
            if fact.kind in SUPERVISED_BY:
                found.setdefault(str(fact.data["supervisor_id"]), None)
        return list(found)


#: Events naming the worker's supervisor.
SUPERVISED_BY: tuple[EventType, ...] = (SupervisionAgreementSigned, SupervisionSessionHeld)


@dataclass(frozen=True)
class Allocation:
    """A child allocated to a worker over [start, end) (end None: still allocated)."""

    worker_id: str
    team: str | None
    start: date
    end: date | None


def timeline_of(facts: Iterable[Fact]) -> Timeline:
    """The timeline ``facts`` came from (a ``Timeline.facts``), else one folded from them."""
    if isinstance(facts, Facts):
        return facts.timeline
    return Timeline(facts)


def signatures(facts: Iterable[Fact]) -> dict[str, dict[str, Fact]]:
    """Who has signed each entry among ``facts`` (``Timeline.signatures``)."""
    signed: dict[str, dict[str, Fact]] = {}
    for fact in sorted(facts, key=_position):
        kind = fact.kind
        ref = SIGNATURES.get(kind)
        if ref is not None:
            signed.setdefault(str(fact.data[ref]), {})[str(fact.data["signatory"])] = fact
        elif kind is EntrySignaturesVoided:
            for party in fact.data.get("voided", []):
                signed.get(str(fact.data["entry_id"]), {}).pop(str(party), None)
    return signed


def _signed_again(facts: Sequence[Fact], entry_id: str, party: str, *, after: int) -> bool:
    """Whether ``party`` signed ``entry_id`` again in ``facts`` after position ``after``."""
    for fact in facts:
        ref = SIGNATURES.get(fact.kind)
        if (
            ref is not None
            and fact.position > after
            and str(fact.data.get(ref)) == entry_id
            and fact.data.get("signatory") == party
        ):
            return True
    return False


def _corrected(fact: Fact, changes: Mapping[str, Any]) -> Fact:
    occurred = fact.occurred_at
    for name in WHEN_FIELDS & changes.keys():
        occurred = _moment(changes[name], like=occurred)
    return replace(fact, occurred_at=occurred, data={**fact.data, **changes})


def _moment(value: Any, like: datetime) -> datetime:
    """A corrected valid time: a date keeps the original's time of day (and zone)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return datetime.combine(value, like.timetz())
    else:
        text = str(value)
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), like.timetz())
        moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=like.tzinfo)


_position: Callable[[Fact], int] = attrgetter("position")
_valid_order: Callable[[Fact], tuple[datetime, int]] = attrgetter("occurred_at", "position")
_change_day: Callable[[Change], date] = attrgetter("day")
