"""One grammar for every ``oversight`` command (issue 25 item 2, docs/cli.md): each
command's ``--help`` answers, one bad call of each exits with the documented status and a
one-line error, data prints as a table, JSON or CSV, an unknown authority is not found,
and ``--help`` loads nothing of the store. The walk reads the command tree, so a command
added later is held to the same grammar."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from oversight.cli import main
from oversight.grammar import EXIT_STATUSES, FORMATS, NOT_FOUND, USAGE, flat_rows, to_csv
from oversight.settings import DatabaseSettings

ROOT = Path(__file__).resolve().parents[2]


def _commands(
    command: click.Command, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(main))
PATHS = [" ".join(path) or "(oversight)" for path, _ in COMMANDS]


def _invoke(args: list[str], env: dict[str, str] | None = None) -> click.testing.Result:
    return CliRunner().invoke(main, args, env=env or {}, catch_exceptions=True)


def test_the_tree_has_every_group_and_command() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"db upgrade", "demo seed", "projections status", "retention purge",
            "import ssda903", "authority register", "serve"} <= names  # fmt: skip


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=PATHS)
def test_every_help_answers(path: tuple[str, ...], command: click.Command) -> None:
    result = _invoke([*path, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: "), result.output


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=PATHS)
def test_a_bad_call_of_every_command_is_one_line_and_a_usage_status(
    path: tuple[str, ...], command: click.Command, tmp_path: Path
) -> None:
    env = {"OVERSIGHT_DATABASE_URL": f"sqlite:///{tmp_path / 'untouched.sqlite3'}"}
    result = _invoke([*path, "--no-such-option"], env)
    assert result.exit_code == USAGE, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert "--no-such-option" in lines[0] and "--help" in lines[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "untouched.sqlite3").exists()  # refused before it ran


def test_version() -> None:
    result = _invoke(["--version"])
    assert result.exit_code == 0 and result.output.startswith("oversight, version "), result.output


def test_help_loads_nothing_of_the_store() -> None:
    """``--help`` answers at once because no command's dependencies load with it
    (benchmarks/cli_help.py measures the time; this names what must stay out)."""
    probe = (
        "import sys\n"
        "from oversight.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('sqlalchemy', 'eventsourcing', 'strawberry', 'starlette', 'alembic',\n"
        "         'psycopg', 'application', 'projections', 'graphql_api', 'openpyxl',\n"
        "         'oversight.generate', 'oversight.importers', 'domain.policy', 'reportlab')\n"
        "print(sorted({m.split('.')[0] if not m.startswith(('oversight.', 'domain.')) else m\n"
        "              for m in sys.modules if m.startswith(heavy)}))\n"
    )
    answer = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert answer.stdout.splitlines()[-1] == "[]", answer.stdout


def _env(database: DatabaseSettings) -> dict[str, str]:
    return {"OVERSIGHT_DATABASE_URL": database.sqlalchemy_url().replace("+psycopg", "")}


UNKNOWN_AUTHORITY = [
    ["demo", "summary", "--authority", "NOPE"],
    ["compliance", "summary", "--authority", "NOPE"],
    ["compliance", "register", "disagreement", "--authority", "NOPE"],
    ["compliance", "sheet", "--authority", "NOPE", "--worker", "W1"],
    ["compliance", "team-sheet", "--authority", "NOPE", "--team", "Team A"],
    ["compliance", "show", "--authority", "NOPE", "--child", "C1"],
    ["retention", "schedule", "--authority", "NOPE"],
    ["retention", "certificates", "--authority", "NOPE"],
    ["log", "verify", "--authority", "NOPE"],
    ["history", "show", "--authority", "NOPE", "--child", "C1"],
    ["audit", "trail", "--authority", "NOPE", "--child", "C1"],
    ["import", "workforce", "census.xml", "--authority", "NOPE"],
]


def test_an_unknown_authority_is_not_found_everywhere(
    database: DatabaseSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "census.xml").write_text("<Message/>", encoding="utf-8")
    for args in UNKNOWN_AUTHORITY:
        result = _invoke(args, _env(database))
        assert result.exit_code == NOT_FOUND, (args, result.output)
        lines = result.output.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, lines)
        assert "NOPE" in lines[0] or "authority" in lines[0], (args, lines)


def test_data_prints_as_a_table_json_or_csv(database: DatabaseSettings) -> None:
    env = _env(database)
    registered = _invoke(
        ["authority", "register", "--code", "FMT", "--name", "Format Council", "--pack", "DUR"],
        env,
    )
    assert registered.exit_code == 0, registered.output
    again = _invoke(
        ["authority", "register", "--code", "FMT", "--name", "Format Council", "--pack", "DUR"],
        env,
    )
    assert again.exit_code == 4 and again.output.startswith("error: "), again.output
    for args in (
        ["projections", "status"],
        ["policy", "packs"],
        ["compliance", "summary", "--authority", "FMT", "--as-of", "2026-01-01"],
        ["retention", "schedule", "--authority", "FMT", "--as-of", "2026-01-01"],
    ):
        outputs = {}
        for fmt in FORMATS:
            result = _invoke([*args, "--format", fmt], env)
            assert result.exit_code == 0, (args, fmt, result.output)
            outputs[fmt] = result.output
        json.loads(outputs["json"])
        header = next(csv.reader(io.StringIO(outputs["csv"])), None)
        assert header is None or all(header), (args, outputs["csv"])
        assert outputs["table"] != outputs["json"], args
    status = json.loads(_invoke(["projections", "status", "--format", "json"], env).output)
    assert {row["projection"] for row in status} and all("lag_events" in r for r in status)
    rows = list(csv.DictReader(io.StringIO(_invoke(["policy", "packs", "--format", "csv"]).output)))
    assert {"DUR", "POR", "SHR"} <= {row["pack"] for row in rows}


def test_a_missing_projection_is_not_found(database: DatabaseSettings) -> None:
    result = _invoke(["projections", "rebuild", "no-such-projection"], _env(database))
    assert result.exit_code == NOT_FOUND, result.output
    assert len(result.output.splitlines()) == 1


text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00"))


@given(
    st.lists(st.dictionaries(st.sampled_from(["a", "b", "c.d", "e"]), text, min_size=1), max_size=5)
)
def test_csv_reads_back_what_was_written(records: list[dict[str, str]]) -> None:
    """Each record one row, its columns the union of every record's keys in first-seen
    order; a value reads back as written (a missing one as empty)."""
    written = to_csv(records)
    if not records:
        assert written == "\n" or written == ""
        return
    read = list(csv.DictReader(io.StringIO(written, newline="")))
    assert len(read) == len(records)
    for row, record in zip(read, records, strict=True):
        assert {k: v for k, v in row.items() if k in record} == record
        assert all(v == "" for k, v in row.items() if k not in record)


@given(st.dictionaries(st.sampled_from(["x", "y"]), st.integers(), min_size=1))
def test_nested_records_flatten_to_dotted_columns(inner: dict[str, int]) -> None:
    rows = flat_rows({"A": {"n": inner, "k": [1, 2]}, "B": {"n": inner, "k": []}})
    assert [row["key"] for row in rows] == ["A", "B"]
    assert all(row[f"n.{name}"] == value for row in rows for name, value in inner.items())


def test_the_exit_statuses_are_documented_as_the_grammar_has_them() -> None:
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    documented = {
        int(line.split("`")[1]): line.split("|")[2].strip()
        for line in page.splitlines()
        if line.startswith("| `")
    }
    assert documented == EXIT_STATUSES
