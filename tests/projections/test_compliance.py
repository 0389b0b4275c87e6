"""The compliance projection on both stores: settled incrementally, it equals a full
recompute from the event store; authority changes and supervisors' absences reach every
subject they concern; known-at and unsettled questions are answered from the facts;
registers, summaries and tracking sheets read what the rules say."""

from __future__ import annotations

import ast
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, select, text

import projections.compliance as package
from application.app import OversightApplication
from domain import commands as c
from domain.errors import RuleViolation
from domain.events import AuthorityRegistered, SupervisionSessionHeld, WorkerRegistered
from domain.identifiers import authority_id, worker_id
from domain.policy.compliance import Status, obligations
from domain.policy.packs import BUILT_IN, PackLibrary
from domain.policy.team_obligations import team_obligations
from domain.policy.timeline import Fact
from domain.vocabulary import (
    Role,
)
from oversight.generate import DEMO_AUTHORITIES
from oversight.settings import DatabaseSettings
from projections.compliance import (
    Compliance,
    Tally,
    answer,
    case_tracker_for,
    category,
    context_from,
    derive,
    evaluate,
    register_items,
    stored_obligations,
    summary,
    supervision_sheet_for,
    view,
)
from projections.compliance.teams import team_timelines
from projections.history import SKIPPED_FIELDS, dumps
from tests.helpers import actor, common, register_child, register_worker
from tests.projections.conftest import checksum, make_runner

LIBRARY = PackLibrary.load()
TM = actor("TM1", Role.SUPERVISOR)


def _catch_up(
    database: DatabaseSettings, app: OversightApplication, engine: Engine, **overrides: Any
) -> None:
    runner = make_runner(database, app, engine, Compliance(), **overrides)
    runner.catch_up()


def _store_facts(app: OversightApplication) -> dict[str, list[Fact]]:
    """The oracle's facts: read straight from the event store, not from the projection."""
    found: dict[str, list[Fact]] = defaultdict(list)
    start = 1
    while batch := app.recorder.select_notifications(start=start, limit=500):
        for notification in batch:
            event = app.mapper.to_domain_event(notification)
            provenance = getattr(event, "provenance", None)
            if provenance is None or type(event).__qualname__.startswith("AccessLog"):
                continue
            data = {k: v for k, v in vars(event).items() if k not in SKIPPED_FIELDS}
            found[str(event.originator_id)].append(
                Fact(
                    notification.id,
                    type(event).__name__,
                    provenance.occurred_at,
                    event.timestamp,
                    orjson.loads(dumps(data)),
                )
            )
        start = batch[-1].id + 1
    return found


def _full_recompute(app: OversightApplication) -> dict[str, Any]:
    facts = _store_facts(app)
    contexts = {}
    expected: dict[str, Any] = {}
    for subject_id, subject_facts in facts.items():
        code = str(subject_facts[0].data.get("authority_code", ""))
        if subject_facts[0].kind is AuthorityRegistered:
            continue
        if code not in contexts:
            contexts[code] = context_from(code, facts[str(authority_id(code))], LIBRARY)
        supervisors = {
            staff: facts.get(str(worker_id(code, staff)), [])
            for staff in {
                str(f.data.get(k))
                for f in subject_facts
                for k in ("supervisor_id", "line_manager_id")
                if f.data.get(k)
            }
        }
        derived = derive(subject_id, subject_facts, contexts[code], related=supervisors)
        assert derived is not None
        expected[subject_id] = derived
    return expected


def _commands(demo_index: int, until: date, count: int | None = None) -> list[c.Command]:
    commands = list(DEMO_AUTHORITIES[demo_index].generator(5, until).commands())
    return commands[:count] if count is not None else commands


