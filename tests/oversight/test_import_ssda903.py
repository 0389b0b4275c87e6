"""SSDA903 import (issue 7): children looked after, their episodes and reviews, on SQLite
and PostgreSQL. Fixtures are written by our own writer; the sector sample in
``../shared/data/ssda903`` is imported too where it exists (as in CI)."""

from __future__ import annotations

import csv
import os
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from application.app import OversightApplication
from domain import commands as c
from domain.events import (
    AdoptionOrderRecorded,
    CaseTypeChanged,
    ChildCameIntoCare,
    ChildDeathRecorded,
    ChildRegistered,
    ChildReturnedHome,
    LegalStatusChanged,
    LookedAfterReviewHeld,
    OversightTriggered,
    PeriodOfCareEnded,
    PlacementChanged,
    kind_of,
)
from domain.provenance import Actor
from domain.vocabulary import (
    Role,
)
from oversight.cli import main
from oversight.importers.jobs import FileProblem
from oversight.importers.ssda903 import import_ssda903
from oversight.settings import DatabaseSettings

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("OVERSIGHT_SHARED", ROOT.parent / "shared")) / "data" / "ssda903"
AUTHORITY = "LA903"
IMPORTER = Actor("IMPORT", Role.IMPORTER, AUTHORITY)
EPISODE_COLUMNS = [
    "CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
    "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN",
]  # fmt: skip


