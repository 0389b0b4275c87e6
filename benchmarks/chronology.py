"""A chronology of a child with 2,000 events (issue 24 item 6, ADR 0030).

One child on the DUR pack with ``BENCH_CHRONOLOGY_EVENTS`` events (default 2,000: about
four years of triggers, the oversight answering them, management decisions, case
supervisions and corrections), projected into a fresh database: PostgreSQL when
``OVERSIGHT_TEST_POSTGRES_URL`` names a server (``make bench`` starts one, fsync on),
else a temporary SQLite file. Then, ``BENCH_ROUNDS`` times (default 5) in turn:

- reference: reading that child's history (``projections.history.read``: its rows, the
  state folded from them and the events in valid-time order), what ``history show``
  and the API's ``state`` do;
- the export command's own work for each format (JSON, CSV, PDF): the chronology
  assembled (authorised and logged, the trail, the history, the findings) and rendered.

Reports the median seconds of each and its ratio to the reference, and whether each is
under the issue's 2 s; ``BENCH_JSON`` names a file for the figures
(``benchmarks/results/chronology.json`` by default).
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from application.exports.chronology import Request, Sources, chronology
from application.exports.reading import StoreReader
from application.exports.render import Format, chronology_document
from domain import commands as c
from domain.authorization import Principal
from domain.identifiers import child_id
from domain.policy.packs import PackLibrary
from domain.provenance import Actor
from domain.vocabulary import Role
from oversight.projecting import read_engine, runner_for
from oversight.schema import upgrade
from oversight.settings import DatabaseSettings
from oversight.wiring import open_application
from projections import history as history_model
from projections.registry import all_projections

EVENTS = int(os.environ.get("BENCH_CHRONOLOGY_EVENTS", "2000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
LIMIT_SECONDS = 2.0
RESULTS = Path(
    os.environ.get("BENCH_JSON", Path(__file__).resolve().parent / "results" / "chronology.json")
)
LA = "BENCH-CHRON"
START = datetime(2021, 1, 4, 10, tzinfo=UTC)


def _database() -> DatabaseSettings:
    admin = os.environ.get("OVERSIGHT_TEST_POSTGRES_URL")
    if not admin:
        path = Path(tempfile.mkdtemp()) / "chronology.sqlite3"
        return DatabaseSettings.from_url(f"sqlite:///{path}")
    name = f"bench_chronology_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return DatabaseSettings.from_url(admin.rsplit("/", 1)[0] + "/" + name)


def _plan(events: int) -> list[c.Command]:
    admin = Actor("ADMIN", Role.ADMINISTRATOR, LA)
    manager = Actor("TM1", Role.TEAM_MANAGER, LA)

    def common(when: datetime, who: Actor = manager) -> dict[str, Any]:
        return {"command_id": uuid.uuid4().hex, "actor": who, "occurred_at": when}

    plan: list[c.Command] = [
        c.RegisterAuthority(**common(START, admin), authority_code=LA, name="Bench",
                            policy_pack="DUR"),
        *[
            c.RegisterWorker(
                **common(START, admin), staff_id=staff, display_name=staff, role=role,
                team="Team A", line_manager_id=boss, employment_pattern="full_time",
                fte=Decimal(1), weekly_hours=Decimal(37), engagement="permanent",
                start_date=START.date(), case_holding=role == "social_worker",
            )
            for staff, role, boss in (("TM1", "team_manager", None),
                                      ("SW1", "social_worker", "TM1"))
        ],
        c.RegisterChild(**common(START, admin), child_id="C1", date_of_birth=date(2015, 5, 1),
                        case_type="cp", risk_level="high", rag="red"),
        c.AllocateWorker(**common(START + timedelta(hours=1), admin), child_id="C1",
                         worker_id="SW1", reason="NEW", team="Team A"),
    ]  # fmt: skip
    when = START + timedelta(days=1)
    index = 0
    while len(plan) < events:
        index += 1
        day = when + timedelta(days=3 * index)
        plan += [
            c.TriggerOversight(**common(day), child_id="C1", trigger_id=f"T{index}",
                               kind="significant_incident", detail="Police called",
                               incident_dates=[day.date()]),
            c.RecordManagementOversight(
                **common(day + timedelta(hours=2)), child_id="C1", entry_id=f"MO{index}",
                answers_trigger_ids=[f"T{index}"], reason="Incident", current_situation="Safe",
                decision=f"Strategy discussion {index}", rationale="Risk",
                actions=[{"action_id": f"A{index}", "description": "Visit", "owner": "SW1",
                          "due_on": (day + timedelta(days=7)).date()}],
            ),
            c.RecordManagementDecision(**common(day + timedelta(hours=3)), child_id="C1",
                                       entry_id=f"MD{index}", decision=f"Decision {index}",
                                       rationale="Risk", consulted_by="SW1"),
            c.RecordCaseSupervision(
                **common(day + timedelta(hours=4)), child_id="C1", entry_id=f"CS{index}",
                worker_id="SW1", supervisor_id="TM1", current_situation="Stable",
                child_last_seen_on=day.date(), childs_views="Fine", reflection="r",
                analysis="a", decision=f"Continue {index}", rationale="r", actions=[],
                previous_actions_reviewed="Reviewed",
            ),
            c.CorrectEntry(**common(day + timedelta(hours=5)), child_id="C1",
                           entry_id=f"CS{index}", changes={"decision": f"Continued {index}"},
                           reason="Typo"),
        ]  # fmt: skip
    return plan


def _median(work: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    database = _database()
    upgrade(database)
    app = open_application(database)
    engine = read_engine(database)
    try:
        began = time.perf_counter()
        for command in _plan(EVENTS):
            app.execute(command)
        for projection in all_projections():
            runner_for(database, app, projection, engine).catch_up()
        seeded = time.perf_counter() - began
        subject = child_id(LA, "C1")
        count = len(history_model.rows(engine, subject))
        sources = Sources(engine, PackLibrary.load())
        principal = Principal("AUD1", Role.QA_AUDITOR, LA)
        reader = StoreReader(app, principal, "benchmark", engine=engine)
        request = Request(LA, "C1")
        reference = _median(lambda: history_model.read(engine, subject), ROUNDS)
        formats = {}
        for fmt in Format:
            seconds = _median(
                lambda fmt=fmt: chronology_document(chronology(sources, reader, request), fmt),
                ROUNDS,
            )
            formats[fmt.value] = {
                "seconds": round(seconds, 4),
                "ratio_to_history_read": round(seconds / reference, 1),
                "under_2_s": seconds < LIMIT_SECONDS,
            }
        result = {
            "backend": database.url.split(":", 1)[0],
            "events_on_the_child": count,
            "rounds": ROUNDS,
            "seeding_seconds": round(seeded, 1),
            "history_read_seconds": round(reference, 4),
            "chronology": formats,
        }
        print(json.dumps(result, indent=2))
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    finally:
        engine.dispose()
        app.close()


if __name__ == "__main__":
    main()
