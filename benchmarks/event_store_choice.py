"""ADR 0002's measurement: which event-store adapter, and which psycopg implementation.

For each candidate, append N single-event transactions (1 KiB payload, as a recorded case
supervision is) and read back one aggregate's 200 events M times. The references are
measured in the same run on the same database: a raw driver insert-and-commit loop with
the same rows, and a raw SELECT of the same rows. Figures are ratios to those references,
because this machine is noisy. Run with ``make bench`` (it starts its own PostgreSQL).

Each candidate runs in its own process, so that PSYCOPG_IMPL=python takes effect.
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

RESULTS = Path(__file__).resolve().parent / "results" / "event_store_choice.json"
N_WRITES = int(os.environ.get("BENCH_WRITES", "1500"))
N_READS = int(os.environ.get("BENCH_READS", "300"))
PAYLOAD = b"x" * 1024
CANDIDATES = ("core", "sqlalchemy")


def _env(backend: str, adapter: str, where: str) -> dict[str, str]:
    if adapter == "core" and backend == "sqlite":
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": where,
            "CREATE_TABLE": "true",
        }
    if adapter == "core":
        url = psycopg.conninfo.conninfo_to_dict(where)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": str(url["dbname"]),
            "POSTGRES_HOST": str(url["host"]),
            "POSTGRES_PORT": str(url.get("port", 5432)),
            "POSTGRES_USER": str(url["user"]),
            "POSTGRES_PASSWORD": str(url.get("password", "")),
            "CREATE_TABLE": "true",
        }
    sa_url = (
        f"sqlite:///{where}"
        if backend == "sqlite"
        else where.replace("postgresql://", "postgresql+psycopg://")
    )
    return {
        "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
        "SQLALCHEMY_URL": sa_url,
        "CREATE_TABLE": "true",
    }


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": 1000 * statistics.median(ordered),
        "p95_ms": 1000 * ordered[int(0.95 * (len(ordered) - 1))],
        "per_s": len(ordered) / sum(ordered),
    }


def run_candidate(backend: str, adapter: str, where: str) -> dict[str, Any]:
    """Runs inside a child process: time the library's recorder."""
    from eventsourcing.persistence import InfrastructureFactory, StoredEvent
    from eventsourcing.utils import Environment

    factory = InfrastructureFactory.construct(Environment("bench", _env(backend, adapter, where)))
    recorder = factory.application_recorder()
    writes: list[float] = []
    for _ in range(N_WRITES):
        event = StoredEvent(uuid.uuid4(), 1, "bench.Event", PAYLOAD)
        started = time.perf_counter()
        recorder.insert_events([event])
        writes.append(time.perf_counter() - started)
    aggregate = uuid.uuid4()
    recorder.insert_events(
        [StoredEvent(aggregate, v, "bench.Event", PAYLOAD) for v in range(1, 201)]
    )
    reads: list[float] = []
    for _ in range(N_READS):
        started = time.perf_counter()
        assert len(recorder.select_events(aggregate)) == 200
        reads.append(time.perf_counter() - started)
    factory.close()
    import psycopg.pq

    return {
        "write": _percentiles(writes),
        "read": _percentiles(reads),
        "psycopg_impl": psycopg.pq.__impl__,
    }


