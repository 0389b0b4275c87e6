"""A large CIN census streams in bounded memory (issue 21, ADR 0026).

Each measurement runs in a fresh process, so its peak resident size (``ru_maxrss``) is
the import's own, not whatever the test run reached before: the bound is the growth from
just before the import to its end, far under the file's size.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain import commands as c
from domain.provenance import Actor
from domain.vocabulary import Role
from oversight.settings import DatabaseSettings

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "cin"))
from make_census import write_large  # noqa: E402

MB = 1024 * 1024
#: The most a run may grow by, whatever the file's size.
BOUND = 50 * MB

READ_ALL = """
import resource, sys
from pathlib import Path
from domain.provenance import Actor
from domain.vocabulary import Role
from oversight.importers.cin_census import Census, Planner, count_children, read_census, read_child

path = Path(sys.argv[1])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
total = count_children(path)
planner = None
read = commands = 0
for item in read_census(path):
    if isinstance(item, Census):
        planner = Planner("LACIN", Actor("IMPORT", Role.IMPORTER, "LACIN"), "medium", item)
        continue
    read += 1
    commands += len(planner.plan(read_child(item, read, planner.census), None).commands)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(total, read, commands, (after - before) * 1024)
"""

CLI = """
import resource, sys
from oversight.cli import main
import oversight.cin_census_cli

before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    main(sys.argv[1:], standalone_mode=False)
    status = 0
except SystemExit as exit:
    status = exit.code
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("GROWTH", status, (after - before) * 1024)
"""


def _python(script: str, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
def test_a_100_mb_census_is_read_checked_and_planned_in_bounded_memory(tmp_path: Path) -> None:
    """Both passes over a 100 MB census (the well-formedness pass, then every child read,
    checked by the census's rules and turned into its commands), in one process."""
    path = tmp_path / "census_100mb.xml"
    children = write_large(path, 100)
    assert path.stat().st_size >= 100 * MB * 0.95
    total, read, commands, growth = map(int, _python(READ_ALL, str(path)).split())
    assert total == read == children > 40_000
    assert commands == 11 * children  # each: registered, and ten census facts
    assert growth < BOUND, f"grew by {growth / MB:.1f} MB reading {path.stat().st_size / MB:.0f} MB"


@pytest.mark.slow
def test_the_import_of_a_large_census_keeps_memory_bounded(
    database: DatabaseSettings, tmp_path: Path
) -> None:
    """The whole import (both passes, every child decided on its records against the
    store) of a 10 MB census, through the CLI, grows far less than the file."""
    from oversight.wiring import open_application

    app = open_application(database)
    try:
        app.execute(
            c.RegisterAuthority(
                command_id="reg-LACIN", actor=Actor("ADMIN", Role.ADMINISTRATOR, "LACIN"),
                occurred_at=datetime(2010, 1, 1, tzinfo=UTC), authority_code="LACIN",
                name="Census Council", policy_pack="DEV",
            )
        )  # fmt: skip
    finally:
        app.close()
    path = tmp_path / "census_10mb.xml"
    children = write_large(path, 10)
    url = database.sqlalchemy_url().replace("+psycopg", "")
    out = _python(
        CLI, "import", "cin-census", str(path), "--authority", "LACIN", "--dry-run",
        env={"OVERSIGHT_DATABASE_URL": url},
    )  # fmt: skip
    assert f"census_10mb.xml rows {children:>7}  accepted {children:>7}  rejected      0" in out
    growth = out.split("GROWTH ", 1)[1].split()
    assert growth[0] == "0"
    assert int(growth[1]) < BOUND, f"grew by {int(growth[1]) / MB:.1f} MB"
