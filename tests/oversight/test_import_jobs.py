"""Imports behave as jobs (issue 21, ADR 0025), on SQLite and PostgreSQL: a dry run writes
nothing; the same file twice changes nothing and a corrected file records corrections,
not duplicates; one report, as CSV or JSON; exit status 0 (every row accepted), 1
(finished with rejections), 2 (failed: a one-line error naming the file and the
problem, nothing written, no traceback) for every importer."""

from __future__ import annotations

import csv
import json
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from application.app import OversightApplication
from domain import commands as c
from domain.events import (
    CareEpisodeCorrected,
    CaseTypeChanged,
    ChildCameIntoCare,
    LegalStatusChanged,
    PeriodOfCareEnded,
    PlacementChanged,
    WorkerRoleChanged,
    WorkingPatternChanged,
    kind_of,
)
from domain.provenance import Actor
from domain.vocabulary import Role
from oversight.cli import main
from oversight.importers.annex_a import import_annex_a
from oversight.importers.jobs import JobReport
from oversight.importers.ssda903 import import_ssda903
from oversight.importers.workforce import import_workforce
from oversight.settings import DatabaseSettings
from oversight.wiring import open_application
from tests.oversight.test_import_ssda903 import (
    AUTHORITY,
    IMPORTER,
    _episode,
    _events,
    _register_authority,
    write_ssda903,
)
from tests.oversight.test_import_workforce import write_census


def _clean_return(directory: Path) -> Path:
    """Two children, every row valid: one comes into care and moves, one is in care from
    before the record and goes home."""
    return write_ssda903(
        directory,
        header=[("K1", "01/03/2008"), ("K2", "05/06/2010")],
        episodes=[
            _episode("K1", "15/02/2016", "S", "C2", "U1", DEC="14/08/2017", REC="X1"),
            _episode("K1", "14/08/2017", "P", "C2", "U4", REASON_PLACE_CHANGE="CARPL"),
            _episode("K2", "01/05/2016", "L", "V2", "U4", DEC="30/06/2016", REC="X1"),
            _episode("K2", "30/06/2016", "T", "C1", "U5", DEC="01/09/2016", REC="E13"),
        ],
        reviews=[("K1", "30/08/2016", "PN6")],
    )  # fmt: skip


def _import(app: OversightApplication, directory: Path, *, dry_run: bool = False) -> JobReport:
    return import_ssda903(
        app, directory, authority=AUTHORITY, actor=IMPORTER, risk_level="medium",
        dry_run=dry_run,
    )  # fmt: skip


def test_a_dry_run_checks_every_row_against_the_domain_and_writes_nothing(
    app: OversightApplication, tmp_path: Path
) -> None:
    _register_authority(app)
    directory = _clean_return(tmp_path / "903")
    head = app.recorder.max_notification_id()
    receipts = app.command_log.select_command_receipts(AUTHORITY, ["ssda903-LA903-child-K1"])
    dry = _import(app, directory, dry_run=True)
    assert app.recorder.max_notification_id() == head and not receipts
    assert not app.child_exists(AUTHORITY, "K1")
    real = _import(app, directory)
    assert (dry.events, dry.accepted, dry.rejected) == (real.events, real.accepted, real.rejected)
    assert real.exit_status == 0 and real.events[CareEpisodeCorrected.__name__] == 0
    # A dry run over what is recorded already replays it all.
    again = _import(app, directory, dry_run=True)
    assert again.recorded == 0 and again.replayed == real.recorded


