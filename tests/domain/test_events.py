"""The event catalogue (issue 18): one class per event, triggered by the aggregates under
their stored topics, named by no string anywhere else, and versioned with an upcaster
path the library's own mapper runs."""

from __future__ import annotations

import io
import re
import subprocess
import tokenize
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.domain import CanMutateAggregate, decorated_funcs
from eventsourcing.utils import get_topic

from domain.access import AccessLog
from domain.authority import Authority
from domain.child import Child
from domain.events import (
    CATALOGUE,
    STORED_ONLY,
    AbsenceEnded,
    AbsenceStarted,
    AccessLogOpened,
    ActionCarriedForward,
    ActionCompleted,
    ActionSet,
    AdoptionOrderRecorded,
    AppraisalHeld,
    AssessmentCompleted,
    AuthorityRegistered,
    CareBeganBeforeRecord,
    CareEpisodeCorrected,
    CaseClosed,
    CaseFileAudited,
    CaseSupervisionRecorded,
    CaseTypeChanged,
    ChildAddedToCaseload,
    ChildCameIntoCare,
    ChildDeathRecorded,
    ChildInNeedEpisodeClosed,
    ChildInNeedPlanStarted,
    ChildProtectionPlanEnded,
    ChildProtectionPlanReviewed,
    ChildProtectionPlanStarted,
    ChildRegistered,
    ChildRemovedFromCaseload,
    ChildReturnedHome,
    ClosureDayAdded,
    ContentPurged,
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
    LookedAfterReviewHeld,
    ManagementDecisionRecorded,
    ManagementOversightRecorded,
    MissingFromCareRecorded,
    OversightTriggered,
    PeriodOfCareEnded,
    PersonalRecordCommentRemoved,
    PersonalSupervisionRecordSigned,
    PersonalSupervisionRecordWritten,
    PlacementChanged,
    PolicyPackAdopted,
    QualityAuditDisputed,
    QualityAuditModerated,
    RecordAccessed,
    RecordPurged,
    ReferralReceived,
    Registration,
    RiskLevelChanged,
    Section47EnquiryStarted,
    SupervisionAgreementReviewed,
    SupervisionAgreementSigned,
    SupervisionAgreementSignedByOneParty,
    SupervisionFileAudited,
    SupervisionFrequencyExceptionApproved,
    SupervisionSessionCancelled,
    SupervisionSessionHeld,
    SupervisionSessionRescheduled,
    SupervisionSessionScheduled,
    TeamAllocated,
    ThresholdChanged,
    UnknownEvent,
    WorkerAllocated,
    WorkerLeftEmployment,
    WorkerRegistered,
    WorkerRoleChanged,
    WorkerTeamChanged,
    WorkingPatternChanged,
    kind_of,
    named,
)
from domain.subject import Subject
from domain.worker import Worker
from tests.domain.aggregates import child, prov, worker

ROOT = Path(__file__).resolve().parents[2]
AGGREGATES = (Subject, Worker, Child, Authority, AccessLog)

# -- the golden list: every topic the aggregates stored before the catalogue -------------
# Recorded from the aggregates of commit 4a91ec5 (events named by ``@event("Name")``).
# A stored topic never changes: an event stored under it must resolve for ever.

#: What every subject records (``Subject``'s own classes and each aggregate's redefinition).
SUBJECT_EVENTS: tuple[EventType, ...] = (
    ContentPurged,
    DisagreementEscalated,
    DisagreementRaised,
    DisagreementResolved,
    EntryCorrected,
    EntrySignaturesVoided,
    LegalHoldLifted,
    LegalHoldPlaced,
    RecordPurged,
)
OWN_EVENTS: dict[tuple[str, str], tuple[EventType, ...]] = {
    ("domain.authority", "Authority"): (AuthorityRegistered, ClosureDayAdded, PolicyPackAdopted),
    ("domain.worker", "Worker"): (
        AbsenceEnded,
        AbsenceStarted,
        AppraisalHeld,
        ChildAddedToCaseload,
        ChildRemovedFromCaseload,
        DirectObservationRecorded,
        DirectObservationSigned,
        GroupSupervisionAttended,
        LineManagerChanged,
        PersonalRecordCommentRemoved,
        PersonalSupervisionRecordSigned,
        PersonalSupervisionRecordWritten,
        SupervisionAgreementReviewed,
        SupervisionAgreementSigned,
        SupervisionAgreementSignedByOneParty,
        SupervisionFrequencyExceptionApproved,
        SupervisionSessionCancelled,
        SupervisionSessionHeld,
        SupervisionSessionRescheduled,
        SupervisionSessionScheduled,
        WorkerLeftEmployment,
        WorkerRegistered,
        WorkerRoleChanged,
        WorkerTeamChanged,
        WorkingPatternChanged,
    ),
    ("domain.child", "Child"): (
        ActionCarriedForward,
        ActionCompleted,
        ActionSet,
        AdoptionOrderRecorded,
        CaseClosed,
        CaseSupervisionRecorded,
        CaseTypeChanged,
        ChildCameIntoCare,
        ChildDeathRecorded,
        ChildRegistered,
        ChildReturnedHome,
        GroupSupervisionDiscussionRecorded,
        LegalStatusChanged,
        LookedAfterReviewHeld,
        ManagementDecisionRecorded,
        ManagementOversightRecorded,
        OversightTriggered,
        PeriodOfCareEnded,
        PlacementChanged,
        RiskLevelChanged,
        TeamAllocated,
        ThresholdChanged,
        WorkerAllocated,
    ),
    ("domain.access", "AccessLog"): (AccessLogOpened, ContentPurged, RecordAccessed),
}
SUBJECTS = (
    ("domain.subject", "Subject"),
    ("domain.authority", "Authority"),
    ("domain.worker", "Worker"),
    ("domain.child", "Child"),
)
#: The library's own classes on every aggregate (its base event and default registration).
LIBRARY_CLASSES = ("Created", "Event")

