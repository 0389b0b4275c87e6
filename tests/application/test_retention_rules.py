"""Retention: the purge schedule's rules [DUR-4.9, POR-6.2d, BUR-RET, SHR-5.7, CPPCR-50,
AAR-42, RET-CP, RET-CIN], legal holds, and the purge command (ADR 0012)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from application.app import OversightApplication
from domain import commands as c
from domain.access import AccessLog
from domain.errors import DomainError, NotFound, ValidationError
from domain.events import ContentPurged, EntryCorrected, RecordAccessed, RecordPurged, kind_of
from domain.policy.packs import PackError, PackLibrary, parse_pack
from domain.policy.retention import RecordRef, fact_of, schedule
from domain.subject import SubjectPurged
from domain.vocabulary import (
    Role,
)
from oversight.settings import DatabaseSettings
from tests.helpers import (
    actor,
    cid,
    common,
    opened,
    register_child,
    register_worker,
    setup_authority,
    topics,
)

SENTINEL = "SENTINEL-7f3a9c-retention"
THEN = datetime(2012, 3, 1, 10, 0, tzinfo=UTC)
DPO = actor("DPO1", Role.DATA_PROTECTION_OFFICER)


def at(days: int) -> datetime:
    return THEN + timedelta(days=days)


def _worker_with_a_session(
    app: OversightApplication, staff_id: str = "SW1", text: str = SENTINEL
) -> None:
    register_worker(app, staff_id, when=THEN, start_date=THEN.date())
    app.execute(
        c.ScheduleSupervisionSession(
            **common(at(10)),
            staff_id=staff_id,
            session_id=f"{staff_id}-S1",
            supervisor_id="TM1",
            scheduled_for=at(20),
        )
    )
    app.execute(
        c.HoldSupervisionSession(
            **common(at(20)),
            staff_id=staff_id,
            session_id=f"{staff_id}-S1",
            supervisor_id="TM1",
            duration_minutes=90,
            functions_covered=["management", "development"],
            wellbeing_discussed=True,
            equality_and_diversity_discussed=True,
        )
    )
    app.execute(
        c.WritePersonalSupervisionRecord(
            **common(at(21)),
            staff_id=staff_id,
            record_id=f"{staff_id}-R1",
            session_id=f"{staff_id}-S1",
            actions_reviewed="All reviewed",
            wellbeing=f"Discussed {text}",
            workload="Manageable",
            development="Court skills",
            disagreements=None,
            agreed_actions=[],
        )
    )


def _items(app: OversightApplication, staff_id: str = "SW1") -> dict[RecordRef, Any]:
    worker = app.get_worker("TEST-LA", staff_id)
    stored = [
        *app.command_log.select_subject_notifications(worker.id),
        *app.command_log.select_subject_notifications(AccessLog.create_id(worker.id)),
    ]
    facts = [fact_of(n.id, app.mapper.to_domain_event(n)) for n in stored]
    pack = app.policy_packs.get(app.get_authority("TEST-LA").policy_pack)
    return {i.record: i for i in schedule("worker", staff_id, facts, pack)}


def _purge(app: OversightApplication, record_class: str, record_id: str, **who: Any) -> Any:
    return app.execute(
        c.PurgeRecord(
            **common(who=who.get("who", DPO)),
            staff_id=who.get("staff_id", "SW1"),
            record_class=record_class,
            record_id=record_id,
            as_of=who.get("as_of", date.today()),
        )
    )


def _stored_bytes(app: OversightApplication, staff_id: str = "SW1") -> bytes:
    worker_id = app.get_worker("TEST-LA", staff_id).id
    return b"".join(n.state for n in app.command_log.select_subject_notifications(worker_id))


# -- the schedule ----------------------------------------------------------------------------


def test_durham_keeps_each_supervision_six_years_from_the_session(
    app: OversightApplication,
) -> None:
    setup_authority(app, pack="DUR")
    _worker_with_a_session(app)
    items = _items(app)
    session = items[RecordRef("personal_supervision", "SW1-S1")]
    assert session.rule_id == "DUR-4.9"
    assert session.trigger == "record_date"
    assert session.trigger_date == at(20).date()
    assert session.due_on == date(2018, 3, 21)
    # The personal record and its events belong to the supervision they record.
    assert len(session.positions) == 3
    file = items[RecordRef("worker_file", "SW1")]
    assert file.trigger == "left_employment" and file.due_on is None  # still employed


@pytest.mark.parametrize(
    ("pack", "rule", "years"),
    [("POR", "POR-6.2d", 7), ("BUR", "BUR-RET", 2), ("SHR", "SHR-5.7", 6)],
)
def test_leaver_rules_run_from_the_last_day(
    app: OversightApplication, pack: str, rule: str, years: int
) -> None:
    setup_authority(app, pack=pack)
    _worker_with_a_session(app)
    session = _items(app)[RecordRef("personal_supervision", "SW1-S1")]
    assert (session.rule_id, session.due_on) == (rule, None)  # not yet left
    app.execute(
        c.LeaveEmployment(
            **common(at(400)), staff_id="SW1", last_day=at(400).date(), reason="New job"
        )
    )
    items = _items(app)
    left = at(400).date()
    expected = date(left.year + years, left.month, left.day)
    assert items[RecordRef("personal_supervision", "SW1-S1")].due_on == expected
    assert items[RecordRef("worker_file", "SW1")].due_on == expected


def test_the_personal_file_goes_no_earlier_than_the_last_supervision_record(
    app: OversightApplication,
) -> None:
    setup_authority(app, pack="DUR")
    _worker_with_a_session(app)
    app.execute(
        c.LeaveEmployment(**common(at(30)), staff_id="SW1", last_day=at(30).date(), reason="Moved")
    )
    items = _items(app)
    # Left 2012-03-31: 6 years after is 2018-03-31, the session's own due date is
    # 2018-03-21: the file waits for the later of the two.
    assert items[RecordRef("worker_file", "SW1")].due_on == date(2018, 3, 31)


def _child_items(app: OversightApplication, child: str = "C1") -> Any:
    subject = app.get_child("TEST-LA", child)
    stored = app.command_log.select_subject_notifications(subject.id)
    facts = [fact_of(n.id, app.mapper.to_domain_event(n)) for n in stored]
    pack = app.policy_packs.get("DUR")
    (item,) = schedule("child", child, facts, pack)
    return item


def test_child_in_need_only_falls_back_to_the_documented_default(app: OversightApplication) -> None:
    setup_authority(app)
    register_child(app, "C1", when=THEN, date_of_birth=date(2010, 1, 5), case_type="cin")
    item = _child_items(app)
    assert (item.rule_id, item.due_on) == ("RET-CIN", date(2035, 1, 5))


def test_looked_after_child_75_years_from_birth_or_15_from_death_under_18(
    app: OversightApplication,
) -> None:
    setup_authority(app)
    register_child(app, "C1", when=THEN, date_of_birth=date(2010, 1, 5), case_type="cla")
    assert (_child_items(app).rule_id, _child_items(app).due_on) == ("CPPCR-50", date(2085, 1, 5))
    app.execute(c.RecordChildDeath(**common(at(5)), child_id="C1", died_on=at(5).date()))
    item = _child_items(app)
    assert (item.rule_id, item.trigger, item.due_on) == ("CPPCR-50", "death", date(2027, 3, 6))


def test_adoption_keeps_the_record_100_years_from_the_order(app: OversightApplication) -> None:
    setup_authority(app)
    register_child(app, "C1", when=THEN, date_of_birth=date(2010, 1, 5), case_type="cla")
    app.execute(
        c.RecordAdoptionOrder(**common(at(50)), child_id="C1", order_made_on=date(2012, 4, 1))
    )
    item = _child_items(app)
    assert (item.rule_id, item.due_on) == ("AAR-42", date(2112, 4, 1))


def test_child_protection_waits_for_closure_then_35_years(app: OversightApplication) -> None:
    setup_authority(app)
    register_child(app, "C1", when=THEN, date_of_birth=date(2010, 1, 5), case_type="cp")
    item = _child_items(app)
    assert (item.rule_id, item.trigger, item.due_on) == ("RET-CP", "case_closed", None)
    app.execute(c.CloseCase(**common(at(100)), child_id="C1", kind="closed", reason="Safe"))
    assert _child_items(app).due_on == date(2047, 6, 9)


def test_a_significant_incident_holds_the_child_record_automatically(
    app: OversightApplication,
) -> None:
    setup_authority(app)
    register_child(app, "C1", when=THEN, date_of_birth=date(2010, 1, 5))
    app.execute(
        c.TriggerOversight(
            **common(at(3)),
            child_id="C1",
            trigger_id="T1",
            kind="significant_incident",
            detail="Injury",
            incident_dates=[at(2).date()],
        )
    )
    item = _child_items(app)
    assert [(h.hold_id, h.kind) for h in item.holds] == [("T1:hold", "learning_review")]


# -- the pack format -------------------------------------------------------------------------


def test_a_retention_rule_with_an_unknown_trigger_is_refused_naming_the_field() -> None:
    document = {
        "pack": {"id": "BAD"},
        "retention": [
            {"id": "BAD-1", "record": "worker_file", "title": "x", "from": "moon", "keep": "P1Y"}
        ],
    }
    with pytest.raises(PackError) as caught:
        parse_pack(document, "bad.toml")
    assert caught.value.field == "from"


def test_every_built_in_pack_states_a_period_for_every_child_record() -> None:
    for pack in PackLibrary.load().packs.values():
        assert {r.rule_id for r in pack.retention if r.record_class == "child_record"} == {
            "CPPCR-50",
            "AAR-42",
            "RET-CP",
            "RET-CIN",
        }


# -- the purge -------------------------------------------------------------------------------


def test_purge_destroys_the_record_content_and_the_subject_still_replays(
    app: OversightApplication,
) -> None:
    setup_authority(app, pack="DUR")
    _worker_with_a_session(app)
    before = app.get_worker("TEST-LA", "SW1").version
    assert SENTINEL.encode() in _stored_bytes(app)
    result = _purge(app, "personal_supervision", "SW1-S1")
    assert result.position is not None
    assert SENTINEL.encode() not in _stored_bytes(app)
    worker = app.get_worker("TEST-LA", "SW1")  # replays through the tombstones
    assert worker.version == before + 1
    assert "SW1-S1" not in worker.sessions
    assert worker.purged == {"personal_supervision:SW1-S1": "DUR-4.9"}
    stored = app.command_log.select_subject_notifications(worker.id)
    events = [app.mapper.to_domain_event(n) for n in stored]
    found = [kind_of(e) for e in events]
    assert found.count(ContentPurged) == 3 and found[-1] is RecordPurged
    tombstones = [e for e in events if kind_of(e) is ContentPurged]
    assert [(e.record_class, e.record_id) for e in tombstones] == [
        ("personal_supervision", "SW1-S1")
    ] * 3
    assert set(vars(tombstones[0])) == {
        "originator_id",
        "originator_version",
        "timestamp",
        "record_class",
        "record_id",
        "authority_code",
    }  # nothing of the event: not even its type
    assert [n.originator_version for n in stored] == list(range(1, len(stored) + 1))
    item = _items(app)[RecordRef("personal_supervision", "SW1-S1")]
    assert item.purged is not None and item.purged.rule_id == "DUR-4.9"
    assert item.purged.authorised_by == "DPO1 (data_protection_officer)"


def test_a_purge_reaches_the_aggregates_other_processes_keep(
    app: OversightApplication, database: DatabaseSettings
) -> None:
    """ADR 0016: another process keeps the worker between commands. The purge rewrites
    events its kept worker was folded from; the ``RecordPurged`` appended with them
    makes that process fold the history again when it next reads the store. Brought
    up to date instead, its worker would still hold the purged session, and a
    correction to it would be accepted and written."""
    setup_authority(app, pack="DUR")
    _worker_with_a_session(app)
    correction = c.CorrectEntry(
        **common(at(30)),
        staff_id="SW1",
        entry_id="SW1-S1",
        changes={"duration_minutes": 45},
        reason="Minutes mis-typed",
    )
    with opened(database) as other:
        other.execute(  # now keeps the worker, session and all
            c.ScheduleSupervisionSession(
                **common(at(25)),
                staff_id="SW1",
                session_id="SW1-S2",
                supervisor_id="TM1",
                scheduled_for=at(40),
            )
        )
        _purge(app, "personal_supervision", "SW1-S1")
        for trusting in (False, True):  # the store read first; the kept worker trusted
            with pytest.raises(NotFound) as refused:
                other._execute_once(replace(correction, command_id=cid()), trusting=trusting)
            assert refused.value.field == "entry_id"
        worker = app.get_worker("TEST-LA", "SW1")
        assert worker.purged == {"personal_supervision:SW1-S1": "DUR-4.9"}
        assert EntryCorrected.__name__ not in topics(app)


def test_purge_refuses_what_is_not_due_held_or_gone_and_writes_nothing(
    app: OversightApplication,
) -> None:
    setup_authority(app, pack="DUR")
    _worker_with_a_session(app)
    version = app.get_worker("TEST-LA", "SW1").version
    with pytest.raises(ValidationError) as caught:
        _purge(app, "personal_supervision", "SW1-S1", as_of=date(2018, 3, 20))
    assert caught.value.field == "as_of" and "DUR-4.9" in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        _purge(app, "worker_file", "SW1")  # still employed
    assert caught.value.field == "record_id" and "left_employment" in str(caught.value)
    with pytest.raises(NotFound) as missing:
        _purge(app, "personal_supervision", "NOPE")
    assert missing.value.field == "record_id"
    with pytest.raises(ValidationError) as caught:
        _purge(app, "shoebox", "SW1-S1")
    assert caught.value.field == "record_class"
    with pytest.raises(ValidationError) as caught:
        _purge(app, "personal_supervision", "SW1-S1", as_of=date.today() + timedelta(days=1))
    assert caught.value.field == "as_of"
    app.execute(
        c.PlaceLegalHold(
            **common(who=DPO), staff_id="SW1", hold_id="H1", kind="litigation", reference="ET/1"
        )
    )
    with pytest.raises(ValidationError) as caught:
        _purge(app, "personal_supervision", "SW1-S1")
    assert caught.value.field == "record_id" and "H1 (litigation)" in str(caught.value)
    assert app.get_worker("TEST-LA", "SW1").version == version + 1  # only the hold
    assert SENTINEL.encode() in _stored_bytes(app)
    app.execute(c.LiftLegalHold(**common(who=DPO), staff_id="SW1", hold_id="H1", reason="Settled"))
    _purge(app, "personal_supervision", "SW1-S1")
    with pytest.raises(ValidationError) as caught:
        _purge(app, "personal_supervision", "SW1-S1")
    assert "already purged" in str(caught.value)


def test_a_purged_subject_reads_as_purged_not_as_a_crash(app: OversightApplication) -> None:
    setup_authority(app, pack="DUR")
    register_child(app, "C1", when=THEN, date_of_birth=date(1990, 1, 5), case_type="cin")
    app.execute(
        c.PurgeRecord(
            **common(who=DPO),
            child_id="C1",
            record_class="child_record",
            record_id="C1",
            as_of=date.today(),
        )
    )
    with pytest.raises(SubjectPurged) as caught:
        app.get_child("TEST-LA", "C1")
    assert isinstance(caught.value, DomainError) and caught.value.field == "subject"


def test_an_access_log_year_is_purged_and_the_log_carries_on(app: OversightApplication) -> None:
    """RET-ACCESS: each calendar year of who read the record is a record of its own, kept
    6 years from its last read; purging the year that opened the log leaves a log that
    still takes reads."""
    setup_authority(app, pack="DUR")
    _worker_with_a_session(app)
    auditor = actor("AUD1", Role.AUDITOR)
    for day in (30, 40):
        app.execute(
            c.RecordAccess(
                **common(at(day), auditor), staff_id="SW1", what="personal file",
                purpose=f"Audit {SENTINEL}",
            )
        )  # fmt: skip
    item = _items(app)[RecordRef("access_log", "2012")]
    assert (item.rule_id, item.trigger_date, item.due_on) == (
        "RET-ACCESS",
        at(40).date(),
        date(2018, 4, 10),
    )
    assert len(item.positions) == 3  # the log's opening and two reads
    _purge(app, "access_log", "2012")
    log_id = AccessLog.create_id(app.get_worker("TEST-LA", "SW1").id)
    stored = app.command_log.select_subject_notifications(log_id)
    assert all(SENTINEL.encode() not in n.state for n in stored)
    app.execute(
        c.RecordAccess(
            **common(who=auditor), staff_id="SW1", what="personal file", purpose="Annual audit"
        )
    )
    log = app.repository.get(log_id)
    assert log.version == 4
    last = next(iter(app.events.get(log_id, desc=True, limit=1)))
    assert kind_of(last) is RecordAccessed and last.purpose == "Annual audit"
    assert _items(app)[RecordRef("access_log", "2012")].purged is not None
    assert _items(app)[RecordRef("access_log", str(date.today().year))].rule_id == "RET-ACCESS"


def test_a_read_appends_to_the_access_log_without_replaying_its_earlier_reads(
    app: OversightApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DUR-4.8a: every read goes on the log, kept for years; appending one reads the
    log's opening and its last event only, however many reads came before, and each
    read is its next version."""
    setup_authority(app, pack="DUR")
    _worker_with_a_session(app)
    auditor = actor("AUD1", Role.AUDITOR)
    log_id = AccessLog.create_id(app.get_worker("TEST-LA", "SW1").id)
    fetched: list[int] = []
    original = app.events.get

    def counting(originator_id: Any, *args: Any, **kwargs: Any) -> Any:
        events = list(original(originator_id, *args, **kwargs))
        if originator_id == log_id:
            fetched.append(len(events))
        return iter(events)

    monkeypatch.setattr(app.events, "get", counting)
    for day in range(30, 42):
        fetched.clear()
        app.execute(
            c.RecordAccess(
                **common(at(day), auditor), staff_id="SW1", what="personal file",
                purpose=f"Audit {day}",
            )
        )  # fmt: skip
        assert sum(fetched) <= 2, fetched
    monkeypatch.undo()
    stored = list(app.events.get(log_id))
    assert [e.originator_version for e in stored] == list(range(1, 14))
    assert [e.purpose for e in stored[1:]] == [f"Audit {day}" for day in range(30, 42)]


