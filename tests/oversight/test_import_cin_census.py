"""CIN census import (issue 21, ADR 0026): children in need, their assessments, section 47
enquiries, conferences, plans and closures, on SQLite and PostgreSQL. The fixtures are
written from the DfE specification by ``tests/fixtures/cin/make_census.py``."""

from __future__ import annotations

import csv
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

import oversight.cin_census_cli  # noqa: F401  (registers ``oversight import cin-census``)
from application.app import OversightApplication
from domain import commands as c
from domain.errors import NotFound
from domain.events import (
    AssessmentCompleted,
    CaseTypeChanged,
    ChildInNeedEpisodeClosed,
    ChildInNeedPlanStarted,
    ChildProtectionPlanEnded,
    ChildProtectionPlanReviewed,
    ChildProtectionPlanStarted,
    ChildRegistered,
    EntryCorrected,
    InitialChildProtectionConferenceHeld,
    OversightTriggered,
    ReferralReceived,
    Section47EnquiryStarted,
    kind_of,
)
from domain.policy.timeline import Fact, Timeline
from domain.provenance import Actor
from domain.vocabulary import CaseType, Role
from oversight.cli import main
from oversight.importers.cin_census import CensusFileError, import_cin_census
from oversight.settings import DatabaseSettings
from projections.audit_trail import subjects_of

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cin"
CENSUS = FIXTURES / "census_2024.xml"
CORRECTED = FIXTURES / "census_2024_corrected.xml"
AUTHORITY = "LACIN"
IMPORTER = Actor("IMPORT", Role.IMPORTER, AUTHORITY)

#: The fixture's rejected children: position -> (LAchildID, the census rule's code).
REJECTED = {
    4: (None, "8500"),
    5: ("A1", "8510"),
    6: ("E5", "8525"),
    7: ("F6", "8840"),
    8: ("G7", "8640"),
    9: ("H8", "8608"),
    10: ("J9", "8869"),
    11: ("K10", "8820"),
    12: ("L11", "8565"),
    13: ("M12", "8620"),
    14: ("N13", "schema"),
    15: ("P14", "8606"),
    16: ("Q15", "8896"),
    17: ("R16", "8898"),
    18: ("S17", "8614"),
    19: ("T18", "8839"),
}


def _register_authority(app: OversightApplication, pack: str = "DEV") -> None:
    app.execute(
        c.RegisterAuthority(
            command_id=f"reg-{AUTHORITY}", actor=Actor("ADMIN", Role.ADMINISTRATOR, AUTHORITY),
            occurred_at=datetime(2010, 1, 1, tzinfo=UTC), authority_code=AUTHORITY,
            name="Census Council", policy_pack=pack,
        )
    )  # fmt: skip


def _import(app: OversightApplication, path: Path = CENSUS, **options: Any) -> Any:
    return import_cin_census(
        app, path, authority=AUTHORITY, actor=IMPORTER, risk_level="medium", **options
    )


def _events(app: OversightApplication, child: str) -> list[Any]:
    subject = app.get_child(AUTHORITY, child)
    stored = app.command_log.select_subject_notifications(subject.id)
    return [app.mapper.to_domain_event(n) for n in stored]


def _written(app: OversightApplication) -> int:
    return app.recorder.max_notification_id() or 0