GOLDEN_TOPICS = frozenset(
    {
        *(f"{m}:{a}.{e.__name__}" for m, a in SUBJECTS for e in SUBJECT_EVENTS),
        *(f"{m}:{a}.{e.__name__}" for (m, a), events in OWN_EVENTS.items() for e in events),
        *(f"{m}:{a}.{name}" for m, a in (*SUBJECTS, ("domain.access", "AccessLog"))
          for name in LIBRARY_CLASSES),
    }
)  # fmt: skip


#: The child-in-need events (ADR 0026).
CIN_CENSUS_EVENTS = (
    AssessmentCompleted,
    ChildInNeedEpisodeClosed,
    ChildInNeedPlanStarted,
    ChildProtectionPlanEnded,
    ChildProtectionPlanReviewed,
    ChildProtectionPlanStarted,
    InitialChildProtectionConferenceHeld,
    ReferralReceived,
    Section47EnquiryStarted,
)

#: Topics added since the golden list, each with the ADR that added it: a new event is a
#: new topic, listed here once and then never changed.
ADDED_TOPICS = frozenset(
    {
        # ADR 0023: audits, their disputes and moderation (on every subject).
        f"domain.worker:Worker.{SupervisionFileAudited.__name__}",
        f"domain.child:Child.{CaseFileAudited.__name__}",
        *(f"{m}:{a}.{e.__name__}" for m, a in SUBJECTS
          for e in (QualityAuditDisputed, QualityAuditModerated)),
        # ADR 0026: a child in need, from the DfE CIN census.
        *(f"domain.child:Child.{e.__name__}" for e in CIN_CENSUS_EVENTS),
        # ADR 0025: a child looked after, as the SSDA903 return gives it.
        *(f"domain.child:Child.{e.__name__}"
          for e in (CareBeganBeforeRecord, MissingFromCareRecorded, CareEpisodeCorrected)),
    }
)  # fmt: skip


def _event_classes(aggregate: type) -> Iterator[type[CanMutateAggregate[Any]]]:
    for name in dir(aggregate):
        value = getattr(aggregate, name)
        if isinstance(value, type) and issubclass(value, CanMutateAggregate):
            yield value


def test_the_aggregates_store_exactly_the_golden_topics() -> None:
    topics = {get_topic(cls) for agg in AGGREGATES for cls in _event_classes(agg)}
    assert len(GOLDEN_TOPICS) == 100
    assert topics == GOLDEN_TOPICS | ADDED_TOPICS


def test_every_aggregate_event_subclasses_its_catalogue_class() -> None:
    checked = 0
    for aggregate in AGGREGATES:
        for cls in _event_classes(aggregate):
            if cls.__name__ in LIBRARY_CLASSES:
                continue
            assert issubclass(cls, named(cls.__name__)), get_topic(cls)
            assert kind_of(cls) is named(cls.__name__)
            checked += 1
    assert checked == 100 - 2 * len(AGGREGATES) + len(ADDED_TOPICS)


def test_every_catalogue_class_is_triggered_by_an_aggregate_or_stored_only() -> None:
    """A decorated method triggers each event, an aggregate's registration triggers its
    first, and the purge alone writes what is stored only."""
    modules = {aggregate.__module__ for aggregate in AGGREGATES}
    by_method = {
        kind_of(cls)
        for cls in decorated_funcs
        if cls.__module__ in modules and cls.__name__ in CATALOGUE
    }
    authority = Authority.register(
        provenance=prov(), authority_code="TEST-LA", name="Test", policy_pack="DUR"
    )
    log = AccessLog(subject_id=uuid4(), authority_code="TEST-LA", provenance=prov())
    registrations = {
        kind_of(aggregate.pending_events[0]) for aggregate in (authority, worker(), child(), log)
    }
    assert registrations == {e for e in CATALOGUE.values() if issubclass(e, Registration)}
    assert by_method | registrations | STORED_ONLY == set(CATALOGUE.values())
    assert not by_method & STORED_ONLY
    # ADR 0023: four quality-assurance events; ADR 0026: the child-in-need events;
    # ADR 0025: three of a child looked after.
    assert len(CATALOGUE) == 62 + 4 + len(CIN_CENSUS_EVENTS) + 3