def test_a_dry_run_rejects_what_the_domain_refuses_and_goes_on_with_the_child(
    app: OversightApplication, tmp_path: Path
) -> None:
    """The second death is refused by the domain; the rehearsal forgets that row's
    first event and the child's next row is decided on the child as it was."""
    _register_authority(app)
    directory = write_ssda903(
        tmp_path / "903",
        header=[("F7", "01/05/2010")],
        episodes=[
            _episode("F7", "01/01/2016", "S", "C2", "U1", DEC="01/02/2016", REC="E2"),
            _episode("F7", "01/03/2016", "S", "C2", "U1", DEC="01/04/2016", REC="E2"),
        ],
        reviews=[("F7", "01/05/2016", "PN1")],
    )
    dry = _import(app, directory, dry_run=True)
    real = _import(app, directory)
    assert [(r.row, r.message) for r in dry.rejected] == [(r.row, r.message) for r in real.rejected]
    assert dry.events == real.events


def test_a_corrected_return_records_corrections_not_duplicates(
    app: OversightApplication, tmp_path: Path
) -> None:
    """The same episodes (child and DECOM) with another placement and legal status, and
    an ending that was missing its date: one correction each, and the ending now
    recorded; never a second placement change or coming into care."""
    _register_authority(app)
    directory = _clean_return(tmp_path / "903")
    _import(app, directory)
    before = [kind_of(e) for e in _events(app, "K1")]
    write_ssda903(
        directory,
        header=[("K1", "01/03/2008"), ("K2", "05/06/2010")],
        episodes=[
            _episode("K1", "15/02/2016", "S", "C1", "U1", DEC="14/08/2017", REC="X1"),
            _episode("K1", "14/08/2017", "P", "C2", "U6", REASON_PLACE_CHANGE="CARPL",
                     DEC="01/12/2017", REC="E41"),
            _episode("K2", "01/05/2016", "L", "V2", "U4", DEC="30/06/2016", REC="X1"),
            _episode("K2", "30/06/2016", "T", "C1", "U5", DEC="01/09/2016", REC="E13"),
        ],
        reviews=[("K1", "30/08/2016", "PN6")],
    )  # fmt: skip
    report = _import(app, directory)
    assert report.corrections == 2 and report.exit_status == 0
    after = _events(app, "K1")
    added = [kind_of(e) for e in after][len(before) :]
    assert sorted(k.__name__ for k in added) == sorted(
        [CareEpisodeCorrected.__name__, CareEpisodeCorrected.__name__, PeriodOfCareEnded.__name__]
    )
    corrections = {
        e.corrects: (e.episode_started_on, e.changes)
        for e in after
        if kind_of(e) is CareEpisodeCorrected
    }
    assert corrections == {
        ChildCameIntoCare.__name__: (date(2016, 2, 15), {"legal_status": "C1"}),
        PlacementChanged.__name__: (date(2017, 8, 14), {"placement": "U6"}),
    }
    kinds = [kind_of(e) for e in after]
    assert kinds.count(ChildCameIntoCare) == 1 and kinds.count(PlacementChanged) == 1
    assert kinds.count(LegalStatusChanged) == 0
    # And the corrected file again: nothing new.
    head = app.recorder.max_notification_id()
    again = _import(app, directory)
    assert again.recorded == 0 and app.recorder.max_notification_id() == head


def test_a_corrected_census_records_the_changes_not_a_second_registration(
    app: OversightApplication, tmp_path: Path
) -> None:
    app.execute(
        c.RegisterAuthority(
            command_id="reg-jobs", actor=Actor("ADMIN", Role.ADMINISTRATOR, "LA-JOBS"),
            occurred_at=datetime(2000, 1, 1, tzinfo=UTC), authority_code="LA-JOBS",
            name="Jobs Council", policy_pack="POR",
        )
    )  # fmt: skip
    importer = Actor("IMPORT", Role.IMPORTER, "LA-JOBS")
    worker = {"SWENo": "SW1", "AgencyWorker": "0", "FTE": "1", "OrgRole": "5",
              "RoleStartDate": "2015-04-01"}  # fmt: skip
    census = write_census(tmp_path / "csww.xml", [worker])
    run = {"authority": "LA-JOBS", "actor": importer, "team": "T", "today": date(2024, 1, 1)}
    assert import_workforce(app, census, **run).recorded == 1  # type: ignore[arg-type]
    write_census(census, [{**worker, "FTE": "0.5", "OrgRole": "4"}])
    report = import_workforce(app, census, **run)  # type: ignore[arg-type]
    assert report.corrections == 2 and report.events == {
        WorkerRoleChanged.__name__: 1,
        WorkingPatternChanged.__name__: 1,
    }
    employment = app.get_worker("LA-JOBS", "SW1").employment
    assert (employment.role.value, employment.fte) == ("practice_supervisor", Decimal("0.50"))
    assert import_workforce(app, census, **run).recorded == 0  # type: ignore[arg-type]