def test_each_module_becomes_an_event_on_the_child_with_its_real_date(
    app: OversightApplication,
) -> None:
    _register_authority(app)
    report = _import(app)
    assert report.read == {"census_2024.xml": 20}
    assert report.accepted == {"census_2024.xml": 3}
    assert report.read["census_2024.xml"] == report.accepted["census_2024.xml"] + len(
        report.rejected
    )
    a1 = _events(app, "A1")
    assert [(kind_of(e), e.provenance.occurred_at.date()) for e in a1] == [
        (ChildRegistered, date(2023, 5, 2)),
        (ReferralReceived, date(2023, 5, 2)),
        (Section47EnquiryStarted, date(2023, 5, 10)),
        (AssessmentCompleted, date(2023, 5, 20)),
        (InitialChildProtectionConferenceHeld, date(2023, 5, 25)),
        (ChildProtectionPlanStarted, date(2023, 5, 25)),
        (CaseTypeChanged, date(2023, 5, 25)),  # child protection
        (OversightTriggered, date(2023, 5, 25)),  # DEV-6 (9): into the CP threshold
        (ChildProtectionPlanReviewed, date(2023, 8, 15)),
        (ChildInNeedPlanStarted, date(2023, 9, 20)),
        (ChildProtectionPlanReviewed, date(2023, 9, 20)),
        (ChildProtectionPlanEnded, date(2023, 9, 20)),
        (CaseTypeChanged, date(2023, 9, 20)),  # child in need again
        (OversightTriggered, date(2023, 9, 20)),  # DEV-6 (9): out of it
        (ChildInNeedEpisodeClosed, date(2024, 2, 1)),
    ]
    assert all(e.provenance.imported for e in a1)
    assert [e.case_type for e in a1 if kind_of(e) is CaseTypeChanged] == ["cp", "cin"]
    ended = next(e for e in a1 if kind_of(e) is ChildProtectionPlanEnded)
    assert ended.at_review == 2  # ended at its second review conference: not DEV-6 (11)
    assessment = next(e for e in a1 if kind_of(e) is AssessmentCompleted)
    assert (assessment.started_on, assessment.factors) == (date(2023, 5, 3), ["2A", "3B"])
    closed = next(e for e in a1 if kind_of(e) is ChildInNeedEpisodeClosed)
    assert closed.reason_for_closure == "RC8"
    child = app.get_child(AUTHORITY, "A1")
    assert child.case_type is CaseType.CIN
    assert child.open_cin_episode is None and child.open_cp_plan is None


def test_a_plan_ended_at_its_first_review_is_devons_key_point_11(
    app: OversightApplication,
) -> None:
    _register_authority(app, "DEV")
    _import(app)
    triggers = [e for e in _events(app, "B2") if kind_of(e) is OversightTriggered]
    assert sorted((t.kind, t.detail) for t in triggers) == [
        ("ending_cp_plan_at_first_review", "DEV-6 (11)"),
        ("threshold_change", "DEV-6 (9)"),
        ("threshold_change", "DEV-6 (9)"),
    ]
    b2 = app.get_child(AUTHORITY, "B2")
    assert b2.case_type is CaseType.CIN and b2.open_cin_episode is not None
    assert {t.kind.value for t in b2.open_triggers} == {
        "ending_cp_plan_at_first_review",
        "threshold_change",
    }


@pytest.mark.parametrize("pack", ["DUR", "POR", "SHR", "BUR"])
def test_no_other_councils_pack_makes_a_plan_a_key_point(
    app: OversightApplication, pack: str
) -> None:
    """Only Devon's policy names a plan's events as key points [DEV-6 (9), (11)]: under any
    other pack the plan changes the case type (its frequency is that pack's) and raises
    nothing."""
    _register_authority(app, pack)
    _import(app)
    for child in ("A1", "B2", "C3"):
        assert not [e for e in _events(app, child) if kind_of(e) is OversightTriggered]
    assert app.get_child(AUTHORITY, "C3").case_type is CaseType.CP  # its plan is open


def test_each_rejection_names_the_file_the_child_its_position_and_the_rule(
    app: OversightApplication,
) -> None:
    _register_authority(app)
    report = _import(app)
    by_position = {r.row: r for r in report.rejected}
    assert set(by_position) == {*REJECTED, 20}
    for position, (child, code) in REJECTED.items():
        rejection = by_position[position]
        assert rejection.file == "census_2024.xml"
        assert rejection.subject == child
        assert rejection.rule == code, rejection
    assert str(by_position[7]) == (
        "census_2024.xml:7 F6 [8840] "
        "CPPendDate: Child Protection Plan cannot start and end on the same day"
    )
    assert (by_position[14].rule, by_position[14].message) == (
        "schema",
        "CINreferralDate: '2023-13-01' is not a date yyyy-mm-dd",
    )
    # A child the census's rules accept but the domain refuses: nothing of it is written.
    assert "OccurredAtIsNotInTheFuture" in by_position[20].message
    for child in ("E5", "F6", "U19"):
        with pytest.raises(Exception, match="no child"):
            app.get_child(AUTHORITY, child)


def test_importing_the_same_file_again_changes_nothing(app: OversightApplication) -> None:
    _register_authority(app)
    first = _import(app)
    written = _written(app)
    again = _import(app)
    assert (again.recorded, again.replayed) == (0, first.recorded)
    assert again.accepted == first.accepted
    assert [(r.row, r.message) for r in again.rejected] == [
        (r.row, r.message) for r in first.rejected
    ]
    assert _written(app) == written


