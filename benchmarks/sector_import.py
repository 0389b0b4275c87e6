"""Importing a sector return (issue 21): the SSDA903 sample through ``import_ssda903``,
against a raw COPY of the very rows it stored.

On PostgreSQL (``make bench`` starts one, fsync on) and on SQLite (a temporary file, the
library's durability): an authority is registered, then the return in
``../shared/data/ssda903`` (or ``$OVERSIGHT_SHARED/data/ssda903``) is imported three
times: a first run (every row decided by the domain and written, about 2,000 commands a
transaction), the same files again (every row replays from its receipts), and a dry run
(every row decided, nothing written). The reference, in the same run: the events the
first run stored, copied raw by the driver alone into an empty copy of the events table
(PostgreSQL ``COPY ... FROM STDIN``; SQLite ``executemany`` in one transaction), in
transactions of the same size. Reported: seconds, events per second, and the first
run's rate as a ratio to the reference (issue 21's target: at least 0.2).

The sample is not part of the project (users clone without ``../shared``): where it is
missing the benchmark says so and measures nothing.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from benchmarks.measure import raw_copy_rate
from domain import commands as c
from domain.provenance import Actor
from domain.vocabulary import Role
from oversight.importers.ssda903 import import_ssda903
from oversight.schema import upgrade
from oversight.settings import DatabaseSettings
from oversight.wiring import open_application

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "sector_import.json"
AUTHORITY = "BENCH903"
ACTOR = Actor("IMPORT", Role.IMPORTER, AUTHORITY)


def _sample() -> Path | None:
    shared = Path(os.environ.get("OVERSIGHT_SHARED", ROOT.parent / "shared"))
    directory = shared / "data" / "ssda903"
    return directory if (directory / "episodes.csv").is_file() else None


def _import(database: DatabaseSettings, sample: Path) -> dict[str, Any]:
    upgrade(database)
    app = open_application(database)
    try:
        app.execute(
            c.RegisterAuthority(
                command_id="bench-authority",
                actor=Actor("ADMIN", Role.ADMINISTRATOR, AUTHORITY),
                occurred_at=datetime(2010, 1, 1, tzinfo=UTC),
                authority_code=AUTHORITY,
                name="Bench 903",
                policy_pack="DUR",
            )
        )
        head = app.recorder.max_notification_id() or 0
        figures: dict[str, Any] = {}
        for run, dry_run in (("first", False), ("again", False), ("dry_run", True)):
            started = time.perf_counter()
            report = import_ssda903(
                app, sample, authority=AUTHORITY, actor=ACTOR, risk_level="medium",
                dry_run=dry_run,
            )  # fmt: skip
            seconds = time.perf_counter() - started
            figures[run] = {
                "seconds": seconds,
                "recorded": report.recorded,
                "replayed": report.replayed,
                "rejected": len(report.rejected),
            }
        events = (app.recorder.max_notification_id() or 0) - head
        figures["events"] = events
        figures["first"]["events_per_s"] = events / figures["first"]["seconds"]
        return figures
    finally:
        app.close()


def _rows_per_transaction(figures: dict[str, Any]) -> int:
    # The import writes about 2,000 commands a transaction; its events, a little more.
    commands = max(1, figures["first"]["recorded"])
    return max(1, round(2_000 * figures["events"] / commands))


def _postgres(url: str, sample: Path) -> dict[str, Any]:
    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database = DatabaseSettings.from_url(f"{url.rsplit('/', 1)[0]}/{name}")
    try:
        figures = _import(database, sample)
        per = _rows_per_transaction(figures)
        figures["raw_copy_events_per_s"] = raw_copy_rate(database.url, per)
        return figures
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sqlite(sample: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bench.sqlite3"
        figures = _import(DatabaseSettings.from_url(f"sqlite:///{path}"), sample)
        per = _rows_per_transaction(figures)
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            rows = conn.execute(
                "SELECT originator_id, originator_version, topic, state FROM stored_events "
                "ORDER BY rowid"
            ).fetchall()
            schema = conn.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'stored_events'"
            ).fetchone()[0]
            conn.execute(schema.replace("stored_events", "copy_reference", 1))
            began = time.perf_counter()
            for start in range(0, len(rows), per):
                conn.execute("BEGIN")
                conn.executemany(
                    "INSERT INTO copy_reference (originator_id, originator_version, topic, "
                    "state) VALUES (?, ?, ?, ?)",
                    rows[start : start + per],
                )
                conn.execute("COMMIT")
            seconds = time.perf_counter() - began
        finally:
            conn.close()
        figures["raw_copy_events_per_s"] = len(rows) / seconds
        return figures


def main() -> None:
    sample = _sample()
    if sample is None:
        print("sector_import: ../shared/data/ssda903 is not here: nothing measured")
        return
    results: dict[str, Any] = {"sample": "shared/data/ssda903"}
    results["sqlite"] = _sqlite(sample)
    url = os.environ.get("OVERSIGHT_TEST_POSTGRES_URL")
    if url:
        results["postgresql"] = _postgres(url, sample)
    for store in ("sqlite", "postgresql"):
        figures = results.get(store)
        if figures is None:
            continue
        figures["import_over_raw_copy"] = (
            figures["first"]["events_per_s"] / figures["raw_copy_events_per_s"]
        )
        print(
            f"{store:<11} first {figures['first']['seconds']:6.2f} s  "
            f"again {figures['again']['seconds']:6.2f} s  "
            f"dry run {figures['dry_run']['seconds']:6.2f} s  "
            f"{figures['events']} events: {figures['first']['events_per_s']:8.0f}/s, "
            f"raw {figures['raw_copy_events_per_s']:8.0f}/s, "
            f"import / raw = {figures['import_over_raw_copy']:.3f} (target >= 0.2)"
        )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