def test_adoption_orders_and_deaths_refuse_bad_dates_naming_the_field(
    app: OversightApplication,
) -> None:
    setup_authority(app)
    register_child(app, "C1", when=THEN, date_of_birth=date(2010, 1, 5), case_type="cla")
    version = app.get_child("TEST-LA", "C1").version
    future = date.today() + timedelta(days=1)
    for command, field in (
        (c.RecordAdoptionOrder(**common(), child_id="C1", order_made_on=future), "order_made_on"),
        (c.RecordChildDeath(**common(), child_id="C1", died_on=future), "died_on"),
        (c.RecordChildDeath(**common(), child_id="C1", died_on=date(2009, 1, 1)), "died_on"),
    ):
        with pytest.raises(ValidationError) as caught:
            app.execute(command)
        assert caught.value.field == field
    app.execute(c.RecordChildDeath(**common(), child_id="C1", died_on=date(2012, 1, 1)))
    with pytest.raises(ValidationError) as caught:
        app.execute(c.RecordChildDeath(**common(), child_id="C1", died_on=date(2012, 1, 2)))
    assert caught.value.field == "died_on" and "already" in str(caught.value)
    assert app.get_child("TEST-LA", "C1").version == version + 1


def test_a_purge_planned_before_a_late_append_is_refused_not_half_done(
    app: OversightApplication,
) -> None:
    """Between planning a purge and its commit, a read lands in the year being purged:
    the recorder refuses the whole purge (the caller re-plans), so no event of the
    record is left with its content under a record marked purged."""
    from eventsourcing.persistence import IntegrityError

    from application.purge_plan import plan_purge

    setup_authority(app, pack="DUR")
    _worker_with_a_session(app)
    auditor = actor("AUD1", Role.AUDITOR)
    app.execute(
        c.RecordAccess(
            **common(at(30), auditor), staff_id="SW1", what="file", purpose=f"Audit {SENTINEL}"
        )
    )
    command = c.PurgeRecord(
        **common(who=DPO),
        staff_id="SW1",
        record_class="access_log",
        record_id="2012",
        as_of=date.today(),
    )
    plan = plan_purge(app, command)
    app.execute(  # a late read, backdated into 2012
        c.RecordAccess(
            **common(at(31), auditor), staff_id="SW1", what="file", purpose=f"Late {SENTINEL}"
        )
    )
    assert plan.item.rule_id is not None and plan.item.due_on is not None
    plan.subject.purge_record(
        command.provenance(),
        record_class="access_log",
        record_id="2012",
        rule_id=plan.item.rule_id,
        due_on=plan.item.due_on,
        positions=list(plan.positions),
        tombstones=list(plan.tombstones),
    )
    with pytest.raises(IntegrityError):
        app.save(plan.subject, tombstones=list(plan.tombstones))
    log_id = AccessLog.create_id(plan.subject.id)
    stored = app.command_log.select_subject_notifications(log_id)
    assert sum(SENTINEL.encode() in n.state for n in stored) == 2  # nothing rewritten
    app.execute(command)  # planned again: both reads go
    stored = app.command_log.select_subject_notifications(log_id)
    assert not any(SENTINEL.encode() in n.state for n in stored)