def test_a_corrected_census_records_corrections_not_duplicates(
    app: OversightApplication,
) -> None:
    _register_authority(app)
    _import(app)
    before = _events(app, "A1")
    report = _import(app, CORRECTED)
    assert report.accepted == {"census_2024_corrected.xml": 3}
    after = _events(app, "A1")
    added = after[len(before) :]
    assert [kind_of(e) for e in added] == [EntryCorrected] * 4
    assert [(e.entry_id, e.changes) for e in added] == [
        ("cin-2023-05-02", {"referral_source": "2B"}),
        ("cin-2023-05-02-assessment-2023-05-20", {"factors": ["2A", "3B", "4A"]}),
        ("cin-2023-05-02-cpp-2023-05-25", {"category_of_abuse": "PHY"}),
        ("cin-2023-05-02", {"reason_for_closure": "RC7"}),
    ]
    assert added[0].reason == "CIN census 2024-03-31 corrects referral_source"
    assert not [e for e in added if kind_of(e) is ReferralReceived]
    child = app.get_child(AUTHORITY, "A1")
    episode = child.entries["cin-2023-05-02"].current()
    assert (episode["referral_source"], episode["reason_for_closure"]) == ("2B", "RC7")
    assert child.entries["cin-2023-05-02-cpp-2023-05-25"].current()["category_of_abuse"] == "PHY"
    # the one fold reads the corrected census as every reader does
    facts = [
        Fact(i, kind_of(e).__name__, e.provenance.occurred_at, e.timestamp,
             {k: v for k, v in vars(e).items() if k != "provenance"})
        for i, e in enumerate(after, start=1)
    ]  # fmt: skip
    entries, _ = Timeline(facts).entries_at()
    assert entries["cin-2023-05-02"]["referral_source"] == "2B"
    assert entries["cin-2023-05-02"]["reason_for_closure"] == "RC7"
    assert entries["cin-2023-05-02-cpp-2023-05-25"]["category_of_abuse"] == "PHY"
    assert entries["cin-2023-05-02-cpp-2023-05-25"]["at_review"] == 2
    # the corrected file once more: nothing new
    written = _written(app)
    assert _import(app, CORRECTED).recorded == 0
    assert _written(app) == written


def test_a_dry_run_writes_nothing_and_reports_what_the_run_does(
    app: OversightApplication,
) -> None:
    _register_authority(app)
    written = _written(app)
    dry = _import(app, dry_run=True)
    assert _written(app) == written
    with pytest.raises(Exception, match="no child"):
        app.get_child(AUTHORITY, "A1")
    run = _import(app)
    assert (dry.read, dry.accepted, dry.recorded) == (run.read, run.accepted, run.recorded)
    assert [(r.row, r.message) for r in dry.rejected] == [(r.row, r.message) for r in run.rejected]
    # after the run, a dry run of the corrected file finds the four corrections, and writes none
    written = _written(app)
    assert _import(app, CORRECTED, dry_run=True).recorded == 4
    assert _written(app) == written


# -- files that are not a census: one clear line, exit 2, nothing written ----------------

SENTINEL = "SENTINEL-7f3c-do-not-leak"


