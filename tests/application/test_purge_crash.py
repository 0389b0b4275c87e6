"""A purge process killed (SIGKILL, for real) between the steps of a purge loses nothing
(issue 20, item 3; ADR 0018, addendum of 2026-12-03).

The ledger gets an intent line, fsynced, before each purge command. Killed after the
command committed and before the certificate, then the database restored from a backup
taken before the purge: ``oversight retention reapply`` destroys the record again from
the intent alone and certifies it; on the database that did commit, it replays the
command and certifies it. Killed before the command: reapply purges the record if it is
still due, and reports it, forcing nothing, while a legal hold placed since covers it.

The kill comes from ``OVERSIGHT_TEST_CRASH_AT`` (test only, ``application.purge``): the
purge process sends itself SIGKILL at that point, so no ``finally``, no flush and no
cleanup runs, as in a crash.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from application import certificates as certs
from application.app import OversightApplication
from application.certificates import Ledger
from application.purge import AFTER_COMMAND, BEFORE_COMMAND, CRASH_SETTING, Purges
from application.storage import compact
from domain import commands as c
from domain.events import RecordPurged
from domain.provenance import Actor
from domain.vocabulary import (
    Role,
)
from oversight.projecting import read_engine
from oversight.serving import PurgesNotApplied, refuse_unapplied_purges
from oversight.settings import DatabaseSettings, Settings
from tests.application.test_purge import (
    _backup,
    _cli,
    _restore,
    _seed,
    _sentinel,
    _tables,
    assert_nowhere,
    assert_present,
)
from tests.conftest import drop_postgres_database, new_postgres_database
from tests.helpers import AUTHORITY, opened, setup_authority
from tests.projections.conftest import catch_up_all

ROOT = Path(__file__).resolve().parents[2]
PURGE = ("retention", "purge", "--as-of", "2026-01-01", "--authorised-by", "DPO1")
DPO = Actor("DPO1", Role.DATA_PROTECTION_OFFICER, AUTHORITY)


def _killed_purge(database: DatabaseSettings, ledger: Path, point: str) -> None:
    """``oversight retention purge`` in its own process, killed by SIGKILL at ``point``."""
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        OVERSIGHT_DATABASE_URL=database.url,
        OVERSIGHT_PURGE_LEDGER=str(ledger),
        **{CRASH_SETTING: point},
    )
    done = subprocess.run(
        [sys.executable, "-m", "oversight.cli", *PURGE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()


def _backup_elsewhere(database: DatabaseSettings, engine: Engine, tmp_path: Path) -> Path:
    """A backup taken by another process, as a backup tool is. This process must not open
    and close the SQLite file itself: closing any descriptor of a file drops every POSIX
    lock the process holds on it, its SQLite connections' too, and a writer killed after
    that leaves a commit the surviving connections do not see (measured here)."""
    if database.backend != "sqlite":
        return _backup(database, engine, tmp_path)
    compact(engine)  # everything in the main file
    assert database.sqlite_path is not None
    copy = tmp_path / "backup.sqlite3"
    subprocess.run(["cp", database.sqlite_path, str(copy)], check=True)
    return copy


def _serve_check(database: DatabaseSettings, engine: Engine, ledger: Path) -> None:
    """``oversight serve``'s start-up check of the ledger (raises ``PurgesNotApplied``)."""
    with opened(database) as app:
        refuse_unapplied_purges(Purges(app, engine, Ledger(ledger)), Settings(database))


