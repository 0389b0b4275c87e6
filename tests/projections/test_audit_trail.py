"""The audit trail: plain words, both times, actor, rule, links, access, pagination."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from application.app import OversightApplication
from domain import commands as c
from domain.events import (
    ChildRegistered,
    DisagreementEscalated,
    DisagreementRaised,
    DisagreementResolved,
    EntryCorrected,
    EntrySignaturesVoided,
    ManagementOversightRecorded,
    OversightTriggered,
    PersonalSupervisionRecordSigned,
    PersonalSupervisionRecordWritten,
    RecordAccessed,
    SupervisionSessionHeld,
    WorkerAllocated,
)
from domain.vocabulary import (
    Role,
)
from oversight.settings import DatabaseSettings
from projections.audit_trail import AuditEntry, InvalidCursor, encode_cursor, subject_trail
from tests.helpers import (
    AUTHORITY,
    NOW,
    action,
    actor,
    common,
    register_child,
    register_worker,
    setup_authority,
)
from tests.projections.conftest import catch_up_all

TM = actor("TM1", Role.TEAM_MANAGER)
T = NOW - timedelta(days=10)


def _child_story(app: OversightApplication, pack: str = "DUR") -> None:
    setup_authority(app, pack=pack)
    register_worker(app, "TM1", case_holding=False, line_manager_id="SM1")
    register_worker(app, "SW1")
    register_child(app, "C1")
    app.execute(
        c.AllocateWorker(
            **common(T, TM), child_id="C1", worker_id="SW1", reason="NEW", team="Team A"
        )
    )
    trigger_id = app.get_child(AUTHORITY, "C1").open_triggers[0].trigger_id
    app.execute(
        c.RecordManagementOversight(
            **common(T + timedelta(hours=2), TM),
            child_id="C1",
            entry_id="MO1",
            answers_trigger_ids=[trigger_id],
            reason="Allocation",
            current_situation="Safe",
            decision="Visit weekly",
            rationale="Medium risk",
            actions=[action("A1")],
        )
    )
    app.execute(
        c.RaiseDisagreement(
            **common(T + timedelta(days=1), actor("SW1")),
            child_id="C1",
            disagreement_id="D1",
            subject="decision_on_child",
            about="Visit frequency",
        )
    )
    if app.policy_packs.get(pack).authority.chains:  # Devon's is resolved in supervision
        app.execute(
            c.EscalateDisagreement(
                **common(T + timedelta(days=2)),
                child_id="C1",
                disagreement_id="D1",
                reason="Unresolved",
            )
        )
    app.execute(
        c.ResolveDisagreement(
            **common(T + timedelta(days=3), TM),  # held by the supervisor's line manager
            child_id="C1",
            disagreement_id="D1",
            resolution="Fortnightly visits",
        )
    )
    app.execute(
        c.RecordAccess(
            **common(T + timedelta(days=4), actor("AUD1", Role.AUDITOR)),
            child_id="C1",
            what="audit trail",
            purpose="QA dip sample",
        )
    )


def _trail(engine: Engine, **filters: object) -> list[AuditEntry]:
    return subject_trail(
        engine, authority_code=AUTHORITY, subject_kind="child", local_id="C1", first=100, **filters
    ).entries  # type: ignore[arg-type]


#: What each pack cites for a trigger, an oversight record, a disagreement and a read:
#: its own clauses only (issue 19 item 3); Durham's policy has no trigger clause.
CITED_BY_PACK = {
    "DEV": ("DEV-6", "DEV-6g", None, "DEV-5.5"),
    "DUR": (None, None, "DUR-4.10", "DUR-4.8a DUR-4.8c"),
}


@pytest.mark.parametrize("pack", sorted(CITED_BY_PACK))
def test_one_entry_per_event_in_plain_words(
    database: DatabaseSettings, app: OversightApplication, engine: Engine, pack: str
) -> None:
    _child_story(app, pack)
    catch_up_all(database, app, engine)
    trail = _trail(engine)
    escalated = [DisagreementEscalated.__name__] if pack != "DEV" else []
    assert [e.event_type for e in trail] == [
        ChildRegistered.__name__,
        WorkerAllocated.__name__,
        OversightTriggered.__name__,
        ManagementOversightRecorded.__name__,
        DisagreementRaised.__name__,
        *escalated,
        DisagreementResolved.__name__,
        RecordAccessed.__name__,
    ]
    trigger, oversight = trail[2], trail[3]
    assert trigger.summary.startswith(
        "Management oversight triggered automatically: allocation to new practitioner"
    )
    triggered, overseen, disagreed, read = CITED_BY_PACK[pack]
    assert trigger.rule_ids == triggered
    assert oversight.rule_ids == overseen
    assert {e.rule_ids for e in trail[4:-1]} == {disagreed}
    assert trail[-1].rule_ids == read
    assert oversight.actor_id == "TM1" and oversight.actor_role == "team_manager"
    assert oversight.occurred_at == T + timedelta(hours=2)
    assert oversight.recorded_at > oversight.occurred_at  # recorded now, happened earlier
    assert "Visit weekly" in oversight.summary
    access = trail[-1]
    assert access.kind == "access" and access.actor_role == "auditor"
    assert access.summary == "Child record read: audit trail (purpose: QA dip sample)"


def test_links_between_related_entries(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    _child_story(app)
    catch_up_all(database, app, engine)
    by_type = {e.event_type: e for e in _trail(engine)}
    trigger = by_type[OversightTriggered.__name__]
    oversight = by_type[ManagementOversightRecorded.__name__]
    assert trigger.related == (oversight.position,)
    assert trigger.position in oversight.related
    raised = by_type[DisagreementRaised.__name__]
    assert set(raised.related) == {
        by_type[DisagreementEscalated.__name__].position,
        by_type[DisagreementResolved.__name__].position,
    }


def test_record_links_to_its_sign_offs_and_corrections(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    setup_authority(app)
    register_worker(app, "SW1")
    sup = actor("TM1", Role.SUPERVISOR)
    app.execute(
        c.HoldSupervisionSession(
            **common(T, sup),
            staff_id="SW1",
            session_id="S1",
            supervisor_id="TM1",
            duration_minutes=90,
            functions_covered=["support"],
            wellbeing_discussed=True,
            equality_and_diversity_discussed=True,
        )
    )
    app.execute(
        c.WritePersonalSupervisionRecord(
            **common(T + timedelta(days=1), sup),
            staff_id="SW1",
            record_id="R1",
            session_id="S1",
            actions_reviewed="x",
            wellbeing="x",
            workload="x",
            development="x",
            disagreements=None,
            agreed_actions=[],
        )
    )
    app.execute(
        c.SignPersonalSupervisionRecord(
            **common(T + timedelta(days=1), sup),
            staff_id="SW1",
            record_id="R1",
        )
    )
    app.execute(
        c.CorrectEntry(
            **common(T + timedelta(days=2), sup),  # its author
            staff_id="SW1",
            entry_id="R1",
            changes={"workload": "High"},
            reason="Typo",
        )
    )
    catch_up_all(database, app, engine)
    trail = subject_trail(
        engine, authority_code=AUTHORITY, subject_kind="worker", local_id="SW1"
    ).entries
    by_type = {e.event_type: e for e in trail}
    written = by_type[PersonalSupervisionRecordWritten.__name__]
    assert set(written.related) == {
        by_type[SupervisionSessionHeld.__name__].position,
        by_type[PersonalSupervisionRecordSigned.__name__].position,
        by_type[EntryCorrected.__name__].position,
        by_type[EntrySignaturesVoided.__name__].position,  # the correction voided the signature
    }
    assert by_type[EntryCorrected.__name__].summary == "Entry R1 corrected (workload): Typo"
    assert by_type[EntrySignaturesVoided.__name__].summary == (
        "Signatures on R1 voided by its correction: the supervisor must sign it again"
    )


def test_keyset_pagination_and_filters(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    _child_story(app)
    catch_up_all(database, app, engine)
    everything = _trail(engine)
    seen: list[int] = []
    cursor = None
    while True:
        page = subject_trail(
            engine,
            authority_code=AUTHORITY,
            subject_kind="child",
            local_id="C1",
            first=3,
            after=cursor,
        )
        seen.extend(e.position for e in page.entries)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [e.position for e in everything]
    assert [e.event_type for e in _trail(engine, kinds=["disagreement"])] == [
        DisagreementRaised.__name__,
        DisagreementEscalated.__name__,
        DisagreementResolved.__name__,
    ]
    assert [e.actor_id for e in _trail(engine, actor_id="TM1")] == [
        "TM1"
    ] * 4  # with the resolution
    window = _trail(engine, occurred_from=T + timedelta(days=1), occurred_to=T + timedelta(days=3))
    assert [e.event_type for e in window] == [
        DisagreementRaised.__name__,
        DisagreementEscalated.__name__,
    ]


@pytest.mark.parametrize(
    "cursor", ["", "not-base64!", encode_cursor(5)[:-2], "YXVkaXQ6LTE=", "b3RoZXI6NQ=="]
)
def test_invalid_cursors_are_refused(
    database: DatabaseSettings, app: OversightApplication, engine: Engine, cursor: str
) -> None:
    with pytest.raises(InvalidCursor):
        subject_trail(
            engine, authority_code=AUTHORITY, subject_kind="child", local_id="C1", after=cursor
        )


def test_another_authority_sees_nothing(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    _child_story(app)
    catch_up_all(database, app, engine)
    page = subject_trail(engine, authority_code="OTHER-LA", subject_kind="child", local_id="C1")
    assert page.entries == [] and page.next_cursor is None