@pytest.mark.slow
def test_settled_incrementally_it_equals_a_full_recompute_and_a_rebuild(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    """Commands arrive in chunks; the runner catches up in small batches after each, so
    subjects are settled many times over. The result must equal a full recompute from the
    event store, and a rebuild of the projection from scratch."""
    commands = _commands(3, date(2026, 6, 30), 1500)  # the Shropshire-pack demo
    for start in range(0, len(commands), 250):
        for command in commands[start : start + 250]:
            app.execute(command)
        _catch_up(database, app, engine, batch_size=37)
    expected = _full_recompute(app)
    assert len(expected) > 40
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM compliance_dirty")).scalar_one() == 0
        for subject_id, derived in expected.items():
            assert stored_obligations(conn, subject_id) == derived.obligations, subject_id
    kinds = {o.rule_id for d in expected.values() for o in d.obligations}
    assert {"SHR-3.6a", "SHR-3.6e", "SHR-APP2", "SWRB-5"} <= kinds
    incremental = checksum(engine, Compliance())
    make_runner(database, app, engine, Compliance()).rebuild()
    assert checksum(engine, Compliance()) == incremental


def _session(staff: str, session: str, day: date, supervisor: str = "TM1") -> c.Command:
    return c.HoldSupervisionSession(
        **common(datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=10), TM),
        staff_id=staff,
        session_id=session,
        supervisor_id=supervisor,
        duration_minutes=90,
        functions_covered=["management", "support"],
        wellbeing_discussed=True,
        equality_and_diversity_discussed=True,
        case_discussions=[],
    )


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _authority(app: OversightApplication, pack: str, library: PackLibrary | None = None) -> None:
    """The test authority, registered on a fixed day (the scenarios use fixed dates)."""
    if library is not None:
        app.policy_packs = library  # type: ignore[misc]  # the packs this test loaded
    app.execute(
        c.RegisterAuthority(
            **common(_at(date(2025, 1, 1))),
            authority_code="TEST-LA",
            name="Test Council",
            policy_pack=pack,
        )
    )
    for staff, manager, role in (("TM1", None, "team_manager"), ("SW1", "TM1", "social_worker")):
        register_worker(
            app,
            staff,
            line_manager_id=manager,
            role=role,
            start_date=START_DAY,
            when=_at(START_DAY),
        )


def _rules(
    engine: Engine, staff: str, as_of: date, prefix: str, library: PackLibrary = LIBRARY
) -> list[Any]:
    result = evaluate(engine, library, str(worker_id("TEST-LA", staff)), as_of=as_of)
    assert result is not None
    return [f for f in result.findings if f.rule_key.startswith(prefix)]


