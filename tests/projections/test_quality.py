"""Audits and quota windows on the read side (ADR 0023), on both stores: the projection's
audit rows follow disputes and moderation, each auditor's quota is computed per period
with a breached window (a finding citing the rule) when it is missed, and a rebuild gives
the same rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from application.app import OversightApplication
from domain import commands as c
from domain.events import QualityAuditModerated, SupervisionFileAudited
from domain.policy.packs import PackLibrary
from domain.vocabulary import Role
from oversight.settings import DatabaseSettings
from projections.audit_trail import subject_trail
from projections.compliance import Compliance, audit_rows, quotas_for, supervision_sheet_for
from tests.helpers import actor, common, register_child, register_worker, setup_authority
from tests.projections.conftest import catch_up_all, checksum, make_runner

LIBRARY = PackLibrary.load()
SHR_FOLDER = dict.fromkeys(
    ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8", "2.1", "2.2", "2.3", "2.4", "2.5"],
    True,
)
YEAR = date.today().year - 2
JOINED = datetime(YEAR - 1, 12, 1, tzinfo=UTC)


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)


def _line(app: OversightApplication, pack: str = "SHR") -> None:
    """HOS1 > SM1 > TM1 > SW1, SW2; SM1 > TM2 > SW3 (Shropshire's, unless ``pack``)."""
    setup_authority(app, pack=pack)
    for staff_id, role, manager in (
        ("HOS1", "head_of_service", None),
        ("SM1", "service_manager", "HOS1"),
        ("TM1", "team_manager", "SM1"),
        ("TM2", "team_manager", "SM1"),
        ("SW1", "social_worker", "TM1"),
        ("SW2", "social_worker", "TM1"),
        ("SW3", "social_worker", "TM2"),
    ):
        register_worker(
            app,
            staff_id,
            role=role,
            line_manager_id=manager,
            when=JOINED,
            start_date=JOINED.date(),
            case_holding=role == "social_worker",
        )


def _audit(staff_id: str, audit_id: str, day: date, who: str = "SM1", **extra: Any) -> c.Command:
    return c.AuditSupervisionFile(
        **common(_at(day), actor(who, Role.SERVICE_MANAGER)),
        staff_id=staff_id,
        audit_id=audit_id,
        period_from=day - timedelta(days=180),
        period_to=day,
        answers=dict(SHR_FOLDER),
        judgement=extra.get("judgement", "Good"),
    )


def test_quota_windows_are_met_and_breached_per_auditor_and_quarter(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    _line(app)
    # SM1 audits a social worker's file in Q1 only; HOS1 a team manager's in Q2 only.
    app.execute(_audit("SW1", "A1", date(YEAR, 2, 10), judgement="Inadequate"))
    app.execute(_audit("TM1", "A2", date(YEAR, 5, 10), who="HOS1"))
    app.execute(
        c.DisputeAudit(
            **common(_at(date(YEAR, 2, 12)), actor("TM1", Role.TEAM_MANAGER)),
            staff_id="SW1",
            audit_id="A1",
            reasons="Supervision was monthly.",
        )
    )
    make_runner(database, app, engine, Compliance()).catch_up()

    with engine.connect() as conn:
        rows = audit_rows(conn, LIBRARY, "TEST-LA", start=date(YEAR, 1, 1), end=date(YEAR, 12, 31))
    assert [(r.audit_id, r.auditor_id, r.disputed_by, r.concern) for r in rows] == [
        ("A1", "SM1", "TM1", True),
        ("A2", "HOS1", None, False),
    ]
    assert rows[0].rule_id == "SHR-5.8" and rows[0].supervisor_id == "TM1"

    windows = quotas_for(engine, LIBRARY, "TEST-LA", start=date(YEAR, 1, 1), end=date(YEAR, 12, 31))
    by = {(w.rule_key, w.auditor_id, w.starts_on.month): w for w in windows}
    social = "SHR-5.8/social-worker-files"
    assert by[(social, "SM1", 1)].done == 1 and by[(social, "SM1", 1)].due == 1
    assert by[(social, "SM1", 4)].done == 0
    as_of = date(YEAR + 1, 1, 15)
    due_soon = LIBRARY.get("SHR").due_soon
    assert by[(social, "SM1", 1)].status(as_of, due_soon) == "met"
    assert by[(social, "SM1", 4)].status(as_of, due_soon) == "breached"
    assert "[SHR-5.8]" in by[(social, "SM1", 4)].finding()
    team = "SHR-5.8/team-manager-file"
    assert by[(team, "HOS1", 4)].done == 1
    assert by[(team, "HOS1", 1)].status(as_of, due_soon) == "breached"
    # The service manager's own file: its grandparent is no one here (HOS1 has no manager).
    assert not [w for w in windows if w.rule_key == "SHR-5.8/service-manager-file"]

    # A rebuild gives the same rows.
    before = checksum(engine, Compliance())
    make_runner(database, app, engine, Compliance()).rebuild()
    assert checksum(engine, Compliance()) == before


def test_audits_are_on_the_trail_and_the_tracking_sheets(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    _line(app)
    app.execute(_audit("SW1", "A1", date(YEAR, 2, 10), judgement="Inadequate"))
    app.execute(
        c.ModerateAudit(
            **common(_at(date(YEAR, 3, 1)), actor("HOS1", Role.HEAD_OF_SERVICE)),
            staff_id="SW1",
            audit_id="A1",
            judgement="Requires Improvement",
            rationale="Section 1 was complete.",
        )
    )
    catch_up_all(database, app, engine)

    page = subject_trail(
        engine,
        authority_code="TEST-LA",
        subject_kind="worker",
        local_id="SW1",
        kinds=["quality_audit"],
    )
    assert [(e.event_type, e.actor_id, e.entry_ref) for e in page.entries] == [
        (SupervisionFileAudited.__name__, "SM1", "A1"),
        (QualityAuditModerated.__name__, "HOS1", "A1"),
    ]
    assert all(e.rule_ids and "SHR-5.8" in e.rule_ids for e in page.entries)
    assert "Inadequate" in page.entries[0].summary
    assert "changed to Requires Improvement" in page.entries[1].summary

    as_of = date(YEAR, 12, 31)
    sheet = supervision_sheet_for(engine, LIBRARY, "TEST-LA", "SW1", as_of=as_of)
    assert sheet is not None
    assert [
        (a.audit_id, a.auditor_id, a.graded, a.judgement, a.moderated_by) for a in sheet.audits
    ] == [("A1", "SM1", "Inadequate", "Requires Improvement", "HOS1")]
    before = supervision_sheet_for(engine, LIBRARY, "TEST-LA", "SW1", as_of=date(YEAR, 2, 9))
    assert before is not None and before.audits == []
    # The grandparent's own sheet shows their quota windows: Q1 met; Q2 to Q4 breached.
    auditor = supervision_sheet_for(
        engine, LIBRARY, "TEST-LA", "SM1", as_of=as_of, since=date(YEAR, 1, 1)
    )
    assert auditor is not None
    social = [q for q in auditor.audit_quotas if q.rule_key == "SHR-5.8/social-worker-files"]
    assert [(q.start.month, q.done, q.status) for q in social] == [
        (1, 1, "met"),
        (4, 0, "breached"),
        (7, 0, "breached"),
        (10, 0, "due_soon"),
    ]


def test_portsmouths_dip_sample_is_one_case_a_quarter_by_the_supervisors_manager(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    _line(app, pack="POR")
    for child, worker in (("C1", "SW1"), ("C2", "SW3")):
        register_child(app, child, when=JOINED)
        app.execute(
            c.AllocateWorker(
                **common(JOINED + timedelta(hours=1)),
                child_id=child,
                worker_id=worker,
                reason="NEW",
                team="Team A",
            )
        )
    day = date(YEAR, 3, 3)
    app.execute(
        c.AuditCaseFile(
            **common(_at(day), actor("SM1", Role.SERVICE_MANAGER)),
            child_id="C2",
            audit_id="D1",
            period_from=day - timedelta(days=90),
            period_to=day,
            answers={"story": True, "analysis": True, "reflection": True, "actions": True},
            judgement="At the standard required",
        )
    )
    make_runner(database, app, engine, Compliance()).catch_up()
    windows = quotas_for(engine, LIBRARY, "TEST-LA", start=date(YEAR, 1, 1), end=date(YEAR, 6, 30))
    assert [
        (w.rule_key, w.auditor_id, w.starts_on.month, w.due, w.done, w.files) for w in windows
    ] == [
        ("POR-7/dip-sample", "SM1", 1, 1, 1, ("C1", "C2")),
        ("POR-7/dip-sample", "SM1", 4, 1, 0, ("C1", "C2")),
    ]
