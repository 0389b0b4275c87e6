"""Audit-trail rebuild rate against the raw notification-log read rate (issue 3, ADR 0006).

On PostgreSQL (``make bench`` starts one, fsync on): seed the demo authority through the
application, then grow the log to ``BENCH_EVENTS`` events by cloning the demo stream under
fresh aggregate ids (the same event shapes and sizes, new subjects), inserted through the
library's recorder. Then, in the same run:

- raw read: ``select_notifications`` over the whole log in pages of 500 (no decoding);
- rebuild: ``Runner.rebuild()`` of the audit trail into a new generation, and of the
  subject history, each timed separately.

Target (issue 3): rebuild rate at least 0.25 x the raw read rate.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.persistence import StoredEvent

from benchmarks.measure import raw_read
from oversight.generate import demo
from oversight.projecting import read_engine, runner_for
from oversight.schema import upgrade
from oversight.settings import DatabaseSettings
from oversight.wiring import open_application
from projections.registry import all_projections

RESULTS = Path(__file__).resolve().parent / "results" / "projection_rebuild.json"
TARGET_EVENTS = int(os.environ.get("BENCH_EVENTS", "1000000"))


def _fresh_database(admin: str) -> DatabaseSettings:
    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return DatabaseSettings.from_url(admin.rsplit("/", 1)[0] + "/" + name)


def _grow(app: Any, target: int) -> None:
    """Clone the demo stream under new aggregate ids until the log holds ``target``."""
    recorder = app.recorder
    base = recorder.select_notifications(start=1, limit=10**7)
    copy = 0
    while (recorder.max_notification_id() or 0) < target:
        copy += 1
        batch: list[StoredEvent] = []
        for n in base:
            batch.append(
                StoredEvent(
                    uuid.uuid5(n.originator_id, f"clone-{copy}"),
                    n.originator_version,
                    n.topic,
                    n.state,
                )
            )
            if len(batch) == 5000:
                recorder.insert_events(batch)
                batch = []
        if batch:
            recorder.insert_events(batch)


def main() -> None:
    admin = os.environ.get("OVERSIGHT_TEST_POSTGRES_URL")
    if not admin:
        sys.exit("needs OVERSIGHT_TEST_POSTGRES_URL (make bench starts a server)")
    database = _fresh_database(admin)
    upgrade(database)
    app = open_application(database)
    seeded = time.perf_counter()
    report = demo.seed(app, seed=7, until=date(2026, 10, 31))
    seed_seconds = time.perf_counter() - seeded
    demo_events = app.recorder.max_notification_id() or 0
    _grow(app, TARGET_EVENTS)
    engine = read_engine(database)
    results: dict[str, Any] = {
        "demo_commands": report.executed,
        "demo_events": demo_events,
        "demo_seed_commands_per_s": report.executed / seed_seconds,
    }
    events, raw_rate = raw_read(app)
    results.update(events=events, raw_read_events_per_s=raw_rate)
    for projection in all_projections():
        runner = runner_for(database, app, projection, engine)
        started = time.perf_counter()
        applied = runner.rebuild()
        rate = applied / (time.perf_counter() - started)
        results[f"{projection.name}_rebuild_events_per_s"] = rate
        results[f"{projection.name}_ratio_to_raw_read"] = rate / raw_rate
    _, raw_again = raw_read(app)  # the reference again, after: noise check
    results["raw_read_events_per_s_after"] = raw_again
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(f"events in the log: {events:,} (demo authority {demo_events:,}, rest cloned)")
    print(f"raw notification-log read: {raw_rate:,.0f} events/s (again after: {raw_again:,.0f})")
    for projection in all_projections():
        rate = results[f"{projection.name}_rebuild_events_per_s"]
        print(
            f"{projection.name} rebuild: {rate:,.0f} events/s = "
            f"{rate / raw_rate:.2f} x raw read (target >= 0.25)"
        )
    app.close()
    engine.dispose()


if __name__ == "__main__":
    main()
