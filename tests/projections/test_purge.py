"""Erasure leaves no plaintext behind (issue 6, ADR 0012).

Records carrying a unique sentinel are written, projected, and purged by a purge run
(the purge use case, ``application.purge``: it redacts the read models and compacts
storage itself before it returns); then the whole database is searched (the SQLite file
and its write-ahead log byte for byte; a ``pg_dump`` of the PostgreSQL database) and the
logs: the sentinel is nowhere.
Records under a legal hold are still readable, a dry run lists exactly what the real
run destroyed, and the projections rebuilt from the purged log equal the live ones.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from application.app import OversightApplication
from application.certificates import Ledger
from application.purge import Purges
from application.storage import compact
from domain import commands as c
from domain.errors import DomainError
from domain.vocabulary import (
    Role,
)
from oversight.settings import DatabaseSettings
from projections.audit_trail import subject_trail
from projections.purge_schedule import purge_schedule, schedule_csv
from projections.registry import all_projections
from tests.helpers import AUTHORITY, actor, common, register_child, register_worker, setup_authority
from tests.projections.conftest import catch_up_all, checksum, make_runner

PURGED = "SENTINEL-d41d8cd98f00-PURGE-ME"
HELD = "SENTINEL-0cc175b9c0f1-KEEP-ME"
THEN = datetime(2012, 3, 1, 10, 0, tzinfo=UTC)
DPO = actor("DPO1", Role.DATA_PROTECTION_OFFICER)


def at(days: int) -> datetime:
    return THEN + timedelta(days=days)


def _session_with_record(app: OversightApplication, staff_id: str, n: int, text: str) -> None:
    session = f"{staff_id}-S{n}"
    app.execute(
        c.ScheduleSupervisionSession(
            **common(at(10 * n)),
            staff_id=staff_id,
            session_id=session,
            supervisor_id="TM1",
            scheduled_for=at(10 * n + 1),
        )
    )
    app.execute(
        c.HoldSupervisionSession(
            **common(at(10 * n + 1)),
            staff_id=staff_id,
            session_id=session,
            supervisor_id="TM1",
            duration_minutes=90,
            functions_covered=["management", "support"],
            wellbeing_discussed=True,
            equality_and_diversity_discussed=True,
        )
    )
    app.execute(
        c.WritePersonalSupervisionRecord(
            **common(at(10 * n + 2)),
            staff_id=staff_id,
            record_id=f"{session}-R",
            session_id=session,
            actions_reviewed=f"Reviewed {text}",
            wellbeing=f"Wellbeing {text}",
            workload="Manageable",
            development="Court skills",
            disagreements=None,
            agreed_actions=[],
        )
    )
    app.execute(
        c.CorrectEntry(
            **common(at(10 * n + 3)),
            staff_id=staff_id,
            entry_id=f"{session}-R",
            changes={"workload": f"Heavy {text}"},
            reason=f"Supervisee asked {text}",
        )
    )


def _scenario(app: OversightApplication) -> None:
    setup_authority(app, pack="DUR")
    for staff_id in ("SW1", "SW2"):
        register_worker(app, staff_id, when=THEN, start_date=THEN.date())
    for n in (1, 2):
        _session_with_record(app, "SW1", n, PURGED)  # DUR-4.9: due 2018
    _session_with_record(app, "SW2", 1, HELD)
    app.execute(
        c.PlaceLegalHold(
            **common(at(40), DPO), staff_id="SW2", hold_id="H1", kind="litigation", reference="ET/9"
        )
    )
    # Who read what and why, in 2012: kept 6 years from the last read [RET-ACCESS].
    auditor = actor("AUD1", Role.AUDITOR)
    for staff_id, text in (("SW1", PURGED), ("SW2", HELD)):
        app.execute(
            c.RecordAccess(
                **common(at(45), auditor), staff_id=staff_id, what="personal file",
                purpose=f"Audit {text}",
            )
        )  # fmt: skip
    # A child in need only, born 1990: its record is due 25 years from birth [RET-CIN].
    register_child(app, "C-OLD", when=THEN, date_of_birth=date(1990, 1, 5), case_type="cin")
    app.execute(
        c.TriggerOversight(
            **common(at(2)),
            child_id="C-OLD",
            trigger_id="T1",
            kind="drift_or_delay",
            detail=f"Drift noticed {PURGED}",
        )
    )
    app.execute(
        c.RaiseDisagreement(
            **common(at(3)),
            child_id="C-OLD",
            disagreement_id="D1",
            subject="decision_on_child",
            about=f"The plan {PURGED}",
        )
    )
    # A recent read of that child: its year is kept to 2032 [RET-ACCESS], but it goes
    # with the child's record, which no log of reads outlives.
    app.execute(
        c.RecordAccess(
            **common(datetime.now(UTC) - timedelta(days=10), auditor), child_id="C-OLD",
            what="case file", purpose=f"Review {PURGED}",
        )
    )  # fmt: skip
    # A child born 2015 is kept until 2040: untouched.
    register_child(app, "C-NEW", when=THEN, date_of_birth=date(2011, 1, 5), case_type="cin")


def _files_of(database: DatabaseSettings) -> bytes:
    assert database.sqlite_path is not None
    path = Path(database.sqlite_path)
    return b"".join(
        p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
    )


def _pg_dump(database: DatabaseSettings) -> bytes:
    pg_dump = shutil.which("pg_dump")
    assert pg_dump is not None, "pg_dump is installed beside PostgreSQL"
    return subprocess.run(
        [pg_dump, "--no-owner", database.sqlalchemy_url().replace("+psycopg", "")],
        check=True,
        capture_output=True,
    ).stdout


def _everything(database: DatabaseSettings) -> bytes:
    return _files_of(database) if database.backend == "sqlite" else _pg_dump(database)


def _rebuilt_checksums(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> dict[str, str]:
    found = {}
    for projection in all_projections():
        make_runner(database, app, engine, projection).rebuild()
        found[projection.name] = checksum(engine, projection)
    return found


def test_a_purge_leaves_no_plaintext_and_keeps_what_is_held(
    database: DatabaseSettings,
    app: OversightApplication,
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    purging = Purges(app, engine, Ledger(tmp_path / "ledger.jsonl"))
    _scenario(app)
    catch_up_all(database, app, engine)
    assert PURGED.encode() in _everything(database)  # the search can find it

    as_of = date(2026, 1, 1)
    schedule = {
        (r.local_id, r.record_class, r.record_id): r
        for r in purge_schedule(engine, authority_code=AUTHORITY)
    }
    assert schedule[("SW1", "personal_supervision", "SW1-S1")].due_on == date(2018, 3, 12)
    assert schedule[("SW1", "personal_supervision", "SW1-S1")].rule_id == "DUR-4.9"
    assert schedule[("SW2", "personal_supervision", "SW2-S1")].status_on(as_of) == "held"
    assert schedule[("C-OLD", "child_record", "C-OLD")].due_on == date(2015, 1, 5)
    assert schedule[("C-NEW", "child_record", "C-NEW")].status_on(as_of) == "scheduled"
    assert schedule[("SW1", "worker_file", "SW1")].status_on(as_of) == "waiting"

    dry = purging.run(authority_code=AUTHORITY, as_of=as_of, dpo=DPO, dry_run=True)
    would = {(o.row.local_id, o.row.record_class, o.row.record_id) for o in dry.destroyed}
    assert would == {
        ("SW1", "personal_supervision", "SW1-S1"),
        ("SW1", "personal_supervision", "SW1-S2"),
        ("SW1", "access_log", "2012"),
        ("C-OLD", "child_record", "C-OLD"),
    }
    assert PURGED.encode() in _everything(database)  # a dry run destroys nothing

    real = purging.run(authority_code=AUTHORITY, as_of=as_of, dpo=DPO, dry_run=False)
    assert {(o.row.local_id, o.row.record_class, o.row.record_id) for o in real.destroyed} == would
    assert all(o.refused is None for o in real.outcomes)
    # The run itself redacted the read models and compacted storage.

    assert _everything(database).count(PURGED.encode()) == 0
    assert HELD.encode() in _everything(database)
    assert all(PURGED not in r.getMessage() for r in caplog.records)

    # Held records are still readable, from the store and the read models.
    held = app.get_worker(AUTHORITY, "SW2").entries["SW2-S1-R"].current()
    assert held["wellbeing"] == f"Wellbeing {HELD}"
    trail = subject_trail(
        engine, authority_code=AUTHORITY, subject_kind="worker", local_id="SW2", first=100
    )
    assert any(HELD in e.summary for e in trail.entries)

    # The purged worker replays; the trail keeps a tombstone for each purged event.
    worker = app.get_worker(AUTHORITY, "SW1")
    assert set(worker.purged) == {
        "personal_supervision:SW1-S1",
        "personal_supervision:SW1-S2",
        "access_log:2012",
    }
    trail = subject_trail(
        engine, authority_code=AUTHORITY, subject_kind="worker", local_id="SW1", first=100
    )
    purges = [e for e in trail.entries if e.kind == "purge"]
    assert sorted(e.summary.split(" on ")[0] for e in purges) == [
        "Access log 2012 purged under RET-ACCESS",
        "Personal supervision record SW1-S1 purged under DUR-4.9",
        "Personal supervision record SW1-S2 purged under DUR-4.9",
    ]
    assert all("authorised by DPO1 (data_protection_officer)" in e.summary for e in purges)
    assert sorted(e.rule_ids or "" for e in purges) == ["DUR-4.9", "DUR-4.9", "RET-ACCESS"]
    tombstones = [e for e in trail.entries if e.kind == "purged"]
    # 8 supervision events, and the read (the log's opening is not on the trail).
    assert len(tombstones) == 9
    assert sorted({e.rule_ids or "" for e in tombstones}) == ["DUR-4.9", "RET-ACCESS"]
    assert all(e.actor_id == "" and "Content purged" in e.summary for e in tombstones)

    # A purged child is gone but for its tombstones, and says so rather than failing.
    with pytest.raises(DomainError) as gone:
        app.get_child(AUTHORITY, "C-OLD")
    assert gone.value.code == "PURGED"
    child_trail = subject_trail(
        engine, authority_code=AUTHORITY, subject_kind="child", local_id="C-OLD", first=100
    )
    assert child_trail.entries[-1].summary.startswith(
        "Child's record C-OLD purged under RET-CIN on "
    )
    assert child_trail.entries[-1].summary.endswith(
        "(due 2015-01-05), authorised by DPO1 (data_protection_officer)"
    )
    assert {e.kind for e in child_trail.entries[:-1]} == {"purged"}
    after = {
        (r.local_id, r.record_class, r.record_id): r
        for r in purge_schedule(engine, authority_code=AUTHORITY, include_purged=True)
    }
    assert after[("C-OLD", "child_record", "C-OLD")].purged_on is not None
    assert after[("C-OLD", "child_record", "C-OLD")].authorised_by == (
        "DPO1 (data_protection_officer)"
    )
    assert "purged" in schedule_csv(list(after.values()), as_of)

    # Replay and rebuilds still work after purges, and give what the live runner has.
    live = {p.name: checksum(engine, p) for p in all_projections()}
    assert _rebuilt_checksums(database, app, engine) == live
    compact(engine)
    assert _everything(database).count(PURGED.encode()) == 0

    # Running again destroys nothing more.
    again = purging.run(authority_code=AUTHORITY, as_of=as_of, dpo=DPO, dry_run=False)
    assert again.destroyed == []


def test_only_the_data_protection_officer_runs_a_purge(
    app: OversightApplication, engine: Engine, tmp_path: Path
) -> None:
    setup_authority(app)
    with pytest.raises(DomainError) as refused:
        Purges(app, engine, Ledger(tmp_path / "ledger.jsonl")).run(
            authority_code=AUTHORITY,
            as_of=date(2026, 1, 1),
            dpo=actor("TM1", Role.TEAM_MANAGER),
            dry_run=True,
        )
    assert refused.value.field == "actor"