def _bad_files(directory: Path) -> dict[str, tuple[Path, str]]:
    """Each bad file, and what its one line of error must say."""
    secret = directory / "secret.txt"
    secret.write_text(SENTINEL)
    text = CENSUS.read_text(encoding="utf-8")
    files: dict[str, tuple[bytes, str]] = {
        "empty": (b"", "empty"),
        "blank": (b"  \n\n", "empty"),
        "csv": (b"LAchildID,CINreferralDate\nA1,2023-05-02\n", "not XML"),
        "ssda903": (
            b"CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\nA1,1,01/03/2008,WBRI,A123456789012,,\n",
            "not XML",
        ),
        "latin1": (
            text.replace("Oversight tests", "Caf\u00e9 syst\u00e8me").encode("latin-1"),
            "not UTF-8",
        ),
        "utf16": (text.encode("utf-16"), "UTF-16"),
        "declared-latin1": (
            text.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').encode("latin-1"),
            "ISO-8859-1",
        ),
        "truncated": (text[: len(text) // 2].encode(), "truncated"),
        "billion-laughs": (
            b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol1 "lol">\n'
            + b"".join(
                f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">\n'.encode() for i in range(2, 10)
            )
            + b"]>\n<Message><Header/><Children>&lol9;</Children></Message>\n",
            "DTD",
        ),
        "xxe": (
            f'<?xml version="1.0"?>\n<!DOCTYPE Message [\n<!ENTITY xxe SYSTEM '
            f'"file://{secret}">\n]>\n<Message><Header><CollectionDetails><Collection>CIN'
            "</Collection><ReferenceDate>2024-03-31</ReferenceDate></CollectionDetails>"
            "</Header><Children><Child><ChildIdentifiers><LAchildID>&xxe;</LAchildID>"
            "</ChildIdentifiers></Child></Children></Message>\n".encode(),
            "DTD",
        ),
        "workforce": (
            b'<?xml version="1.0" encoding="UTF-8"?><Message><Header><CollectionDetails>'
            b"<Collection>CSWW</Collection><ReferenceDate>2024-09-30</ReferenceDate>"
            b"</CollectionDetails></Header><CSWWWorker><SWENo>SW1</SWENo></CSWWWorker>"
            b"</Message>",
            "not a CIN census",
        ),
        "other-root": (b"<Workbook><Sheet/></Workbook>", "not a CIN census"),
    }
    out: dict[str, tuple[Path, str]] = {}
    for name, (content, says) in files.items():
        path = directory / f"{name}.xml"
        path.write_bytes(content)
        out[name] = (path, says)
    return out


BAD = [
    "empty", "blank", "csv", "ssda903", "latin1", "utf16", "declared-latin1", "truncated",
    "billion-laughs", "xxe", "workforce", "other-root",
]  # fmt: skip


@pytest.mark.parametrize("name", BAD)
def test_a_file_that_is_no_census_is_refused_by_name_and_nothing_is_written(
    app: OversightApplication, tmp_path: Path, name: str
) -> None:
    _register_authority(app)
    path, says = _bad_files(tmp_path)[name]
    written = _written(app)
    with pytest.raises(CensusFileError) as refused:
        _import(app, path)
    message = str(refused.value)
    assert message.startswith(f"{path.name}: ") and says in message, message
    assert "\n" not in message and SENTINEL not in message
    assert _written(app) == written


def _cli(database: DatabaseSettings, *args: str) -> Any:
    env = {"OVERSIGHT_DATABASE_URL": database.sqlalchemy_url().replace("+psycopg", "")}
    return CliRunner().invoke(main, ["import", "cin-census", *args], env=env)


@pytest.mark.parametrize("name", BAD)
def test_the_cli_refuses_a_bad_file_in_one_line_with_exit_2(
    database: DatabaseSettings, tmp_path: Path, name: str
) -> None:
    from oversight.wiring import open_application

    app = open_application(database)
    try:
        _register_authority(app)
        written = _written(app)
    finally:
        app.close()
    path, says = _bad_files(tmp_path)[name]
    result = _cli(database, str(path), "--authority", AUTHORITY)
    assert result.exit_code == 1, result.output  # failed: nothing written
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0].startswith(f"error: {path.name}: "), result.output
    assert says in errors[0]
    assert "Traceback" not in result.output and SENTINEL not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    app = open_application(database)
    try:
        assert _written(app) == written
    finally:
        app.close()


def test_the_cli_reports_tells_rejections_from_failure_and_dry_runs(
    database: DatabaseSettings, tmp_path: Path
) -> None:
    from oversight.wiring import open_application

    app = open_application(database)
    try:
        _register_authority(app)
        written = _written(app)
    finally:
        app.close()
    dry = _cli(database, str(CENSUS), "--authority", AUTHORITY, "--dry-run")
    assert dry.exit_code == 4, dry.output
    assert "dry run: nothing was written" in dry.output
    report = tmp_path / "report.csv"
    run = _cli(database, str(CENSUS), "--authority", AUTHORITY, "--report", str(report))
    assert run.exit_code == 4, run.output  # some children rejected: the others imported
    assert "census_2024.xml rows      20  accepted       3  rejected     17" in run.output
    assert "rejected census_2024.xml:7 F6 [8840] CPPendDate" in run.output
    rows = list(csv.DictReader(report.read_text().splitlines()))
    rejections = [row for row in rows if row["section"] == "rejection"]
    assert len(rejections) == 17 and all(row["rule"] and row["row"] for row in rejections)
    clean = tmp_path / "clean.xml"
    text = CENSUS.read_text()
    clean.write_text(
        text[: text.index("    <Child>", text.index("<LAchildID>C3"))]
        + "  </Children>\n</Message>\n"
    )
    again = _cli(database, str(clean), "--authority", AUTHORITY)
    assert again.exit_code == 0, again.output
    assert "events recorded 0" in again.output
    absent = _cli(database, str(tmp_path / "absent.xml"), "--authority", AUTHORITY)
    assert absent.exit_code == 3 and "absent.xml: no such file" in absent.output
    missing = _cli(database, str(CENSUS), "--authority", "NOPE-LA")
    assert missing.exit_code == 3 and "authority" in missing.output
    assert "Traceback" not in missing.output
    app = open_application(database)
    try:
        assert _written(app) > written
    finally:
        app.close()


# -- a property: whatever plans a census gives, the case type and Devon's key points follow -

sys.path.insert(0, str(FIXTURES))
from make_census import census as census_xml  # noqa: E402
from make_census import child as child_xml  # noqa: E402
from make_census import details, plan  # noqa: E402

REFERRAL = date(2023, 4, 10)


@st.composite
def _plans(draw: st.DrawFn) -> list[tuple[date, date | None, list[date]]]:
    """Up to three plans in one episode, one after another; only the last may be open."""
    plans: list[tuple[date, date | None, list[date]]] = []
    cursor = REFERRAL
    count = draw(st.integers(0, 3))
    for index in range(count):
        start = cursor + timedelta(days=draw(st.integers(0, 20)))
        length = draw(st.integers(1, 90))
        end = start + timedelta(days=length)
        ends = index < count - 1 or draw(st.booleans())
        offsets = draw(st.sets(st.integers(1, length), max_size=3))
        reviews = sorted(start + timedelta(days=o) for o in offsets)
        plans.append((start, end if ends else None, reviews))
        cursor = end
    return plans


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plans=_plans())
def test_any_census_plans_set_the_case_type_and_only_devons_key_points(
    app: OversightApplication, tmp_path_factory: pytest.TempPathFactory, plans: Any
) -> None:
    try:
        app.get_authority(AUTHORITY)
    except NotFound:
        _register_authority(app, "DEV")
    child_id = f"H{abs(hash(repr(plans))) % 10**9}"
    modules = [
        plan(s.isoformat(), e.isoformat() if e else None, "NEG", *(r.isoformat() for r in rs))
        for s, e, rs in plans
    ]
    path = tmp_path_factory.mktemp("census") / "census.xml"
    path.write_text(census_xml([child_xml(child_id, "2015-01-01", details(
        REFERRAL.isoformat(), "1A", "N1", *modules))]))  # fmt: skip
    report = _import(app, path)
    assert report.accepted == {"census.xml": 1}, report.rejected
    events = _events(app, child_id)
    assert sum(kind_of(e) is ChildProtectionPlanStarted for e in events) == len(plans)
    assert sum(kind_of(e) is ChildProtectionPlanReviewed for e in events) == sum(
        len(rs) for _, _, rs in plans
    )
    open_plan = bool(plans) and plans[-1][1] is None
    expected = CaseType.CP if open_plan else CaseType.CIN
    assert app.get_child(AUTHORITY, child_id).case_type is expected
    at_first_review = sum(1 for _, e, rs in plans if e is not None and rs == [e])
    kinds = [e.kind for e in events if kind_of(e) is OversightTriggered]
    assert kinds.count("ending_cp_plan_at_first_review") == at_first_review
    ends = sum(1 for _, e, _ in plans if e is not None)
    assert kinds.count("threshold_change") == len(plans) + ends
    written = _written(app)
    assert _import(app, path).recorded == 0 and _written(app) == written


def test_the_history_of_every_imported_child_agrees_with_the_store(
    app: OversightApplication, database: DatabaseSettings, engine: Engine
) -> None:
    """``history verify`` after an import: the projection's fold and the aggregate agree
    on every entry a census makes, a plan's reviews among them (the fold counts them as
    ``reviews``; the aggregate keeps their dates apart, as ``review_dates``)."""
    _register_authority(app)
    _import(app)
    env = {"OVERSIGHT_DATABASE_URL": database.sqlalchemy_url().replace("+psycopg", "")}
    runner = CliRunner()
    assert runner.invoke(main, ["projections", "run", "--once"], env=env).exit_code == 0
    assert any(kind_of(e) is ChildProtectionPlanReviewed for e in _events(app, "A1"))
    children = subjects_of(engine, AUTHORITY, "child")
    assert len(children) == 3  # the census's accepted children
    for child in children:
        done = runner.invoke(
            main, ["history", "verify", "--authority", AUTHORITY, "--child", child], env=env
        )
        assert done.exit_code == 0, (child, done.output)
        assert "agrees with the event store" in done.output