def raw_reference(backend: str, where: str) -> dict[str, Any]:
    """Raw driver: the same rows, one insert-and-commit each; the same 200-row read."""
    writes: list[float] = []
    reads: list[float] = []
    if backend == "sqlite":
        conn = sqlite3.connect(where, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(
            "CREATE TABLE raw (originator_id TEXT, originator_version INTEGER, "
            "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))"
        )
        for _ in range(N_WRITES):
            started = time.perf_counter()
            conn.execute("BEGIN")
            conn.execute(
                "INSERT INTO raw VALUES (?, ?, ?, ?)", (uuid.uuid4().hex, 1, "bench.Event", PAYLOAD)
            )
            conn.execute("COMMIT")
            writes.append(time.perf_counter() - started)
        aggregate = uuid.uuid4().hex
        conn.executemany(
            "INSERT INTO raw VALUES (?, ?, ?, ?)",
            [(aggregate, v, "bench.Event", PAYLOAD) for v in range(1, 201)],
        )
        for _ in range(N_READS):
            started = time.perf_counter()
            rows = conn.execute(
                "SELECT * FROM raw WHERE originator_id = ? ORDER BY originator_version",
                (aggregate,),
            ).fetchall()
            assert len(rows) == 200
            reads.append(time.perf_counter() - started)
        conn.close()
    else:
        with psycopg.connect(where, autocommit=False) as conn:
            conn.execute(
                "CREATE TABLE raw (originator_id uuid, originator_version bigint, "
                "topic text, state bytea, notification_id bigserial, "
                "PRIMARY KEY (originator_id, originator_version))"
            )
            conn.commit()
            for _ in range(N_WRITES):
                started = time.perf_counter()
                conn.execute(
                    "INSERT INTO raw (originator_id, originator_version, topic, state) "
                    "VALUES (%s, %s, %s, %s)",
                    (uuid.uuid4(), 1, "bench.Event", PAYLOAD),
                )
                conn.commit()
                writes.append(time.perf_counter() - started)
            aggregate = uuid.uuid4()
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO raw (originator_id, originator_version, topic, "
                    "state) VALUES (%s, %s, %s, %s)",
                    [(aggregate, v, "bench.Event", PAYLOAD) for v in range(1, 201)],
                )
            conn.commit()
            for _ in range(N_READS):
                started = time.perf_counter()
                rows = conn.execute(
                    "SELECT * FROM raw WHERE originator_id = %s ORDER BY originator_version",
                    (aggregate,),
                ).fetchall()
                conn.commit()
                assert len(rows) == 200
                reads.append(time.perf_counter() - started)
    return {"write": _percentiles(writes), "read": _percentiles(reads)}


def _fresh_postgres(admin: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.rsplit("/", 1)[0] + "/" + name


def _child(backend: str, adapter: str, where: str, impl: str) -> dict[str, Any]:
    env = dict(os.environ, PSYCOPG_IMPL=impl)
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.event_store_choice", "--child", backend, adapter, where],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    admin = os.environ.get("OVERSIGHT_TEST_POSTGRES_URL")
    if not admin:
        sys.exit("needs OVERSIGHT_TEST_POSTGRES_URL (make bench starts a server)")
    results: dict[str, Any] = {"writes": N_WRITES, "reads": N_READS, "payload_bytes": len(PAYLOAD)}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite/raw sqlite3"] = raw_reference("sqlite", f"{tmp}/raw.sqlite3")
        for adapter in CANDIDATES:
            results[f"sqlite/{adapter}"] = _child(
                "sqlite", adapter, f"{tmp}/{adapter}.sqlite3", "binary"
            )
    results["postgres/raw psycopg"] = raw_reference("postgres", _fresh_postgres(admin))
    for adapter in CANDIDATES:
        for impl in ("binary", "python"):
            results[f"postgres/{adapter} ({impl})"] = _child(
                "postgres", adapter, _fresh_postgres(admin), impl
            )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(
        f"{'candidate':<30} {'writes/s':>9} {'x raw':>6} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'read p50':>8} {'x raw':>6}"
    )
    for name, figures in results.items():
        if not isinstance(figures, dict):
            continue
        raw = results["sqlite/raw sqlite3" if name.startswith("sqlite") else "postgres/raw psycopg"]
        w, r = figures["write"], figures["read"]
        print(
            f"{name:<30} {w['per_s']:>9.0f} {w['per_s'] / raw['write']['per_s']:>6.2f} "
            f"{w['p50_ms']:>7.2f} {w['p95_ms']:>7.2f} {r['p50_ms']:>8.2f} "
            f"{raw['read']['p50_ms'] / r['p50_ms']:>6.2f}"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(run_candidate(sys.argv[2], sys.argv[3], sys.argv[4])))
    else:
        main()