# -- the CLI: report, exit status, bad input ----------------------------------------------


def _env(database: DatabaseSettings) -> dict[str, str]:
    app = open_application(database)
    try:
        _register_authority(app)
    finally:
        app.close()
    return {"OVERSIGHT_DATABASE_URL": database.sqlalchemy_url().replace("+psycopg", "")}


def _head(database: DatabaseSettings) -> int | None:
    app = open_application(database)
    try:
        return app.recorder.max_notification_id()
    finally:
        app.close()


def test_the_report_is_csv_or_json_and_the_exit_status_tells_rejections(
    database: DatabaseSettings, tmp_path: Path
) -> None:
    env = _env(database)
    directory = _clean_return(tmp_path / "903")
    args = ["import", "ssda903", str(directory), "--authority", AUTHORITY, "--risk-level", "low"]
    dry = CliRunner().invoke(main, [*args, "--dry-run", "--report", str(tmp_path / "r.json")],
                             env=env, catch_exceptions=False)  # fmt: skip
    assert dry.exit_code == 0, dry.output
    assert "dry run: nothing was written" in dry.output
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["dry_run"] and data["rejections"] == []
    files = {f["file"]: (f["read"], f["accepted"], f["rejected"]) for f in data["files"]}
    assert files["episodes.csv"] == (4, 4, 0)
    codes = {(x["column"], x["code"]): x for x in data["codes"] if x["file"] == "episodes.csv"}
    assert codes[("RNE", "S")]["events"] == {ChildCameIntoCare.__name__: 1}
    assert codes[("RNE", "T")]["events"] == {
        LegalStatusChanged.__name__: 1,
        PlacementChanged.__name__: 1,
    }
    assert codes[("REC", "E13")]["events"] == {PeriodOfCareEnded.__name__: 1}
    assert _head(database) is not None
    head = _head(database)
    # Now with a row that breaks rule 148: finished, with rejections (4), as CSV.
    with (directory / "episodes.csv").open("a", newline="") as handle:
        csv.writer(handle).writerow(["K2", "01/01/2017", "S", "C2", "N1", "U1", "PR1", "",
                                     "E3", "", "", "", ""])  # fmt: skip
    real = CliRunner().invoke(main, [*args, "--report", str(tmp_path / "r.csv")], env=env,
                              catch_exceptions=False)  # fmt: skip
    assert real.exit_code == 4, real.output
    assert _head(database) != head
    rows = list(csv.DictReader((tmp_path / "r.csv").read_text().splitlines()))
    [rejection] = [r for r in rows if r["section"] == "rejection"]
    assert (rejection["file"], rejection["row"], rejection["subject"], rejection["rule"]) == (
        "episodes.csv", "6", "K2", "148",
    )  # fmt: skip
    assert {r["section"] for r in rows} == {"file", "code", "event", "total", "rejection"}


def _xlsx(path: Path) -> Path:
    book = Workbook()
    book.save(path)
    return path


