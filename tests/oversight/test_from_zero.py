"""The README's "From zero to your authority", run as written (issue 25 item 3):
register, import, projections, serve, first query, on SQLite and PostgreSQL.

Three things change from the text, each where the test must differ from a council: the
store's URL (the test's database), the port (a free one) and the sample file's path (the
block runs in a fresh directory, so the repository's path is put in front)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

from oversight.settings import DatabaseSettings

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## From zero to your authority"


def _block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index(SECTION) :]
    return section[section.index("```sh\n") + 6 : section.index("\n```", section.index("```sh"))]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_from_zero_to_your_authority_as_written(database: DatabaseSettings, tmp_path: Path) -> None:
    block = _block()
    assert "oversight authority register LA1" in block and "oversight serve" in block
    url = database.sqlalchemy_url().replace("+psycopg", "")
    script = (
        block.replace("sqlite:///loamshire.sqlite3", url)
        .replace("8000", str(_free_port()))
        .replace("tests/fixtures/", f"{ROOT}/tests/fixtures/")
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for name in ("OVERSIGHT_ENV", "OVERSIGHT_POLICY_PACKS", "OVERSIGHT_JWKS_FILE"):
        env.pop(name, None)
    # Should a step fail, the server the block started in the background goes with it.
    guarded = "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n" + script
    ran = subprocess.run(
        ["bash", "-e", "-c", guarded],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr + (tmp_path / "serve.log").read_text()
    out = ran.stdout
    assert "registered LA1 (Loamshire County Council) on pack DUR" in out, out
    assert "rows       3  accepted       3  rejected      0" in out, out
    assert "projections up to date" in out, out
    # The projections answered the import before serving: no lag in any row.
    lags = re.findall(r"^\w+\s+\d+\s+(\d+)\s+(\d+)\s+(\d+)\s", out, re.MULTILINE)
    assert lags and all(lag == "0" for _, _, lag in lags), out
    answer = json.loads(out[out.index('{"data"') :].strip().splitlines()[0])
    assert "errors" not in answer, answer
    assert answer["data"]["complianceSummary"]["pack"] == "DUR"
    cases = {edge["node"]["childId"] for edge in answer["data"]["cases"]["edges"]}
    assert cases == {"A1", "B2", "C3"}, answer
    # Its lines name the caller and the authority, never the children's details.
    log = (tmp_path / "serve.log").read_text()
    assert "user=SM1" in log or '"user": "SM1"' in log, log


def test_an_import_can_leave_the_projections_to_a_runner_and_says_so(
    database: DatabaseSettings,
) -> None:
    from click.testing import CliRunner

    from oversight.cli import main

    env = {"OVERSIGHT_DATABASE_URL": database.sqlalchemy_url().replace("+psycopg", "")}
    runner = CliRunner()
    registered = runner.invoke(
        main, ["authority", "register", "LA2", "--name", "Second Council", "--pack", "SHR"], env=env
    )
    assert registered.exit_code == 0, registered.output
    census = ROOT / "tests" / "fixtures" / "cin" / "census_2024_three_children.xml"
    imported = runner.invoke(
        main,
        ["import", "cin-census", str(census), "--authority", "LA2", "--no-projections"],
        env=env,
    )
    assert imported.exit_code == 0, imported.output
    assert "run `oversight projections run --once`" in imported.output
    status = runner.invoke(main, ["projections", "status", "--format", "json"], env=env)
    assert all(row["lag_events"] > 0 for row in json.loads(status.output)), status.output
    caught_up = runner.invoke(main, ["projections", "run", "--once"], env=env)
    assert caught_up.exit_code == 0, caught_up.output
    status = runner.invoke(main, ["projections", "status", "--format", "json"], env=env)
    assert all(row["lag_events"] == 0 for row in json.loads(status.output)), status.output
