"""Recording a case supervision, against a raw insert-and-commit (issue 7, benchmark 1).

On SQLite (a temporary file, WAL, the library's durability) and on PostgreSQL
(``make bench`` starts one, fsync on): an authority with a worker, a supervisor and 100
children allocated to the worker; then ``BENCH_COMMANDS`` case supervisions recorded
through ``OversightApplication.execute``, one command each, round-robin over the
children (each command loads its child, checks the rules, writes its events and its
idempotency receipt in one transaction). The reference, in the same run and process: a
loop of single-row inserts of the same stored payload, each committed, by the driver
alone (psycopg; sqlite3), in ten rounds alternating with the commands. Reported:
commands per second, p50 and p95 in milliseconds, and the throughput as a ratio to the
reference (target on PostgreSQL: at least 0.5).
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from application.app import OversightApplication
from domain import commands as c
from domain.events import CaseSupervisionRecorded
from domain.provenance import Actor
from domain.vocabulary import (
    Role,
)
from oversight.schema import upgrade
from oversight.settings import DatabaseSettings
from oversight.wiring import open_application

RESULTS = Path(__file__).resolve().parent / "results" / "command_latency.json"
COMMANDS = int(os.environ.get("BENCH_COMMANDS", "2000"))
ROUNDS = 10
CHILDREN = 100
AUTHORITY = "BENCH"
START = datetime(2025, 1, 6, 9, tzinfo=UTC)


def _setup(app: OversightApplication) -> None:
    admin = Actor("ADMIN", Role.ADMINISTRATOR, AUTHORITY)

    def run(command: type[c.Command], key: str, **fields: Any) -> None:
        app.execute(command(command_id=key, actor=admin, occurred_at=START, **fields))

    run(c.RegisterAuthority, "authority", authority_code=AUTHORITY, name="Bench", policy_pack="DUR")
    for staff_id, role, manager in (("TM1", "team_manager", None), ("SW1", "social_worker", "TM1")):
        run(
            c.RegisterWorker, f"worker-{staff_id}", staff_id=staff_id,
            display_name=f"Worker {staff_id}", role=role, team="Team A",
            line_manager_id=manager, employment_pattern="full_time", fte=Decimal(1),
            engagement="permanent", start_date=START.date(), case_holding=True,
        )  # fmt: skip
    for n in range(CHILDREN):
        child = f"C{n:03d}"
        run(
            c.RegisterChild, f"child-{child}", child_id=child, date_of_birth=date(2015, 1, 1),
            expected_date_of_birth=None, case_type="cin", risk_level="medium", rag=None,
            name=None,
        )  # fmt: skip
        run(c.AllocateWorker, f"alloc-{child}", child_id=child, worker_id="SW1", reason="NEW",
            team="Team A")  # fmt: skip


def _supervision(n: int) -> c.RecordCaseSupervision:
    when = START + timedelta(days=30, minutes=n)
    return c.RecordCaseSupervision(
        command_id=f"cs-{n}",
        actor=Actor("TM1", Role.SUPERVISOR, AUTHORITY),
        occurred_at=when,
        child_id=f"C{n % CHILDREN:03d}",
        entry_id=f"CS{n}",
        worker_id="SW1",
        supervisor_id="TM1",
        current_situation="Living at home with mother; school attendance improving.",
        child_last_seen_on=when.date(),
        childs_views="Wants more contact with grandmother at weekends.",
        reflection="Worker reflected on the impact of the father's return on the household.",
        analysis="Protective factors strengthening; risk of neglect reducing but present.",
        decision="Continue the plan; review in four weeks.",
        rationale="Progress against the plan is steady and the child's views support it.",
    )


def _timed(app: OversightApplication, numbers: range) -> list[float]:
    samples = []
    for n in numbers:
        command = _supervision(n)
        started = time.perf_counter()
        app.execute(command)
        samples.append(time.perf_counter() - started)
    return samples


def _payload(app: OversightApplication) -> bytes:
    """The stored state of one recorded case supervision: the reference writes the same."""
    stored = app.recorder.select_notifications(start=1, limit=10**6)
    suffix = f".{CaseSupervisionRecorded.__name__}"
    return bytes(next(n.state for n in reversed(stored) if n.topic.endswith(suffix)))


def _reference_postgres(conninfo: str, payload: bytes, count: int) -> list[float]:
    with psycopg.connect(conninfo) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_raw (id bigserial PRIMARY KEY, state bytea)")
        conn.commit()
        samples = []
        for _ in range(count):
            started = time.perf_counter()
            conn.execute("INSERT INTO bench_raw (state) VALUES (%s)", (payload,))
            conn.commit()
            samples.append(time.perf_counter() - started)
    return samples


def _reference_sqlite(path: Path, payload: bytes, count: int) -> list[float]:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE IF NOT EXISTS bench_raw (id INTEGER PRIMARY KEY, state BLOB)")
        samples = []
        for _ in range(count):
            started = time.perf_counter()
            conn.execute("BEGIN")
            conn.execute("INSERT INTO bench_raw (state) VALUES (?)", (payload,))
            conn.execute("COMMIT")
            samples.append(time.perf_counter() - started)
    finally:
        conn.close()
    return samples


def _figures(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "per_s": len(samples) / sum(samples),
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[round(0.95 * (len(ordered) - 1))] * 1000,
    }


def _measure(database: DatabaseSettings, reference: Any) -> dict[str, Any]:
    upgrade(database)
    app = open_application(database)
    try:
        _setup(app)
        # In rounds, commands then as many raw inserts, so that the machine's drift
        # (it is noisy) falls on both alike.
        per_round = COMMANDS // ROUNDS
        timed: list[float] = []
        raw_timed: list[float] = []
        payload: bytes | None = None
        for start in range(0, per_round * ROUNDS, per_round):
            timed += _timed(app, range(start, start + per_round))
            payload = payload or _payload(app)
            raw_timed += reference(payload, per_round)
        commands = _figures(timed)
        raw = _figures(raw_timed)
    finally:
        app.close()
    return {"command": commands, "raw": raw, "ratio": commands["per_s"] / raw["per_s"]}


def main() -> None:
    admin = os.environ.get("OVERSIGHT_TEST_POSTGRES_URL")
    if not admin:
        sys.exit("needs OVERSIGHT_TEST_POSTGRES_URL (make bench starts a server)")
    results: dict[str, Any] = {"commands": COMMANDS}
    with tempfile.TemporaryDirectory() as scratch:
        sqlite_path = Path(scratch) / "bench.sqlite3"
        results["sqlite"] = _measure(
            DatabaseSettings.from_url(f"sqlite:///{sqlite_path}"),
            lambda payload, count: _reference_sqlite(Path(scratch) / "raw.sqlite3", payload, count),
        )
    name = f"bench_cmd_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin.rsplit("/", 1)[0] + "/" + name
    results["postgresql"] = _measure(
        DatabaseSettings.from_url(url),
        lambda payload, count: _reference_postgres(url, payload, count),
    )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(f"{COMMANDS} case supervisions recorded, one command each")
    print(f"{'store':<11} {'path':<28} {'per s':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for store in ("sqlite", "postgresql"):
        for path, label in (("command", "RecordCaseSupervision"), ("raw", "raw insert + commit")):
            f = results[store][path]
            print(
                f"{store:<11} {label:<28} {f['per_s']:>8.0f} {f['p50_ms']:>8.2f} "
                f"{f['p95_ms']:>8.2f}"
            )
        target = " (target >= 0.5)" if store == "postgresql" else ""
        print(f"{store:<11} command / raw = {results[store]['ratio']:.2f}{target}")


if __name__ == "__main__":
    main()