def _hostile_xlsx(path: Path, dtd: str, reference: str) -> Path:
    """A workbook whose sheet declares entities (billion laughs, an external entity) and
    uses one."""
    book = Workbook()
    assert book.active is not None
    book.active.append(["Child Unique ID", "Date of Birth", "CIN Start Date"])
    book.save(path)
    with zipfile.ZipFile(path) as source:
        items = [(item, source.read(item.filename)) for item in source.infolist()]
    cell = f'<row r="2"><c r="A2" t="inlineStr"><is><t>{reference}</t></is></c></row>'
    with zipfile.ZipFile(path, "w") as target:
        for item, data in items:
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<worksheet", dtd.encode() + b"<worksheet", 1)
                data = data.replace(b"</sheetData>", cell.encode() + b"</sheetData>", 1)
            target.writestr(item, data)
    return path


LAUGHS = (
    '<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;">]>'
)
EXTERNAL = '<!DOCTYPE worksheet [<!ENTITY e SYSTEM "file:///etc/passwd">]>'


@pytest.mark.parametrize(
    ("importer", "make", "says"),
    [
        ("ssda903", lambda d: (d / "episodes.csv").write_text("CHILD,START\nA1,01/01/2017\n"),
         "episodes.csv: has no column DECOM"),
        ("ssda903", lambda d: (d / "header.csv").write_bytes(_xlsx(d / "x.xlsx").read_bytes()),
         "header.csv: is a zip file (an xlsx workbook?), not CSV text"),
        ("ssda903", lambda d: (d / "reviews.csv").write_bytes(
            "CHILD,DOB,REVIEW,REVIEW_CODE\nK1,,30/08/2016,PN6 \xe9\n".encode("latin-1")),
         "reviews.csv: is not UTF-8 text (byte 0xe9"),
        ("ssda903", lambda d: (d / "episodes.csv").write_text(""),
         "episodes.csv: is empty: no header row"),
        ("workforce", lambda d: (d / "census.xml").write_text(""),
         "census.xml: is empty"),
        ("workforce", lambda d: (d / "census.xml").write_bytes(
            b'<?xml version="1.0" encoding="utf-8"?><Message><CSWWWorker><SWENo>\xe9</SWENo>'
            b"</CSWWWorker></Message>"),
         "census.xml: not well-formed XML"),
        ("workforce", lambda d: (d / "census.xml").write_text("<Message><CSWWWorker>"),
         "census.xml: not well-formed XML"),
        ("workforce", lambda d: (d / "census.xml").write_text(
            '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            "<Message>&e;</Message>"),
         "census.xml: a census file has no DTD or entities"),
        ("workforce", lambda d: (d / "census.xml").write_text(
            '<!DOCTYPE m [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><Message>&c;</Message>'),
         "census.xml: a census file has no DTD or entities"),
        ("annex-a", lambda d: (d / "annex.xlsx").write_text("Child Unique ID,Date of Birth\n"),
         "annex.xlsx: not an xlsx workbook (a CSV or other text?)"),
        ("annex-a", lambda d: (d / "annex.xlsx").write_bytes(b""),
         "annex.xlsx: is empty: not an xlsx workbook"),
        ("annex-a", lambda d: (d / "annex.xlsx").write_bytes(b"PK\x03\x04 truncated"),
         "annex.xlsx: not an xlsx workbook"),
        ("annex-a", lambda d: _hostile_xlsx(d / "annex.xlsx", LAUGHS, "&d;"),
         "annex.xlsx: not an xlsx workbook"),
        ("annex-a", lambda d: _hostile_xlsx(d / "annex.xlsx", EXTERNAL, "&e;"),
         "annex.xlsx: not an xlsx workbook"),
    ],
)  # fmt: skip
def test_a_file_that_cannot_be_read_fails_with_one_line_naming_it_and_writes_nothing(
    database: DatabaseSettings, tmp_path: Path, importer: str, make: object, says: str
) -> None:
    env = _env(database)
    directory = _clean_return(tmp_path / "903")
    make(directory)  # type: ignore[operator]
    target = {
        "ssda903": [str(directory), "--risk-level", "low"],
        "workforce": [str(directory / "census.xml")],
        "annex-a": [str(directory / "annex.xlsx"), "--as-of", "2021-03-01", "--risk-level",
                    "low"],
    }[importer]  # fmt: skip
    head = _head(database)
    result = CliRunner().invoke(
        main, ["import", importer, *target, "--authority", AUTHORITY], env=env
    )
    assert result.exit_code == 1, result.output  # failed: nothing written
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if not line.startswith("importing")]
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], lines
    assert "Traceback" not in result.output
    assert _head(database) == head