@pytest.fixture
def restored_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """Where a backup is restored: a new SQLite file, or a new PostgreSQL database."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    url = new_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)


def test_a_purge_killed_after_its_command_is_not_lost_to_a_restore(
    database: DatabaseSettings,
    app: OversightApplication,
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    restored_url: str,
) -> None:
    sentinel = _sentinel()
    setup_authority(app)
    session = _seed(app, AUTHORITY, "SW1", sentinel)
    catch_up_all(database, app, engine)
    assert sentinel in _tables(engine)
    backup = _backup_elsewhere(database, engine, tmp_path)

    ledger = tmp_path / "ledger.jsonl"
    _killed_purge(database, ledger, AFTER_COMMAND)
    # The command committed; the process died before any certificate: only the intent
    # is outside the database.
    assert Ledger(ledger).read() == []
    (intent,) = Ledger(ledger).pending()
    assert (intent.local_id, intent.record_class, intent.record_id, intent.rule_id) == (
        "SW1",
        "personal_supervision",
        session,
        "DUR-4.9",
    )
    assert intent.authorised_by == "DPO1" and sentinel not in ledger.read_text()
    assert certs.certificates(engine) == []
    # The same ledger serves two histories from here: the database restored from the
    # backup (the purge undone), and the database that did commit.
    committed_ledger = tmp_path / "committed-ledger.jsonl"
    shutil.copy(ledger, committed_ledger)

    restored = _restore(backup, restored_url)
    restored_engine = read_engine(restored)
    try:
        assert sentinel in _tables(restored_engine)  # the restore brought it back
        with pytest.raises(PurgesNotApplied, match="names 1 records whose purge was inter"):
            _serve_check(restored, restored_engine, ledger)

        caplog.clear()
        caplog.set_level(logging.DEBUG)
        code, output = _cli(restored, ledger, "retention", "reapply")
        assert code == 0, output
        assert "interrupted purges: certified 1, not held 0, refused 0" in output, output
        assert_nowhere(sentinel, restored, restored_engine, caplog, output)
        (certificate,) = certs.certificates(restored_engine)
        assert certificate.certificate_id == intent.certificate_id
        assert (certificate.record_id, certificate.rule_id, certificate.ran_by) == (
            session,
            "DUR-4.9",
            "DPO1",
        )
        assert Ledger(ledger).read() == [certificate] and Ledger(ledger).pending() == []
        _serve_check(restored, restored_engine, ledger)  # allowed now

        # Idempotent: the record is now one the ledger certifies, and already destroyed.
        code, output = _cli(restored, ledger, "retention", "reapply")
        assert code == 0 and "destroyed again 0, already destroyed 1, refused 0" in output
        assert "interrupted" not in output
        assert certs.certificates(restored_engine) == [certificate]
    finally:
        restored_engine.dispose()

    # The database where the command did commit: the next reapply replays the very
    # command (no second purge), brings the read models past it, compacts and certifies.
    _serve_check(database, engine, committed_ledger)  # destroyed: nothing to disclose
    caplog.clear()
    code, output = _cli(database, committed_ledger, "retention", "reapply")
    assert code == 0 and "interrupted purges: certified 1" in output, output
    assert_nowhere(sentinel, database, engine, caplog, output)
    (committed,) = certs.certificates(engine)
    assert committed.certificate_id == intent.certificate_id
    assert Ledger(committed_ledger).read() == [committed]
    with opened(database) as fresh:
        purged = [
            n
            for n in fresh.recorder.select_notifications(start=1, limit=10_000)
            if n.topic.endswith(f".{RecordPurged.__name__}")
        ]
    assert [n.id for n in purged] == [committed.position]  # replayed, not purged twice


def test_a_purge_killed_before_its_command_is_finished_if_due_and_reported_if_held(
    database: DatabaseSettings,
    app: OversightApplication,
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    sentinel = _sentinel()
    setup_authority(app)
    session = _seed(app, AUTHORITY, "SW1", sentinel)
    catch_up_all(database, app, engine)

    ledger = tmp_path / "ledger.jsonl"
    _killed_purge(database, ledger, BEFORE_COMMAND)
    (intent,) = Ledger(ledger).pending()
    assert intent.record_id == session
    assert_present(sentinel, database, engine)  # nothing was destroyed
    with pytest.raises(PurgesNotApplied, match="purge was interrupted"):
        _serve_check(database, engine, ledger)

    # Since the crash, the officer has placed a legal hold on the worker: the purge the
    # intent named is refused now, reported, and not forced; serving is allowed (the
    # record is held, not due).
    now = datetime.now(UTC)
    app.execute(
        c.PlaceLegalHold(
            command_id=uuid.uuid4().hex, actor=DPO, occurred_at=now, staff_id="SW1",
            hold_id="H1", kind="litigation", reference="ET/9",
        )
    )  # fmt: skip
    code, output = _cli(database, ledger, "retention", "reapply")
    assert code == 1, output
    assert f"refused (interrupted purge, command {intent.command_id}): " in output
    assert "held by legal hold H1 (litigation)" in output
    assert "interrupted purges: certified 0, not held 0, refused 1" in output
    assert sentinel in _tables(engine)
    assert certs.certificates(engine) == [] and Ledger(ledger).pending() == [intent]
    _serve_check(database, engine, ledger)

    # The hold lifted, the record is due again: the next reapply finishes the purge.
    app.execute(
        c.LiftLegalHold(
            command_id=uuid.uuid4().hex, actor=DPO, occurred_at=datetime.now(UTC),
            staff_id="SW1", hold_id="H1", reason="Tribunal closed",
        )
    )  # fmt: skip
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    code, output = _cli(database, ledger, "retention", "reapply")
    assert code == 0 and "interrupted purges: certified 1, not held 0, refused 0" in output
    assert_nowhere(sentinel, database, engine, caplog, output)
    (certificate,) = certs.certificates(engine)
    assert certificate.certificate_id == intent.certificate_id
    assert "(1 lifted before)" in certificate.legal_hold_check  # checked when destroyed
    assert Ledger(ledger).read() == [certificate] and Ledger(ledger).pending() == []
