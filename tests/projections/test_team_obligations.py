"""Team findings from the stored facts [DEV-7, POR-3.3] (ADR 0024): the same after a
rebuild, as known at a past time, on the audit trail, and from events stored before the
session kind was recorded (version 1, upcast)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from alembic import command
from click.testing import CliRunner
from eventsourcing.persistence import StoredEvent
from sqlalchemy import Engine, inspect, text

from application.app import OversightApplication
from domain import commands as c
from domain.events import GroupSupervisionAttended, kind_of
from domain.policy.compliance import Status
from domain.policy.packs import PackLibrary
from domain.policy.team_obligations import TeamObligation, team_findings, team_obligations
from domain.vocabulary import Role
from oversight.cli import main
from oversight.schema import alembic_config, upgrade
from oversight.settings import DatabaseSettings
from projections.audit_trail import subject_trail
from projections.compliance import Compliance, team_compliance, team_sheet_for
from projections.compliance.context import authority_context
from projections.compliance.tables import VIEWS
from projections.compliance.teams import stored_team_obligations, team_timelines
from projections.engine import active_generation, generation_table_name
from tests.helpers import AUTHORITY, actor, common, register_worker, setup_authority
from tests.projections.conftest import catch_up_all, make_runner

LIBRARY = PackLibrary.load()
JAN = date(2026, 1, 5)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)


def _devon(app: OversightApplication) -> None:
    setup_authority(app, pack="DEV")
    register_worker(app, "TM1", team="North", start_date=JAN, line_manager_id="SM1")
    for staff_id in ("SW1", "SW2"):
        register_worker(app, staff_id, team="North", start_date=JAN)


def _attend(app: OversightApplication, staff_id: str, session: str, day: date, kind: str) -> None:
    app.execute(
        c.AttendGroupSupervision(
            **common(at(day), actor(staff_id, Role.PRACTITIONER)),
            staff_id=staff_id,
            group_session_id=session,
            facilitator_id="TM1",
            topic="Reflective discussion",
            session_kind=kind,
        )
    )


def _answer(engine: Engine, as_of: date, known_at: datetime | None = None) -> list[tuple]:
    with engine.connect() as conn:
        found = team_compliance(conn, LIBRARY, AUTHORITY, as_of=as_of, known_at=known_at)
    return [
        (f.team, f.finding.rule_key, f.finding.window_start, f.finding.status, f.finding.evidence)
        for f in found.findings
    ]


def test_team_findings_are_the_same_after_a_rebuild(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    _devon(app)
    for who in ("SW1", "SW2", "TM1"):
        _attend(app, who, "G1", date(2026, 2, 3), "group_supervision")
    _attend(app, "SW1", "G2", date(2026, 5, 12), "group_supervision")
    catch_up_all(database, app, engine)
    before = _answer(engine, date(2026, 6, 30))
    # No session from 3 February to 12 May, none after: four months closed without one.
    assert [s for *_, s, _ in before].count(Status.BREACHED) == 4
    make_runner(database, app, engine, Compliance()).rebuild()
    assert _answer(engine, date(2026, 6, 30)) == before


def test_a_session_recorded_later_is_not_known_before_it_was_recorded(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    _devon(app)
    catch_up_all(database, app, engine)
    recorded_before = datetime.now(UTC)
    _attend(app, "SW1", "G1", date(2026, 1, 20), "group_supervision")
    catch_up_all(database, app, engine)
    as_of = date(2026, 1, 31)
    [(_, _, _, status, evidence)] = _answer(engine, as_of)[:1]
    assert status is Status.MET and evidence
    with engine.connect() as conn:
        then = team_compliance(conn, LIBRARY, AUTHORITY, as_of=as_of, known_at=recorded_before)
    assert then.sessions == []
    assert [f.satisfied_on for f in then.findings] == [None]


def test_a_team_session_is_on_the_attendees_audit_trail_citing_its_rules(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    _devon(app)
    _attend(app, "SW1", "T1", date(2026, 2, 3), "team_meeting")
    catch_up_all(database, app, engine)
    [entry] = [
        e
        for e in subject_trail(
            engine, authority_code=AUTHORITY, subject_kind="worker", local_id="SW1"
        ).entries
        if e.entry_ref == "T1"
    ]
    assert entry.summary == "Attended team meeting T1: Reflective discussion"
    # A Devon authority's trail cites Devon's own clause, never Portsmouth's POR-3.3.
    assert entry.rule_ids == "DEV-7"
    assert entry.actor_id == "SW1"  # who recorded it is the caller


def test_an_attendance_stored_before_version_2_counts_as_group_supervision(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    """A version 1 event (no session kind) written to the store as the code before
    ADR 0024 wrote it, read back through the real mapper and counted for DEV-7."""
    _devon(app)
    _attend(app, "SW1", "G1", date(2026, 1, 20), "group_supervision")
    [stored] = [
        n
        for n in app.recorder.select_notifications(start=1, limit=1000)
        if kind_of(app.mapper.to_domain_event(n)) is GroupSupervisionAttended
    ]
    state = app.mapper.transcoder.decode(stored.state)
    assert (state.pop("class_version"), state.pop("session_kind")) == (2, "group_supervision")
    as_v1 = StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=app.mapper.transcoder.encode(state),
    )
    decoded = app.mapper.to_domain_event(as_v1)
    assert decoded.session_kind == "group_supervision"
    assert decoded.group_session_id == "G1"
    # And the fold reads a stored fact without the field as group supervision.
    catch_up_all(database, app, engine)
    with engine.connect() as conn:
        found = team_compliance(conn, LIBRARY, AUTHORITY, as_of=date(2026, 1, 31))
    [session] = found.sessions
    assert session.kind.value == "group_supervision"
    assert found.findings[0].satisfied_on == date(2026, 1, 20)
    assert found.findings[0].finding.window_start == JAN
    assert found.findings[0].finding.due_on == JAN + timedelta(days=31)


def test_the_team_sheet_lists_the_sessions_and_the_breached_windows_by_rule(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    _devon(app)
    for who in ("SW1", "SW2"):
        _attend(app, who, "G1", date(2026, 1, 20), "group_supervision")
    _attend(app, "SW1", "T1", date(2026, 3, 2), "team_meeting")  # no group supervision
    _attend(app, "SW2", "G2", date(2026, 4, 28), "group_supervision")
    catch_up_all(database, app, engine)
    sheet = team_sheet_for(engine, LIBRARY, AUTHORITY, "North", as_of=date(2026, 5, 31))
    assert sheet is not None
    assert [(r.session_id, r.kind, r.attendees, r.gap_days) for r in sheet.sessions] == [
        ("G1", "group supervision", ("SW1", "SW2"), None),
        ("T1", "team meeting", ("SW1",), 41),
        ("G2", "group supervision", ("SW2",), 57),
    ]
    # 20 Jan to 20 Feb and 21 Feb to 20 Mar closed without group supervision (the team
    # meeting is none); 21 Mar to 20 Apr too: G2 came on 28 April; and nothing since.
    assert [(w.start, w.end) for w in sheet.breached] == [
        (date(2026, 1, 20), date(2026, 2, 20)),
        (date(2026, 2, 21), date(2026, 3, 20)),
        (date(2026, 3, 21), date(2026, 4, 20)),
        (date(2026, 4, 28), date(2026, 5, 28)),
    ]
    assert sheet.breached_by_rule == {"DEV-7": 4}
    assert team_sheet_for(engine, LIBRARY, AUTHORITY, "Nowhere", as_of=date(2026, 5, 31)) is None
    result = CliRunner().invoke(
        main,
        ["compliance", "team-sheet", "--authority", AUTHORITY, "--team", "North",
         "--as-of", "2026-05-31"],
        env={"OVERSIGHT_DATABASE_URL": database.url},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "team meeting" in result.output and "DEV-7 4" in result.output
    missing = CliRunner().invoke(
        main,
        ["compliance", "team-sheet", "--authority", AUTHORITY, "--team", "Nowhere"],
        env={"OVERSIGHT_DATABASE_URL": database.url},
    )
    assert missing.exit_code == 3 and "no team 'Nowhere'" in missing.output


def test_settling_stores_each_teams_windows_as_the_facts_give_them(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    """The stored rows answer as a computation from the facts does, and a new session
    marks the authority's teams and is in them once settled."""
    _devon(app)
    _attend(app, "SW1", "G1", date(2026, 1, 20), "group_supervision")
    catch_up_all(database, app, engine)
    as_of = date(2026, 6, 30)

    def stored_and_computed() -> tuple[list[TeamObligation] | None, list[TeamObligation]]:
        with engine.connect() as conn:
            context = authority_context(conn, VIEWS, AUTHORITY, LIBRARY)
            stored = stored_team_obligations(conn, LIBRARY, context, as_of)
            assert context.pack is not None
            computed = team_obligations(team_timelines(conn, AUTHORITY), context.pack, as_of)
            assert conn.execute(text("SELECT count(*) FROM team_dirty")).scalar_one() == 0
        return stored, computed

    stored, computed = stored_and_computed()
    assert stored is not None and stored == computed
    assert [o.obligation.satisfied_on for o in stored][:2] == [date(2026, 1, 20), None]
    _attend(app, "SW2", "G2", date(2026, 2, 10), "group_supervision")
    catch_up_all(database, app, engine)
    stored, computed = stored_and_computed()
    assert stored is not None and stored == computed
    assert [o.obligation.satisfied_on for o in stored][:2] == [date(2026, 1, 20), date(2026, 2, 10)]
    # Not settled: answered from the facts, the same.
    with engine.begin() as conn:
        generation, _ = active_generation(conn, Compliance.name)
        dirty = generation_table_name("team_dirty", generation)
        conn.execute(text(f'INSERT INTO "{dirty}" (authority_code) VALUES (:c)'), {"c": AUTHORITY})
    with engine.connect() as conn:
        context = authority_context(conn, VIEWS, AUTHORITY, LIBRARY)
        assert stored_team_obligations(conn, LIBRARY, context, as_of) is None
    assert _answer(engine, as_of) == [
        (t.team, t.obligation.rule_key, t.obligation.arises_on, s, t.obligation.evidence)
        for t, s in zip(
            computed,
            [f.finding.status for f in team_findings(computed, as_of, LIBRARY.get("DEV"))],
            strict=True,
        )
    ]


def test_a_database_migrated_to_0012_settles_its_teams_without_a_rebuild(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    """Down to 0009 (no team tables) and up again, as a deploy of this change runs on a
    database with settled subjects: the next catch-up computes the teams."""
    _devon(app)
    _attend(app, "SW1", "G1", date(2026, 1, 20), "group_supervision")
    catch_up_all(database, app, engine)
    expected = _answer(engine, date(2026, 6, 30))
    command.downgrade(alembic_config(database), "0009")
    with engine.connect() as conn:
        assert "team_obligation" not in inspect(conn).get_view_names()
    upgrade(database)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT authority_code FROM team_dirty")).scalars().all() == [
            AUTHORITY
        ]
        assert conn.execute(text("SELECT count(*) FROM team_obligation")).scalar_one() == 0
    assert _answer(engine, date(2026, 6, 30)) == expected  # from the facts meanwhile
    catch_up_all(database, app, engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM team_dirty")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM team_obligation")).scalar_one() > 0
    assert _answer(engine, date(2026, 6, 30)) == expected