def test_annex_a_and_the_census_rehearse_and_correct_as_jobs(
    app: OversightApplication, tmp_path: Path
) -> None:
    """Annex A: a dry run writes nothing and plans what the real run records; a workbook
    giving the same child another case type records the change, not a second child.
    The census: a dry run writes nothing."""
    from tests.oversight import test_import_annex_a as annex

    annex._setup(app)
    book = annex._fixture(tmp_path / "annex.xlsx")
    head = app.recorder.max_notification_id()
    dry = annex_import(app, book, dry_run=True)
    assert app.recorder.max_notification_id() == head and dry.dry_run
    real = annex_import(app, book)
    assert (dry.events, dry.accepted, dry.rejected) == (real.events, real.accepted, real.rejected)
    # Child 222 (a child in need) is on a child protection plan in the corrected book.
    annex.write_annex_a(
        book,
        {"CIN": [[*annex.COMMON, "CIN Start Date", "Allocated Team", "Allocated Worker"],
                 [222, "a) Male", "MOTH", "23/09/2005", 15, "09/06/2010", "#N/A", "#N/A"]]},
    )  # fmt: skip
    assert app.get_child(annex.AUTHORITY, "222").case_type.value == "cin"
    corrected = annex_import(app, book)
    assert corrected.corrections == 0 and corrected.recorded == 0  # the same: replayed
    annex.write_annex_a(
        book,
        {"CP": [[*annex.COMMON, "Child Protection Plan Start Date", "Allocated Team"],
                [222, "a) Male", "MOTH", "23/09/2005", 15, "09/06/2010", "#N/A"]]},
    )  # fmt: skip
    corrected = annex_import(app, book)
    assert corrected.corrections == 1 and corrected.events == {CaseTypeChanged.__name__: 1}
    assert app.get_child(annex.AUTHORITY, "222").case_type.value == "cp"
    assert annex_import(app, book).recorded == 0

    census = write_census(
        tmp_path / "csww.xml",
        [{"SWENo": "SW9", "FTE": "1", "OrgRole": "5", "RoleStartDate": "2015-04-01"}],
    )
    head = app.recorder.max_notification_id()
    rehearsed = import_workforce(
        app, census, authority=annex.AUTHORITY, actor=annex.IMPORTER, team="T", dry_run=True
    )
    assert rehearsed.recorded == 1 and rehearsed.exit_status == 0
    assert app.recorder.max_notification_id() == head


def annex_import(app: OversightApplication, book: Path, *, dry_run: bool = False) -> JobReport:
    from tests.oversight import test_import_annex_a as annex

    return import_annex_a(
        app, book, authority=annex.AUTHORITY, actor=annex.IMPORTER, as_of=annex.AS_OF,
        risk_level="high", workers={"Ezra Leigh": "EL1"}, dry_run=dry_run,
    )  # fmt: skip


def test_progress_is_a_quiet_line_at_each_tenth_off_a_terminal(
    database: DatabaseSettings, tmp_path: Path
) -> None:
    env = _env(database)
    directory = _clean_return(tmp_path / "903")
    args = ["import", "ssda903", str(directory), "--authority", AUTHORITY, "--risk-level", "low"]
    # Asked for (--progress): off a terminal, progress is otherwise not shown at all.
    result = CliRunner().invoke(main, ["--progress", *args], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    progress = [line for line in result.output.splitlines() if line.startswith("importing")]
    assert progress and progress[-1] == "importing: 7/7 rows"
    assert len(progress) <= 11