def write_ssda903(
    directory: Path,
    header: list[tuple[str, str]],
    episodes: list[dict[str, str]],
    reviews: list[tuple[str, str, str]],
) -> Path:
    """SSDA903 CSVs in the return's own columns (dates dd/mm/yyyy)."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "header.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"])
        for child, dob in header:
            writer.writerow([child, "1", dob, "WBRI", "A123456789012", "", ""])
    with (directory / "episodes.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=EPISODE_COLUMNS)
        writer.writeheader()
        for episode in episodes:
            writer.writerow({"CIN": "N1", "PLACE_PROVIDER": "PR1", **episode})
    with (directory / "reviews.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["CHILD", "DOB", "REVIEW", "REVIEW_CODE"])
        for child, review, code in reviews:
            writer.writerow([child, "", review, code])
    return directory


def _episode(child: str, start: str, rne: str, ls: str, place: str, **rest: str) -> dict[str, str]:
    return {"CHILD": child, "DECOM": start, "RNE": rne, "LS": ls, "PLACE": place, **rest}


def _fixture(directory: Path) -> Path:
    return write_ssda903(
        directory,
        header=[("A1", "01/03/2008"), ("B2", "05/06/2010"), ("C3", "09/09/2012"),
                ("D4", "31/02/2011"), ("A1", "01/03/2008"), ("E5", "02/02/2009")],
        episodes=[
            _episode("A1", "14/08/2017", "T", "E1", "A3", DEC="02/01/2018", REC="E11"),
            _episode("A1", "15/02/2016", "S", "C2", "U1", DEC="14/08/2017", REC="X1"),
            _episode("B2", "01/05/2016", "S", "V2", "U4", DEC="30/06/2016", REC="X1"),
            _episode("B2", "30/06/2016", "P", "V2", "U5", DEC="01/09/2016", REC="E4A",
                     REASON_PLACE_CHANGE="CARPL"),
            _episode("C3", "10/10/2016", "S", "C1", "U1", DEC="03/03/2017", REC="E2"),
            _episode("Z9", "10/10/2016", "S", "C1", "U1"),
            _episode("C3", "99/99/2017", "P", "C1", "U2"),
        ],
        reviews=[
            ("A1", "30/08/2016", "PN6"),
            ("A1", "28/02/2017", "PN1"),
            ("B2", "15/06/2016", ""),
            ("A1", "28/02/2099", "PN1"),
            ("A1", "28/02/2017", "PN2"),
        ],
    )  # fmt: skip


def _register_authority(app: OversightApplication) -> None:
    app.execute(
        c.RegisterAuthority(
            command_id="reg-903", actor=Actor("ADMIN", Role.ADMINISTRATOR, AUTHORITY),
            occurred_at=datetime(2010, 1, 1, tzinfo=UTC), authority_code=AUTHORITY,
            name="903 Council", policy_pack="DUR",
        )
    )  # fmt: skip


def _import(app: OversightApplication, directory: Path) -> Any:
    return import_ssda903(app, directory, authority=AUTHORITY, actor=IMPORTER, risk_level="medium")


def _events(app: OversightApplication, child: str) -> list[Any]:
    subject = app.get_child(AUTHORITY, child)
    stored = app.command_log.select_subject_notifications(subject.id)
    return [app.mapper.to_domain_event(n) for n in stored]


def test_episodes_become_care_events_with_their_real_dates_and_triggers(
    app: OversightApplication, tmp_path: Path
) -> None:
    _register_authority(app)
    report = _import(app, _fixture(tmp_path / "903"))
    assert report.read == {"header.csv": 6, "episodes.csv": 7, "reviews.csv": 5}
    assert report.accepted == {"header.csv": 4, "episodes.csv": 5, "reviews.csv": 2}
    assert report.balanced()
    reasons = {(r.file, r.row): (r.rule, r.message) for r in report.rejected}
    assert reasons == {
        ("header.csv", 5): ("102", "DOB: '31/02/2011' is not a date dd/mm/yyyy"),
        ("header.csv", 6): ("OVS-CHILD", "CHILD: appears twice in header.csv (line 2)"),
        ("episodes.csv", 7): ("OVS-CHILD", "CHILD: not in header.csv"),
        ("episodes.csv", 8): ("141", "DECOM: '99/99/2017' is not a date dd/mm/yyyy"),
        ("reviews.csv", 4): ("167", "REVIEW_CODE: missing"),
        ("reviews.csv", 5): ("OVS-FUTURE", "REVIEW: 28/02/2099 is after today"),
        ("reviews.csv", 6): (
            "OVS-REVIEW-TWICE", "REVIEW: a second review of this child that day (line 3)"
        ),
    }  # fmt: skip

    a1 = _events(app, "A1")
    assert [kind_of(e) for e in a1] == [
        ChildRegistered,
        ChildCameIntoCare,
        OversightTriggered,  # DEV-6 (4), raised by coming into care
        LookedAfterReviewHeld,
        LookedAfterReviewHeld,
        LegalStatusChanged,
        PlacementChanged,
        AdoptionOrderRecorded,
        PeriodOfCareEnded,
    ]
    assert all(e.provenance.imported for e in a1)
    assert a1[1].provenance.occurred_at.date() == date(2016, 2, 15)
    assert a1[2].kind == "came_into_care"
    assert a1[5].legal_status == "E1" and a1[6].placement == "A3"
    assert a1[7].order_made_on == date(2018, 1, 2)  # starts AAR-42's 100 years
    assert a1[8].reason_code == "E11"
    child = app.get_child(AUTHORITY, "A1")
    assert child.date_of_birth == date(2008, 3, 1) and not child.in_care
    assert child.case_type.value == "cla"

    b2 = [kind_of(e) for e in _events(app, "B2")]
    assert b2[-3:] == [PlacementChanged, ChildReturnedHome, OversightTriggered]
    c3 = _events(app, "C3")
    assert [kind_of(e) for e in c3][-2:] == [ChildDeathRecorded, PeriodOfCareEnded]
    assert c3[-2].died_on == date(2017, 3, 3)
    assert [kind_of(e) for e in _events(app, "E5")] == [ChildRegistered]


def write_oc3(directory: Path, rows: list[tuple[str, str, str]]) -> None:
    """The care leavers' file, in the return's own columns."""
    with (directory / "oc3.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["CHILD", "DOB", "IN_TOUCH", "ACTIV", "ACCOM"])
        for child, dob, in_touch in rows:
            writer.writerow([child, dob, in_touch, "F1", "S"])


def test_care_leavers_become_care_leaver_cases_from_the_day_care_ended(
    app: OversightApplication, tmp_path: Path
) -> None:
    """OC3: a young person whose last period of care ended (B2 returned home) becomes a
    care leaver's case from that day [DEV-5.1b: quarterly case supervision]; every other
    row is rejected naming the column, and nothing is written for it."""
    _register_authority(app)
    directory = _fixture(tmp_path / "903")
    write_ssda903(
        directory,
        header=[("A1", "01/03/2008"), ("B2", "05/06/2010"), ("C3", "09/09/2012"),
                ("E5", "02/02/2009"), ("G6", "03/03/2009")],
        episodes=[
            _episode("A1", "15/02/2016", "S", "C2", "U1", DEC="02/01/2018", REC="E11"),
            _episode("B2", "01/05/2016", "S", "V2", "U4", DEC="01/09/2016", REC="E4A"),
            _episode("C3", "10/10/2016", "S", "C1", "U1", DEC="03/03/2017", REC="E2"),
            _episode("G6", "01/01/2016", "S", "C2", "U1", DEC="01/02/2016", REC="E13"),
            _episode("G6", "01/06/2016", "S", "C2", "U1"),
        ],
        reviews=[],
    )  # fmt: skip
    write_oc3(
        directory,
        [("B2", "05/06/2010", "YES"), ("A1", "01/03/2008", "NREQ"), ("C3", "09/09/2012", "NO"),
         ("E5", "02/02/2009", "REFU"), ("G6", "03/03/2009", "RHOM"), ("B2", "05/06/2011", "YES"),
         ("B2", "05/06/2010", "MAYBE"), ("B2", "05/06/2010", "DIED"), ("Z9", "01/01/2010", "YES")],
    )  # fmt: skip
    head = None
    for attempt in range(2):
        report = _import(app, directory)
        assert report.read["oc3.csv"] == 9 and report.accepted["oc3.csv"] == 1
        reasons = {r.row: r.message for r in report.rejected if r.file == "oc3.csv"}
        assert reasons == {
            3: "CHILD: care ended with REC E11: not a care leaver",
            4: "CHILD: care ended with REC E2: not a care leaver",
            5: "CHILD: no period of care has ended in episodes.csv: not a care leaver",
            6: "CHILD: no period of care has ended in episodes.csv: not a care leaver",
            7: "DOB: differs from header.csv",
            8: "IN_TOUCH: 'MAYBE' is not one of DIED, NO, NREQ, REFU, RHOM, YES",
            9: "IN_TOUCH: DIED: the return gives no date of death, which the record's "
            "retention turns on [CPPCR-50]; record the death from the case file",
            10: "CHILD: not in header.csv",
        }
        if attempt == 0:
            head = app.recorder.max_notification_id()
        else:
            assert report.recorded == 0 and app.recorder.max_notification_id() == head
    changed = [e for e in _events(app, "B2") if kind_of(e) is CaseTypeChanged]
    assert [(e.case_type, e.provenance.occurred_at.date()) for e in changed] == [
        ("care_leaver", date(2016, 9, 1))
    ]
    assert changed[0].provenance.imported
    assert app.get_child(AUTHORITY, "B2").case_type.value == "care_leaver"
    for child in ("A1", "C3", "E5", "G6"):
        assert app.get_child(AUTHORITY, child).case_type.value == "cla"


def test_importing_again_changes_nothing(app: OversightApplication, tmp_path: Path) -> None:
    _register_authority(app)
    directory = _fixture(tmp_path / "903")
    first = _import(app, directory)
    head = app.recorder.max_notification_id()
    again = _import(app, directory)
    assert again.recorded == 0 and again.replayed == first.recorded
    assert again.accepted == first.accepted and len(again.rejected) == len(first.rejected)
    assert app.recorder.max_notification_id() == head


def test_a_file_without_its_columns_is_refused_before_anything_is_written(
    app: OversightApplication, tmp_path: Path
) -> None:
    _register_authority(app)
    directory = _fixture(tmp_path / "903")
    (directory / "episodes.csv").write_text("CHILD,START\nA1,01/01/2017\n")
    head = app.recorder.max_notification_id()
    with pytest.raises(FileProblem) as refused:
        _import(app, directory)
    assert refused.value.file == "episodes.csv" and "DECOM" in refused.value.problem
    assert app.recorder.max_notification_id() == head
    (directory / "reviews.csv").unlink()
    with pytest.raises(FileProblem) as missing:
        _import(app, directory)
    assert "reviews.csv" in str(missing.value)


def test_the_cli_reports_rows_and_rejections(database: DatabaseSettings, tmp_path: Path) -> None:
    from oversight.wiring import open_application

    app = open_application(database)
    try:
        _register_authority(app)
    finally:
        app.close()
    directory = _fixture(tmp_path / "903")
    env = {"OVERSIGHT_DATABASE_URL": database.sqlalchemy_url().replace("+psycopg", "")}
    args = ["import", "ssda903", str(directory), "--authority", AUTHORITY, "--risk-level", "low",
            "--rejections", str(tmp_path / "rejected.csv")]  # fmt: skip
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    assert result.exit_code == 4, result.output  # finished, with rows rejected
    assert "episodes.csv   rows       7  accepted       5  rejected      2" in result.output
    rows = list(csv.DictReader((tmp_path / "rejected.csv").read_text().splitlines()))
    assert len(rows) == 7 and rows[0].keys() == {"file", "line", "child", "rule", "reason"}
    bad = CliRunner().invoke(
        main, ["import", "ssda903", str(directory), "--authority", "NOPE-LA", "--risk-level",
               "low"], env=env, catch_exceptions=False,
    )  # fmt: skip
    assert bad.exit_code == 3 and "authority" in bad.output and "Traceback" not in bad.output


def test_a_row_the_domain_refuses_writes_none_of_its_events(
    app: OversightApplication, tmp_path: Path
) -> None:
    """An episode implying three events, the second of which the domain refuses (a
    death already recorded): the row is rejected whole, and its first event, which
    alone would be accepted, is not written."""
    _register_authority(app)
    directory = write_ssda903(
        tmp_path / "903",
        header=[("F7", "01/05/2010")],
        episodes=[
            _episode("F7", "01/01/2016", "S", "C2", "U1", DEC="01/02/2016", REC="E2"),
            _episode("F7", "01/03/2016", "S", "C2", "U1", DEC="01/04/2016", REC="E2"),
        ],
        reviews=[],
    )
    report = _import(app, directory)
    [rejection] = report.rejected
    assert (rejection.file, rejection.row) == ("episodes.csv", 3)
    assert rejection.message.startswith("RecordChildDeath: a death is already recorded")
    kinds = [kind_of(e) for e in _events(app, "F7")]
    assert kinds.count(ChildCameIntoCare) == 1 and kinds.count(ChildDeathRecorded) == 1


def test_a_write_by_someone_else_mid_import_interrupts_it_and_a_rerun_completes_it(
    app: OversightApplication,
    other_app: OversightApplication,
    database: DatabaseSettings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An import decides its rows in memory and writes them a batch at a time (ADR 0015's
    2026-12-03 addendum). A real second writer (another application on the same store)
    changes a child the import has decided on but not yet written: that batch's
    transaction is refused whole by its version check, the import stops with
    ``ImportInterrupted`` (the CLI's exit 2), and nothing of the batch is stored.
    Running it again replays what was written and records the rest, and the other
    writer's change stands: the store then holds exactly an undisturbed import's events
    plus that change (``other_app``: the same import on a store of its own)."""
    from application import batching
    from domain.events import ChildEvent, RiskLevelChanged
    from oversight.importers import jobs
    from oversight.wiring import open_application
    from tests.helpers import stored_events

    directory = _fixture(tmp_path / "903")
    _register_authority(other_app)
    _import(other_app, directory)
    _register_authority(app)
    monkeypatch.setattr(jobs, "WRITE_EVERY", 3)
    original = batching.Rows.write
    writes: list[int] = []
    other = open_application(database)

    def write(rows: batching.Rows) -> int | None:
        writes.append(1)
        if len(writes) == 2:  # before the second batch is written, someone else writes
            ids = {e.originator_id for e in rows.batch.events if isinstance(e, ChildEvent)}
            stored = next(i for i in sorted(ids) if i in other.repository)
            child = other.repository.get(stored)
            command = c.ChangeRiskLevel(
                command_id="elsewhere", actor=IMPORTER,
                occurred_at=datetime(2024, 1, 2, tzinfo=UTC),
                child_id=child.local_child_id, risk_level="high",
            )  # fmt: skip
            child.change_risk_level(command.provenance(), risk_level="high")
            other.save(child)
        return original(rows)

    monkeypatch.setattr(batching.Rows, "write", write)
    try:
        with pytest.raises(jobs.ImportInterrupted, match="run the import again"):
            _import(app, directory)
    finally:
        other.close()
    assert len(writes) == 2
    monkeypatch.setattr(batching.Rows, "write", original)
    report = _import(app, directory)
    assert report.recorded > 0 and report.replayed > 0  # the first batch was written

    def topics(application: OversightApplication) -> Counter[str]:
        return Counter(row[2] for row in stored_events(application, AUTHORITY))

    changed = topics(app) - topics(other_app)
    assert sum(changed.values()) == 1
    assert next(iter(changed)).endswith(RiskLevelChanged.__name__)
    assert not topics(other_app) - topics(app)
    again = _import(app, directory)
    assert again.recorded == 0
