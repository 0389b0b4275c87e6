"""``oversight export ...``: the documents on stdout or in a file, and bad input as a
message and an exit code (2 usage, 3 not found, 4 rejected), never a traceback."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

from click.testing import CliRunner
from pypdf import PdfReader

from domain.events import RecordAccessed
from oversight.cli import main
from tests.exports.conftest import Told
from tests.exports.story import LA, PURGED_WORDS


def _run(told: Told, *args: str) -> tuple[int, bytes, str]:
    result = CliRunner().invoke(
        main,
        ["export", *args, "--authority", LA],
        env={"OVERSIGHT_DATABASE_URL": told.database.url},
        catch_exceptions=False,
    )
    return result.exit_code, result.stdout_bytes, result.stderr


def test_a_chronology_as_csv_json_and_pdf(told: Told, tmp_path: Path) -> None:
    code, out, _ = _run(told, "chronology", "--child", "C1", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out.decode())))
    decided = {r["entry"]: r["decision"] for r in rows if r["decision"]}
    assert decided["C1-MD1"] == "End the child protection plan"
    assert _run(told, "chronology", "--child", "C1", "--format", "csv")[1] == out
    code, out, _ = _run(told, "chronology", "--child", "C1", "--worker", "SW1")
    assert code == 0 and json.loads(out)["worker"] == "SW1"
    assert PURGED_WORDS.encode() not in out
    target = tmp_path / "c1.pdf"
    code, out, err = _run(told, "chronology", "--child", "C1", "--format", "pdf",
                          "--output", str(target))  # fmt: skip
    assert code == 0 and out == b"" and "wrote" in err
    text = "".join(page.extract_text() for page in PdfReader(target).pages)
    assert "End the child protection plan" in text


def test_a_review_pack_decisions_and_a_sample_pack(told: Told, tmp_path: Path) -> None:
    code, out, _ = _run(told, "review-pack", "--child", "C1", "--at", "2012-04-02T12:00:00+00:00",
                        "--known-at", "2027-01-01T00:00:00+00:00")  # fmt: skip
    assert code == 0
    assert [d["disagreement"] for d in json.loads(out)["open_disagreements"]] == ["C1-D1"]
    code, out, _ = _run(told, "decisions", "--kind", "management_decision", "--team", "Team A")
    assert code == 0
    (only,) = json.loads(out)["decisions"]
    assert only["decision"] == "End the child protection plan"
    assert only["chronology"].endswith("--child C1")
    archive = tmp_path / "sample.zip"
    args = ("sample-pack", "--team", "Team A", "--from", "2012-01-01", "--to", "2012-12-31",
            "--size", "1", "--seed", "7", "--output")  # fmt: skip
    assert _run(told, *args, str(archive))[0] == 0
    again = tmp_path / "again.zip"
    assert _run(told, *args, str(again))[0] == 0
    with zipfile.ZipFile(archive) as first, zipfile.ZipFile(again) as second:
        names = sorted(first.namelist())
        assert "index.csv" in names and "tracking-sheet.csv" in names
        assert sum(name.endswith(".pdf") for name in names) == 1
        index = json.loads(first.read("index.json"))
        assert index["population"] == ["C1", "C2"] and index["seed"] == 7
        assert index == json.loads(second.read("index.json"))  # the same seed, the same sample
        assert "SW1" in first.read("tracking-sheet.csv").decode()


def test_bad_input_is_a_message_and_an_exit_code(told: Told) -> None:
    code, _, err = _run(told, "chronology", "--child", "C404")
    assert code == 3 and "--child" in err and "Traceback" not in err
    code, _, err = _run(told, "chronology", "--child", "C1", "--as-of", "2011-01-01T00:00:00+00:00")
    assert code == 4 and "--as-of" in err and "before the child's record began" in err
    code, _, err = _run(told, "chronology", "--child", "C1", "--format", "docx")
    assert code == 2 and "--format" in err
    code, _, err = _run(told, "chronology", "--child", "C1", "--reader", "SW3",
                        "--role", "practitioner")  # fmt: skip
    assert code == 3 and "may not see it" in err
    code, _, err = _run(told, "decisions", "--reader", "SW1", "--role", "practitioner")
    assert code == 4 and "ReportsAreForQualityAssurance" in err
    code, out, _ = _run(told, "chronology", "--child", "C1", "--from", "2020-01-01",
                        "--to", "2020-01-31")  # fmt: skip
    assert code == 0 and "No oversight act" in json.loads(out)["empty_reason"]


def test_each_read_the_cli_logs_says_it_came_through_the_command(told: Told) -> None:
    """The CLI's reader and role are the operator's declaration (who holds the database's
    credentials), not a verified token's: each access log line says so."""
    before = told.app.recorder.max_notification_id() or 0
    code, _, _ = _run(told, "chronology", "--child", "C1", "--reader", "SM1",
                      "--role", "service_manager")  # fmt: skip
    assert code == 0
    written = told.app.recorder.select_notifications(before + 1, 100)
    reads = [
        told.app.mapper.to_domain_event(n)
        for n in written
        if n.topic.endswith(RecordAccessed.__name__)
    ]
    assert reads, "the chronology's read of C1 is logged"
    assert all("(oversight export, run by " in r.what for r in reads), [r.what for r in reads]
    assert all(r.provenance.actor_id == "SM1" for r in reads)
