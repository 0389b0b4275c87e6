"""Events stored before the catalogue still load (issue 18): a database written by the
code of main before the aggregates triggered catalogue classes
(``tests/fixtures/stored-events-2026-12.sqlite3``, made by ``make_stored_events.py``)
opens with the current code, every aggregate replays, every event decodes to its
catalogue class, and every projection rebuilds over it."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate
from sqlalchemy import text

from application.app import OversightApplication
from domain.access import AccessLog
from domain.authority import Authority
from domain.child import Child
from domain.events import (
    CATALOGUE,
    AssessmentCompleted,
    CareBeganBeforeRecord,
    CareEpisodeCorrected,
    CaseFileAudited,
    CaseSupervisionRecorded,
    ChildAddedToCaseload,
    ChildCameIntoCare,
    ChildInNeedEpisodeClosed,
    ChildInNeedPlanStarted,
    ChildProtectionPlanEnded,
    ChildProtectionPlanReviewed,
    ChildProtectionPlanStarted,
    ChildRegistered,
    ContentPurged,
    EntryCorrected,
    EventType,
    InitialChildProtectionConferenceHeld,
    LegalHoldPlaced,
    MissingFromCareRecorded,
    OversightTriggered,
    PersonalSupervisionRecordSigned,
    QualityAuditDisputed,
    QualityAuditModerated,
    RecordPurged,
    ReferralReceived,
    Section47EnquiryStarted,
    SupervisionFileAudited,
    SupervisionSessionScheduled,
    WorkerAllocated,
    WorkerRegistered,
    kind_of,
    named,
)
from domain.worker import Worker
from oversight.projecting import read_engine, runner_for
from oversight.schema import upgrade
from oversight.settings import DatabaseSettings
from projections.registry import all_projections

FIXTURE = Path(__file__).parent / "fixtures" / "stored-events-2026-12.sqlite3"
STORED = 90

#: How many of each event the fixture holds. Four ``ContentPurged`` tombstones: the purged
#: session's schedule and holding, and the purged year's log opening and read.
#: Events added to the catalogue after the fixture was written (ADR 0023): none stored.
ADDED_SINCE: frozenset[EventType] = frozenset(
    {
        SupervisionFileAudited,
        CaseFileAudited,
        QualityAuditDisputed,
        QualityAuditModerated,
        # ADR 0026: a child in need, from the DfE CIN census.
        AssessmentCompleted,
        ChildInNeedEpisodeClosed,
        ChildInNeedPlanStarted,
        ChildProtectionPlanEnded,
        ChildProtectionPlanReviewed,
        ChildProtectionPlanStarted,
        InitialChildProtectionConferenceHeld,
        ReferralReceived,
        Section47EnquiryStarted,
        # a child looked after, as the SSDA903 return gives it (ADR 0025)
        CareBeganBeforeRecord,
        MissingFromCareRecorded,
        CareEpisodeCorrected,
    }
)
EXPECTED_COUNTS: dict[EventType, int] = {
    **dict.fromkeys(set(CATALOGUE.values()) - ADDED_SINCE, 1),
    ChildRegistered: 5,
    WorkerRegistered: 6,
    OversightTriggered: 8,
    ContentPurged: 4,
    CaseSupervisionRecorded: 2,
    ChildCameIntoCare: 2,
    WorkerAllocated: 2,
    EntryCorrected: 2,
    LegalHoldPlaced: 2,
    RecordPurged: 2,
    ChildAddedToCaseload: 2,
    PersonalSupervisionRecordSigned: 2,
    SupervisionSessionScheduled: 2,
}


@pytest.fixture
def database(tmp_path: Path) -> DatabaseSettings:
    """A copy of the stored database, migrated to the current schema as a deploy would."""
    path = tmp_path / "stored.sqlite3"
    shutil.copyfile(FIXTURE, path)
    settings = DatabaseSettings.from_url(f"sqlite:///{path}")
    upgrade(settings)
    return settings


@pytest.fixture
def app(database: DatabaseSettings) -> Iterator[OversightApplication]:
    application = OversightApplication(env=database.eventsourcing_env())
    try:
        yield application
    finally:
        application.close()


def test_every_stored_event_decodes_to_its_catalogue_class(app: OversightApplication) -> None:
    notifications = app.recorder.select_notifications(start=1, limit=1000)
    assert len(notifications) == STORED
    counts: Counter[EventType] = Counter()
    for notification in notifications:
        event = app.mapper.to_domain_event(notification)
        kind = kind_of(event)
        assert kind is named(notification.topic.rsplit(".", 1)[-1])
        assert isinstance(event, kind)
        counts[kind] += 1
    assert counts == EXPECTED_COUNTS
    # every event of the catalogue, stored (but those added since the fixture)
    assert set(counts) == set(CATALOGUE.values()) - ADDED_SINCE


def test_every_aggregate_replays(app: OversightApplication) -> None:
    ids: list[UUID] = []
    for notification in app.recorder.select_notifications(start=1, limit=1000):
        originator = UUID(str(notification.originator_id))
        if originator not in ids:
            ids.append(originator)
    loaded: list[Aggregate] = [app.repository.get(i) for i in ids]
    assert Counter(type(a).__name__ for a in loaded) == {
        Authority.__name__: 1,
        Worker.__name__: 6,
        Child.__name__: 5,
        AccessLog.__name__: 2,
    }
    assert sum(a.version for a in loaded) == STORED

    authority = app.get_authority("OLD-LA")
    assert authority.policy_pack == "DUR"
    sw1 = app.get_worker("OLD-LA", "SW1")
    assert sw1.sessions["SW1-S1"].status == "held"
    assert sw1.sessions["SW1-S0"].status == "cancelled"
    assert sw1.records["SW1-R1"].signed_by == ()  # the correction voided both signatures
    assert sw1.caseload == {"C1"}
    sw2 = app.get_worker("OLD-LA", "SW2")
    assert "SW2-S1" not in sw2.sessions  # purged
    assert sw2.purged == {
        "personal_supervision:SW2-S1": "DUR-4.9",
        "access_log:2012": "RET-ACCESS",
    }
    assert app.get_worker("OLD-LA", "SW3").employment.left_on is not None
    c1 = app.get_child("OLD-LA", "C1")
    assert {e.kind for e in c1.entries.values()} >= {"case_supervision", "management_oversight"}
    assert c1.disagreements["C1-D1"].resolved
    assert c1.legal_holds["C1-H1"].lifted_at is not None
    assert c1.legal_holds["C1-T9:hold"].lifted_at is None  # the incident's learning review
    assert app.get_child("OLD-LA", "C2").in_care is False
    log: Aggregate = app.repository.get(AccessLog.create_id(sw2.id))
    assert isinstance(log, AccessLog) and log.subject_id == sw2.id


def test_every_projection_rebuilds_over_the_stored_events(
    database: DatabaseSettings, app: OversightApplication
) -> None:
    engine = read_engine(database)
    try:
        rows: dict[str, int] = {}
        for projection in all_projections():
            runner = runner_for(database, app, projection, engine)
            assert runner.rebuild() == STORED, projection.name
            with engine.connect() as conn:
                for view in projection.table_names:
                    rows[view] = conn.execute(text(f'SELECT COUNT(*) FROM "{view}"')).scalar_one()
        # Obligations run up to today, so their number grows with the calendar.
        assert rows.pop("compliance_obligation") > 0
        assert rows == {
            "audit_trail": 88,
            "audit_refs": 6,
            "audit_subjects": 12,
            "subject_history": 86,
            "compliance_fact": 86,
            "compliance_link": 5,
            "compliance_dirty": 0,
            "compliance_subject": 11,
            "oversight_register": 13,
            "case_allocation": 2,
            "retention_schedule": 17,
            # Durham's pack has no team rule: its teams are settled with none (ADR 0024).
            "team_obligation": 0,
            "team_settled": 1,
            "team_dirty": 0,
            "quality_audit": 0,  # no audits then (ADR 0023)
            "quality_file": 11,  # each worker's and child's file
        }
    finally:
        engine.dispose()