def test_every_event_states_its_version_and_what_it_records() -> None:
    for name, cls in CATALOGUE.items():
        version = cls.__dict__.get("class_version")
        assert isinstance(version, int) and version >= 1, name
        # A later version has an upcaster from each version before it.
        for n in range(1, version):
            assert callable(cls.__dict__.get(f"upcast_v{n}_v{n + 1}")), (name, n)
        doc = cls.__doc__ or ""
        assert doc and "\n" not in doc.strip() and doc.strip() != f"{name}.", name


def test_a_name_outside_the_catalogue_is_refused() -> None:
    assert named(SupervisionSessionHeld.__name__) is SupervisionSessionHeld
    assert kind_of(Worker.SupervisionSessionHeld) is SupervisionSessionHeld
    with pytest.raises(UnknownEvent):
        named("SupervisionSessionHappened")


def test_subject_behaviour_still_rides_on_the_catalogue_classes() -> None:
    """The aggregates' event bases still apply: the applying timestamp a handler reads,
    and a purged registration refusing to load."""
    w = worker()
    w.change_team(prov(), "Team B")
    assert w._applying_timestamp == w.pending_events[-1].timestamp
    assert issubclass(Worker.ContentPurged, Subject.ContentPurged)
    assert issubclass(AccessLog.ContentPurged, ContentPurged)
    assert "subject_id" in AccessLog.ContentPurged.__dataclass_fields__


# -- no event is named by a string -------------------------------------------------------

_NAME = re.compile(r"\b({})\b".format("|".join(sorted(CATALOGUE, key=len, reverse=True))))
_SKIPPED_KINDS = {tokenize.NL, tokenize.COMMENT, tokenize.ENCODING}


def _literals_naming_events(source: str) -> Iterator[tuple[int, str]]:
    """(line, name) of each string literal that names an event, docstrings apart: a
    docstring documents (``RecordPurged``), it never identifies an event."""
    tokens = [
        t for t in tokenize.generate_tokens(io.StringIO(source).readline)
        if t.type not in _SKIPPED_KINDS
    ]  # fmt: skip
    statement_starts = {tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
    for i, token in enumerate(tokens):
        if token.type != tokenize.STRING:
            continue
        before = tokens[i - 1].type if i else tokenize.NEWLINE
        after = tokens[i + 1].type if i + 1 < len(tokens) else tokenize.NEWLINE
        if before in statement_starts and after in (tokenize.NEWLINE, tokenize.ENDMARKER):
            continue  # a docstring (or a bare string statement)
        for line_offset, text in enumerate(_literal_text(token.string).splitlines()):
            for match in _NAME.finditer(text):
                yield token.start[0] + line_offset, match.group(1)


def _literal_text(literal: str) -> str:
    """A literal's text without an f-string's replacement fields, which are code
    (``f"{SupervisionSessionHeld.__name__}"`` names the event by class)."""
    prefix = literal[: len(literal) - len(literal.lstrip("rRbBuUfF"))]
    if "f" not in prefix.lower():
        return literal
    return re.sub(r"\{[^{}]*\}", "", literal.replace("{{", "").replace("}}", ""))


def _tracked_python_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split()
    return [
        path for path in listed if path != "domain/events.py" and not path.startswith("migrations/")
    ]


def test_the_scan_finds_names_in_literals_and_skips_docstrings() -> None:
    held, action = SupervisionSessionHeld.__name__, ActionSet.__name__
    source = (
        f'"""About ``{RecordPurged.__name__}``."""\n'
        "def f() -> None:\n"
        f'    """Reads ``{ContentPurged.__name__}``."""\n'
        f'    x = {{"{held}": 1}}  # {CaseClosed.__name__}\n'
        f"    y = f'Worker.{{z}}.{action}'\n"
        f"    w = '{action}s'\n"
        f"    v = f'{{{action}.__name__}}'\n"
    )
    assert list(_literals_naming_events(source)) == [(4, held), (5, action)]


def test_no_event_name_appears_as_a_string_literal_outside_the_catalogue() -> None:
    """Events are identified by class (``fact.kind is SupervisionSessionHeld``); where a
    string is genuinely needed, ``SupervisionSessionHeld.__name__``."""
    found = [
        f"{path}:{line}: {name}"
        for path in _tracked_python_files()
        if (ROOT / path).exists()
        for line, name in _literals_naming_events((ROOT / path).read_text())
    ]
    assert not found, f"{len(found)} event names in string literals:\n" + "\n".join(found)
