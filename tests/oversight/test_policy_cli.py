"""``oversight policy check`` and ``oversight authority register``: a sixth authority from a
pack file that exists only under tests/ (Invershire, invented), with no code change; bad
packs refused with file, line and reason, and nothing adopted."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from application.app import OversightApplication
from domain import commands as c
from domain.errors import DomainError
from domain.events import (
    CaseSupervisionRecorded,
    PersonalSupervisionRecordWritten,
    SupervisionSessionHeld,
)
from domain.identifiers import child_id, worker_id
from domain.policy.compliance import Status
from domain.policy.packs import BUILT_IN, PackLibrary
from domain.vocabulary import Role
from oversight.cli import main
from oversight.policy_cli import REFUSED
from oversight.settings import DatabaseSettings
from projections.compliance import Compliance, evaluate
from tests.helpers import actor, common, register_worker
from tests.projections.conftest import make_runner

INV = Path(__file__).resolve().parents[1] / "fixtures" / "packs" / "inv.toml"
HELD = SupervisionSessionHeld.__name__
WRITTEN = PersonalSupervisionRecordWritten.__name__
CASE = CaseSupervisionRecorded.__name__


def _run(*args: str, **env: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def _bad(tmp_path: Path, text: str, name: str = "bad.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_sound_pack_is_summarised() -> None:
    code, output = _run("policy", "check", str(INV))
    assert code == 0, output
    assert "pack INV (Invershire Council (invented), extends SWRB) is sound" in output
    assert "rules: 3 of its own, 3 inherited" in output
    assert "clocks: 1 of its own, 9 inherited" in output
    for rule_id in ("INV-2.1", "INV-2.4", "INV-3.1", "SWRB-5/monthly"):
        assert rule_id in output


def test_every_built_in_pack_checks_sound() -> None:
    for path in sorted(BUILT_IN.glob("*.toml")):
        code, output = _run("policy", "check", str(path))
        assert code == 0, output


def test_malformed_toml_is_refused_with_its_line(tmp_path: Path) -> None:
    path = _bad(tmp_path, '[pack]\nid = "BAD"\n\n[[rule]\nid = "BAD-1"\n')
    code, output = _run("policy", "check", str(path))
    assert code == REFUSED
    assert output.startswith(f"{path}:4: not valid TOML:"), output


def test_a_duplicate_rule_id_is_refused_at_its_second_line(tmp_path: Path) -> None:
    text = INV.read_text(encoding="utf-8")
    rule = text[text.index('[[rule]]\nid = "INV-2.1"') : text.index("# 2.4")]
    path = _bad(tmp_path, text + "\n" + rule)
    code, output = _run("policy", "check", str(path))
    assert code == REFUSED
    second = text.count("\n") + 3  # the appended copy's id line
    first = text[: text.index('id = "INV-2.1"')].count("\n") + 1
    assert output == (
        f"{path}:{second}: duplicate [[rule]] INV-2.1 (first at line {first}): "
        "give each a distinct id or variant\n"
    )


def test_an_unknown_event_in_a_clock_is_refused_at_its_line(tmp_path: Path) -> None:
    text = INV.read_text(encoding="utf-8").replace(f'event = "{WRITTEN}"', 'event = "Writen"')
    path = _bad(tmp_path, text)
    code, output = _run("policy", "check", str(path))
    assert code == REFUSED
    line = next(n for n, t in enumerate(text.splitlines(), 1) if '"Writen"' in t)
    assert output == (
        f"{path}:{line}: clock session_written_up: unknown event 'Writen': not in the event "
        "catalogue (domain/events.py)\n"
    )


def test_an_unknown_event_in_a_clocks_own_table_is_refused_at_its_key(tmp_path: Path) -> None:
    text = INV.read_text(encoding="utf-8").replace(
        f'stop = {{ match = "keyed", event = "{WRITTEN}", key = "session_id" }}',
        "\n[clock.session_written_up.stop]\n"
        f'match = "keyed"\nkey = "session_id"\nevent = "{HELD}s"',
    )
    path = _bad(tmp_path, text)
    code, output = _run("policy", "check", str(path))
    assert code == REFUSED
    line = next(n for n, t in enumerate(text.splitlines(), 1) if f'"{HELD}s"' in t)
    assert output.startswith(f"{path}:{line}: clock session_written_up: unknown event"), output


def test_a_bad_rule_parameter_is_refused_at_its_line(tmp_path: Path) -> None:
    text = INV.read_text(encoding="utf-8").replace('interval = "P6W"', 'interval = "six weeks"')
    path = _bad(tmp_path, text)
    code, output = _run("policy", "check", str(path))
    assert code == REFUSED
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t == 'interval = "six weeks"')
    assert output.startswith(f"{path}:{line}: rule INV-3.1: "), output


def test_a_pack_extending_an_unknown_pack_is_refused_at_its_line(tmp_path: Path) -> None:
    path = _bad(tmp_path, '[pack]\nid = "BAD"\nname = "Bad"\nextends = "NOPE"\n')
    code, output = _run("policy", "check", str(path))
    assert code == REFUSED
    assert output.startswith(f"{path}:4: extends unknown pack 'NOPE'"), output


def test_a_pack_taking_a_loaded_packs_id_is_refused(tmp_path: Path) -> None:
    text = INV.read_text(encoding="utf-8").replace('id = "INV"', 'id = "DUR"', 1)
    path = _bad(tmp_path, text)
    code, output = _run("policy", "check", str(path))
    assert code == REFUSED
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t == 'id = "DUR"')
    assert output.startswith(f"{path}:{line}: pack id 'DUR' is already loaded"), output


def test_the_coverage_command_writes_the_table(tmp_path: Path) -> None:
    out = tmp_path / "coverage.md"
    code, output = _run("policy", "coverage", "--write", str(out))
    assert code == 0 and output == f"wrote {out}\n"
    committed = Path(__file__).resolve().parents[2] / "docs" / "policy-coverage.md"
    assert out.read_text(encoding="utf-8") == committed.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (("[[rule]]", "[[rule"), "not valid TOML"),
        ((f'events = ["{CASE}"]', f'events = ["{HELD}x"]'), "unknown event"),
        (('id = "INV-3.1"', 'id = "INV-2.1"'), "duplicate [[rule]] INV-2.1"),
    ],
)
def test_an_invalid_pack_is_not_adopted(
    database: DatabaseSettings,
    app: OversightApplication,
    tmp_path: Path,
    change: tuple[str, str],
    words: str,
) -> None:
    adopted = tmp_path / "adopted"
    path = _bad(tmp_path, INV.read_text(encoding="utf-8").replace(*change, 1), "inv.toml")
    code, output = _run(
        "authority", "register", "--code", "INV", "--name", "Invershire", "--pack", str(path),
        OVERSIGHT_DATABASE_URL=database.url, OVERSIGHT_POLICY_PACKS=str(adopted),
    )  # fmt: skip
    assert code == REFUSED
    assert output.startswith(f"{path}:") and words in output, output
    assert not adopted.exists() or list(adopted.iterdir()) == []
    with pytest.raises(DomainError):
        app.get_authority("INV")


def test_registering_needs_a_directory_to_keep_the_pack(database: DatabaseSettings) -> None:
    code, output = _run(
        "authority", "register", "--code", "INV", "--name", "Invershire", "--pack", str(INV),
        OVERSIGHT_DATABASE_URL=database.url, OVERSIGHT_POLICY_PACKS="",
    )  # fmt: skip
    assert code == 1 and "set OVERSIGHT_POLICY_PACKS" in output


def test_a_sixth_authority_from_a_pack_file_gets_findings_citing_that_pack(
    database: DatabaseSettings, app: OversightApplication, engine: Engine, tmp_path: Path
) -> None:
    adopted = tmp_path / "adopted"
    env = {"OVERSIGHT_DATABASE_URL": database.url, "OVERSIGHT_POLICY_PACKS": str(adopted)}
    code, output = _run(
        "authority", "register", "--code", "INV", "--name", "Invershire Council",
        "--pack", str(INV), **env,
    )  # fmt: skip
    assert code == 0, output
    assert output == "registered INV (Invershire Council) on pack INV\n"
    # Kept where every later run finds it: a fresh load of the configured directories.
    assert (adopted / "inv.toml").read_text(encoding="utf-8") == INV.read_text(encoding="utf-8")
    library = PackLibrary.load([BUILT_IN, adopted])
    assert app.get_authority("INV").policy_pack == "INV"
    # Registering again is refused by the domain; the pack already there stays.
    code, output = _run(
        "authority", "register", "--code", "INV", "--name", "Invershire Council",
        "--pack", str(INV), **env,
    )  # fmt: skip
    assert code == REFUSED and (adopted / "inv.toml").exists()

    now = datetime.now(UTC).replace(microsecond=0)
    today = now.date()
    admin = actor(authority="INV")
    app.policy_packs = library  # the packs this run loaded
    for staff, manager, role in (("TM1", None, "team_manager"), ("SW1", "TM1", "social_worker")):
        register_worker(
            app,
            staff,
            line_manager_id=manager,
            role=role,
            start_date=today - timedelta(days=10),
            when=now,
            who=admin,
        )
    app.execute(
        c.HoldSupervisionSession(
            **common(now, actor("TM1", Role.SUPERVISOR, "INV")),
            staff_id="SW1",
            session_id="S1",
            supervisor_id="TM1",
            duration_minutes=60,
            functions_covered=["management", "support"],
            wellbeing_discussed=True,
            equality_and_diversity_discussed=True,
            case_discussions=[],
        )
    )
    app.execute(
        c.RegisterChild(
            **common(now, admin),
            child_id="C1",
            date_of_birth=date(2015, 5, 1),
            case_type="cin",
            risk_level="medium",
        )
    )
    make_runner(database, app, engine, Compliance(library=library)).catch_up()
    later = today + timedelta(days=40)
    child = evaluate(engine, library, str(child_id("INV", "C1")), as_of=later)
    assert child is not None
    assert {f.rule_id for f in child.findings} == {"INV-3.1"}
    result = evaluate(engine, library, str(worker_id("INV", "SW1")), as_of=later)
    assert result is not None
    cited = {f.rule_id for f in result.findings}
    assert {"INV-2.1", "INV-2.4"} <= cited
    assert {rule_id.split("-")[0] for rule_id in cited} <= {"INV", "SWRB"}, cited
    # One finding per window: the first from the session held today.
    first = {f.rule_key: f for f in reversed(result.findings) if f.window_start == today}
    assert first["INV-2.1"].status is Status.BREACHED  # its window has passed
    assert first["INV-2.1"].due_on == today + timedelta(weeks=3)
    assert "INV-2.1" in first["INV-2.1"].sentence
    assert first["INV-2.4"].status is Status.OVERDUE
    assert today < (first["INV-2.4"].due_on or today) <= today + timedelta(days=7)
    # Moved to another pack by its id, the authority is held to it from now on.
    assert _run("authority", "adopt", "--code", "INV", "--pack", "DUR", **env) == (
        0,
        "INV adopted pack DUR\n",
    )


def test_a_bad_pack_in_the_configured_directories_is_refused_at_load_with_its_line(
    tmp_path: Path,
) -> None:
    text = INV.read_text(encoding="utf-8").replace('within = "3WD"', 'within = "3 days"')
    path = _bad(tmp_path, text, "inv.toml")
    code, output = _run("policy", "packs", OVERSIGHT_POLICY_PACKS=str(tmp_path))
    assert code == 1
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t == 'within = "3 days"')
    assert "inv.toml rule INV-2.4: '3 days' is not a period" in output
    assert f"(at line {line} of {path})" in output


def test_a_broken_pack_among_the_configured_ones_is_checked_with_its_line(tmp_path: Path) -> None:
    text = INV.read_text(encoding="utf-8").replace('within = "3WD"', 'within = "3 days"')
    path = _bad(tmp_path, text, "inv.toml")
    code, output = _run("policy", "check", str(path), OVERSIGHT_POLICY_PACKS=str(tmp_path))
    assert code == REFUSED
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t == 'within = "3 days"')
    assert output.startswith(f"{path}:{line}: rule INV-2.4: '3 days' is not a period"), output


@pytest.mark.parametrize(
    ("change", "at", "words"),
    [
        (('id = "INV-3.1"', 'id = "inv 3.1"'), 'id = "inv 3.1"', "every rule needs an id"),
        (('reason = "Sessions', 'why = "Sessions'), "[[recorded]]", "INV-2.2 needs a reason"),
    ],
)
def test_an_entry_without_its_id_or_reason_is_refused_at_its_line(
    tmp_path: Path, change: tuple[str, str], at: str, words: str
) -> None:
    text = INV.read_text(encoding="utf-8").replace(*change, 1)
    path = _bad(tmp_path, text)
    code, output = _run("policy", "check", str(path))
    assert code == REFUSED
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t == at)
    assert output.startswith(f"{path}:{line}: ") and words in output, output