def test_closure_days_and_a_new_pack_recompute_every_subject_of_the_authority(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    _authority(app, "DUR")
    held = date(2026, 3, 2)  # a Monday; ten working days later is Monday 16 March
    app.execute(_session("SW1", "S1", held))
    _catch_up(database, app, engine)
    [record] = _rules(engine, "SW1", date(2026, 3, 3), "DUR-4.7a/shared")
    assert record.due_on == date(2026, 3, 16)
    # The authority closes on Friday 6 March: every deadline counting across it moves.
    app.execute(c.AddClosureDay(**common(_at(START_DAY)), day=date(2026, 3, 6), reason="Strike"))
    _catch_up(database, app, engine)
    [record] = _rules(engine, "SW1", date(2026, 3, 3), "DUR-4.7a/shared")
    assert record.due_on == date(2026, 3, 17)
    # Adopting the Shropshire pack re-evaluates every subject against it.
    app.execute(c.AdoptPolicyPack(**common(_at(date(2026, 3, 3))), policy_pack="SHR"))
    _catch_up(database, app, engine)
    assert _rules(engine, "SW1", date(2026, 3, 3), "DUR-") == []
    assert _rules(engine, "SW1", date(2026, 3, 3), "SHR-")
    with engine.connect() as conn:
        packs = set(conn.execute(select(view("compliance_subject").c.pack_id)).scalars())
    assert packs == {"SHR"}


START_DAY = date(2025, 6, 2)


def test_a_supervisors_absence_reaches_their_supervisees(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    """POR-3.1e reads another aggregate: recorded after the supervisee's own events, the
    supervisor's absence still changes the supervisee's findings."""
    _authority(app, "POR")
    _catch_up(database, app, engine)
    assert _rules(engine, "SW1", date(2026, 6, 1), "POR-3.1e") == []
    away = date(2026, 3, 4)
    app.execute(
        c.StartAbsence(
            **common(_at(away)),
            staff_id="TM1",
            absence_id="TM1-A1",
            kind="sickness",
            started_on=away,
        )
    )
    _catch_up(database, app, engine)
    [finding] = _rules(engine, "SW1", date(2026, 5, 1), "POR-3.1e")
    assert finding.status is Status.OVERDUE and finding.due_on == date(2026, 4, 29)
    app.execute(_session("SW1", "S1", date(2026, 4, 20), supervisor="TM2"))
    _catch_up(database, app, engine)
    [finding] = _rules(engine, "SW1", date(2026, 5, 1), "POR-3.1e")
    assert finding.status is Status.MET


def test_known_at_and_unsettled_subjects_are_answered_from_the_facts(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    _authority(app, "POR")
    app.execute(_session("SW1", "S1", date(2025, 7, 1)))
    app.execute(_session("SW1", "S2", date(2025, 9, 1)))  # two months after: within POR-3.1b
    _catch_up(database, app, engine)
    subject = str(worker_id("TEST-LA", "SW1"))
    before = datetime.now(UTC)
    # Corrected later: S2 was in fact held on 3 September, beyond two months.
    app.execute(
        c.CorrectEntry(
            **common(_at(date(2025, 9, 10)), TM),
            staff_id="SW1",
            entry_id="S2",
            changes={"held_on": "2025-09-03T10:00:00+00:00"},
            reason="Wrong date typed",
        )
    )

    def gap(known_at: datetime | None) -> tuple[Status, str]:
        result = evaluate(engine, LIBRARY, subject, as_of=date(2025, 10, 1), known_at=known_at)
        assert result is not None
        [second] = [
            f
            for f in result.findings
            if f.rule_key == "POR-3.1b" and f.window_start == date(2025, 7, 1)
        ]
        return second.status, result.source

    _catch_up(database, app, engine)
    assert gap(None) == (Status.BREACHED, "stored")
    assert gap(before) == (Status.MET, "computed")  # as known before the correction
    # Marked but not yet settled: answered from the facts, and the same.
    runner = make_runner(database, app, engine, Compliance())
    app.execute(_session("SW1", "S3", date(2025, 9, 20)))
    runner.catch_up(settle=False)
    with engine.connect() as conn:
        unsettled = answer(conn, LIBRARY, subject, as_of=date(2025, 10, 1))
    assert unsettled is not None and unsettled.source == "computed"
    runner.settle()
    with engine.connect() as conn:
        settled = answer(conn, LIBRARY, subject, as_of=date(2025, 10, 1))
    assert settled is not None and settled.source == "stored"
    assert settled.obligations == unsettled.obligations
    # Asked about a day beyond the horizon its obligations were computed to: from facts.
    far = evaluate(engine, LIBRARY, subject, as_of=date(2031, 1, 1))
    assert far is not None and far.source == "computed"
    assert (
        evaluate(engine, LIBRARY, str(worker_id("TEST-LA", "NOBODY")), as_of=date.today()) is None
    )


def _child_of_sw1(app: OversightApplication, opened: date) -> None:
    register_child(app, "C1", when=_at(opened))
    app.execute(
        c.AllocateWorker(
            **common(_at(opened, 11), TM),
            child_id="C1",
            worker_id="SW1",
            reason="NEW",
            team="Team A",
        )
    )


def _child_story(app: OversightApplication) -> None:
    _authority(app, "DEV")
    _child_of_sw1(app, date(2025, 7, 1))


def test_registers_list_open_items_with_their_pack_deadlines(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    _child_story(app)
    app.execute(
        c.SetAction(
            **common(_at(date(2025, 7, 2)), TM),
            child_id="C1",
            action={
                "action_id": "A1",
                "description": "Visit the child",
                "owner": "SW1",
                "due_on": date(2025, 7, 20),
            },
        )
    )
    app.execute(
        c.RaiseDisagreement(
            **common(_at(date(2025, 7, 3))),
            child_id="C1",
            disagreement_id="D1",
            subject="decision_on_child",
            about="No strategy meeting",
        )
    )
    # Devon's procedure names no escalation chain (ADR 0022): the disagreement stays
    # with supervision, and the register shows it unescalated.
    with pytest.raises(RuleViolation) as refused:
        app.execute(
            c.EscalateDisagreement(
                **common(_at(date(2025, 7, 10))),
                child_id="C1",
                disagreement_id="D1",
                reason="Not resolved",
            )
        )
    assert "DisagreementEscalatesWithinItsChain" in str(refused.value.rule)
    _catch_up(database, app, engine)
    triggers = register_items(engine, "TEST-LA", "oversight_trigger", as_of=date(2025, 7, 5))
    assert [t.local_id for t in triggers] == ["C1"]
    assert triggers[0].detail["kind"] == "allocation_to_new_practitioner"
    assert triggers[0].rule_id == "DEV-6" and triggers[0].due_on is not None
    [item] = register_items(engine, "TEST-LA", "action", as_of=date(2025, 7, 25))
    assert (item.item_id, item.due_on, item.overdue_days) == ("A1", date(2025, 7, 20), 5)
    assert register_items(engine, "TEST-LA", "action", as_of=date(2025, 7, 1)) == []
    [dispute] = register_items(engine, "TEST-LA", "disagreement", as_of=date(2025, 7, 17))
    assert dispute.age_days == 14 and dispute.days_since_escalation == 14
    assert dispute.detail["level"] is None
    # Answered: the trigger leaves the queue from that day, and stays in the full list.
    app.execute(
        c.RecordManagementOversight(
            **common(_at(date(2025, 7, 8)), TM),
            child_id="C1",
            entry_id="MO1",
            answers_trigger_ids=[triggers[0].item_id],
            reason="Allocation",
            current_situation="Settled",
            decision="Proceed",
            rationale="Known family",
            actions=[
                {
                    "action_id": "A2",
                    "description": "Visit within a week",
                    "owner": "SW1",
                    "due_on": date(2025, 7, 15),
                }
            ],
        )
    )
    _catch_up(database, app, engine)
    assert register_items(engine, "TEST-LA", "oversight_trigger", as_of=date(2025, 7, 8)) == []
    [closed] = register_items(
        engine, "TEST-LA", "oversight_trigger", as_of=date(2025, 7, 8), open_only=False
    )
    assert closed.closed_on == date(2025, 7, 8) and not closed.open


def test_summary_in_the_database_equals_a_tally_from_each_subject(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    for command in _commands(1, date(2026, 3, 31), 900):  # the Portsmouth-pack demo
        app.execute(command)
    _catch_up(database, app, engine)
    as_of = date(2026, 3, 31)
    result = summary(engine, LIBRARY, "DEMO-POR", as_of=as_of)
    assert result.computed_subjects == 0
    expected: dict[tuple[str | None, str], Tally] = {}
    soon = LIBRARY.get("POR").due_soon.after(as_of)
    with engine.connect() as conn:
        subjects = conn.execute(select(view("compliance_subject").c.subject_id)).scalars().all()
        for subject_id in subjects:
            found = answer(conn, LIBRARY, str(subject_id), as_of=as_of)
            assert found is not None
            for obligation in found.obligations:
                name = category(obligation, as_of, result.since, soon)
                if name is not None:
                    expected.setdefault((found.profile.team, obligation.rule_id), Tally()).add(name)
        # And each team's windows under the team rules [POR-3.3] (ADR 0024), from its
        # members' facts.
        por = LIBRARY.get("POR")
        for team in team_obligations(team_timelines(conn, "DEMO-POR"), por, as_of):
            name = category(team.obligation, as_of, result.since, soon)
            if name is not None:
                expected.setdefault((team.team, team.obligation.rule_id), Tally()).add(name)
    assert any(rule == "POR-3.3" for _, rule in expected)
    assert result.cells == expected
    assert result.overall().fell_due > 50
    assert 0 < (result.overall().rate or 0) < 1
    by_team = summary(engine, LIBRARY, "DEMO-POR", as_of=as_of, team="Team 1")
    assert by_team.cells == {k: v for k, v in expected.items() if k[0] == "Team 1"}
    assert summary(engine, LIBRARY, "ELSEWHERE", as_of=as_of).cells == {}


def test_supervision_sheet_and_case_tracker(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    _authority(app, "SHR")
    for signer in (TM, actor("SW1", Role.SUPERVISEE)):  # each party, in turn
        app.execute(
            c.SignSupervisionAgreement(
                **common(_at(START_DAY), signer),
                staff_id="SW1",
                agreement_id="SA1",
                supervisor_id="TM1",
                frequency="P1M",
                supervision_format="individual",
                review_due_on=START_DAY + timedelta(days=365),
                escalation_manager_id="SM1",
            )
        )
    days = [date(2025, 7, 1), date(2025, 8, 1), date(2025, 9, 10), date(2025, 10, 1)]
    for n, day in enumerate(days, start=1):
        app.execute(_session("SW1", f"S{n}", day))
    _child_of_sw1(app, date(2025, 6, 20))
    for entry, (session, day) in enumerate([("S2", days[1]), ("S4", days[3])], start=1):
        app.execute(
            c.RecordCaseSupervision(
                **common(_at(day, 12), TM),
                child_id="C1",
                entry_id=f"CS{entry}",
                worker_id="SW1",
                supervisor_id="TM1",
                session_id=session,
                current_situation="Stable",
                child_last_seen_on=day,
                childs_views="Fine",
                reflection="r",
                analysis="a",
                decision="d",
                rationale="r",
                previous_actions_reviewed="yes",
            )
        )
    _catch_up(database, app, engine)
    sheet = supervision_sheet_for(engine, LIBRARY, "TEST-LA", "SW1", as_of=date(2025, 10, 31))
    assert sheet is not None
    assert [r.gap_days for r in sheet.sessions] == [None, 31, 40, 21]
    late = sheet.sessions[2]
    assert late.over_by_days == 9 and late.comment and "SHR-APP2" in late.comment
    assert [r.comment is None for r in sheet.sessions] == [True, True, False, True]
    assert sheet.rolling_years[0].sessions == 4
    tracker = case_tracker_for(
        engine, LIBRARY, "TEST-LA", "SW1", start=date(2025, 5, 1), end=date(2025, 10, 31)
    )
    assert tracker is not None
    assert [col.session_id for col in tracker.columns] == ["S1", "S2", "S3", "S4"]
    [row] = tracker.rows
    assert row.discussed_at == ["S2", "S4"] and row.twice_in_six_months  # SHR-3.6e
    assert row.last_case_supervision == days[3]
    assert row.next_due is not None and row.next_due > days[3]
    assert supervision_sheet_for(engine, LIBRARY, "TEST-LA", "NOBODY", as_of=date.today()) is None


def test_the_engine_only_recomputes_what_it_must(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    """Each new event marks its subject; settling clears every mark, and a subject
    untouched since is not recomputed (its rows keep the position they were made at)."""
    _authority(app, "DUR")
    register_worker(app, "SW2", line_manager_id="TM9", start_date=START_DAY, when=_at(START_DAY))
    _catch_up(database, app, engine)

    def through() -> dict[str, int]:
        s = view("compliance_subject")
        with engine.connect() as conn:
            rows = conn.execute(select(s.c.local_id, s.c.through_position)).all()
        return {str(r[0]): int(r[1]) for r in rows}

    first = through()
    app.execute(_session("SW1", "S1", date(2025, 7, 1)))
    _catch_up(database, app, engine)
    second = through()
    assert second["SW1"] > first["SW1"]
    assert second["SW2"] == first["SW2"] and second["TM1"] == first["TM1"]


def test_obligations_are_pure_functions_of_the_facts() -> None:
    """The same facts in any arrival order give the same obligations."""
    facts = [
        Fact(1, WorkerRegistered.__name__, _at(date(2025, 1, 1)), _at(date(2025, 1, 1)), {
            "authority_code": "X", "staff_id": "S", "role": "social_worker",
            "case_holding": True, "employment_pattern": "full_time",
            "engagement": "permanent", "start_date": "2025-01-01",
        }),
        Fact(2, SupervisionSessionHeld.__name__, _at(date(2025, 2, 1)), _at(date(2025, 2, 1)), {
            "session_id": "S1", "supervisor_id": "T", "duration_minutes": 90,
        }),
    ]  # fmt: skip
    pack = LIBRARY.get("SHR")
    context = context_from("X", [], LIBRARY)
    once = obligations(facts, pack, context.calendar, date(2026, 1, 1))
    assert obligations(list(reversed(facts)), pack, context.calendar, date(2026, 1, 1)) == once


def _names_imported_from(package: str, source: str) -> set[str]:
    """The names a module imports from ``package``, or reads off it as an attribute."""
    tree = ast.parse(source)
    names: set[str] = set()
    aliases: set[str] = set()
    parent, _, leaf = package.rpartition(".")
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == package:
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module == parent:
            aliases |= {a.asname or a.name for a in node.names if a.name == leaf}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
        ):
            names.add(node.attr)
    return names


def test_the_package_exports_every_name_its_users_import() -> None:
    """What the API, the CLI, the migrations and the tests import from
    ``projections.compliance`` is exported on purpose (``__all__``), so the modules
    inside the package can move without breaking them."""
    root = Path(__file__).resolve().parents[2]
    users = [
        path
        for top in ("application", "benchmarks", "graphql_api", "migrations", "oversight",
                    "projections", "tests")
        for path in (root / top).rglob("*.py")
        if "projections/compliance/" not in path.as_posix()
    ]  # fmt: skip
    imported: dict[str, set[str]] = defaultdict(set)
    for path in users:
        for name in _names_imported_from("projections.compliance", path.read_text("utf-8")):
            imported[name].add(path.relative_to(root).as_posix())
    assert {"Compliance", "view", "summary", "evaluate", "open_work"} <= set(imported)
    missing = {
        name: sorted(paths) for name, paths in imported.items() if name not in package.__all__
    }
    assert missing == {}


def test_a_changed_pack_recomputes_the_subjects_held_to_it(
    database: DatabaseSettings,
    app: OversightApplication,
    engine: Engine,
    tmp_path: Path,
) -> None:
    """An authority edits its copy of a pack (DUR-4.7a's 10 working days become 5): the
    next runner to start recomputes every subject held to it, with no rebuild."""
    copied = tmp_path / "packs"
    copied.mkdir()
    original = (BUILT_IN / "dur.toml").read_text(encoding="utf-8")
    pack_file = copied / "dur-local.toml"
    pack_file.write_text(original.replace('id = "DUR"', 'id = "DUR-LOCAL"', 1), "utf-8")
    before = PackLibrary.load([BUILT_IN, copied])
    _authority(app, "DUR-LOCAL", library=before)
    app.execute(_session("SW1", "S1", date(2026, 3, 2)))
    make_runner(database, app, engine, Compliance(library=before)).catch_up()
    [record] = _rules(engine, "SW1", date(2026, 3, 3), "DUR-4.7a/shared", before)
    assert record.due_on == date(2026, 3, 16)
    pack_file.write_text(
        pack_file.read_text("utf-8").replace('within = "10WD"', 'within = "5WD"', 1), "utf-8"
    )
    after = PackLibrary.load([BUILT_IN, copied])
    assert after.get("DUR-LOCAL").digest != before.get("DUR-LOCAL").digest
    assert after.get("DUR").digest == before.get("DUR").digest
    make_runner(database, app, engine, Compliance(library=after)).catch_up()
    [record] = _rules(engine, "SW1", date(2026, 3, 3), "DUR-4.7a/shared", after)
    assert record.due_on == date(2026, 3, 9)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM compliance_dirty")).scalar_one() == 0
