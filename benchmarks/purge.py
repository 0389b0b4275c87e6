"""Purging 100,000 records while the API keeps answering (issue 6, ADR 0012).

On PostgreSQL (``make bench`` starts one, fsync on): an authority on the DUR pack with
``BENCH_PURGE_RECORDS`` children in need only born in 1990 (their records fell due in
2015 under RET-CIN), each with a registration and an oversight trigger whose words
must go, and 200 younger children who are kept. Then, in the same run:

- reference: the raw per-record work a purge cannot avoid, done with psycopg alone:
  for each record, one transaction that rewrites its stored rows and appends one row,
  committed (fsync on);
- the purge run (``application.purge.Purges.run``): each record checked again from the
  event store and destroyed by its own ``PurgeRecord`` command (then the read models'
  catch-up, the compaction and the certificates); its rate in records per second beside
  the reference's;
- throughout the purge, a client in a process of its own (as the API runs beside a
  purge in production) reads through the GraphQL app (a kept child's record, and the
  purge schedule): every request must succeed; its latency during the purge is
  reported beside the same reads before it;
- the projections' catch-up on the purges, and the compaction.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psycopg

from application.certificates import Ledger
from application.purge import Purges
from domain.child import Child
from domain.policy.packs import PackLibrary
from domain.provenance import Actor, Provenance
from domain.vocabulary import Role
from graphql_api.app import create_app
from graphql_api.auth import TokenSettings, TokenVerifier, development_keys, mint
from graphql_api.service import Service
from oversight.projecting import read_engine, runner_for
from oversight.purging import compact
from oversight.schema import upgrade
from oversight.settings import DatabaseSettings
from oversight.wiring import open_application
from projections.registry import all_projections

RESULTS = Path(__file__).resolve().parent / "results" / "purge.json"
RECORDS = int(os.environ.get("BENCH_PURGE_RECORDS", "100000"))
KEPT = 200
AUTHORITY = "BENCH"


def _seed(app: Any) -> None:
    from domain import commands as c

    admin = Actor("ADMIN", Role.ADMINISTRATOR, AUTHORITY)
    app.execute(
        c.RegisterAuthority(
            command_id="bench-authority", actor=admin,
            occurred_at=datetime(2010, 1, 4, 9, tzinfo=UTC), authority_code=AUTHORITY,
            name="Bench Council", policy_pack="DUR",
        )
    )  # fmt: skip
    when = datetime(2012, 6, 1, 10, tzinfo=UTC)
    batch: list[Child] = []
    for n in range(RECORDS + KEPT):
        kept = n >= RECORDS
        provenance = Provenance(when, "ADMIN", "administrator", f"bench-{n}", imported=True)
        child = Child.register(
            provenance=provenance,
            authority_code=AUTHORITY,
            local_child_id=f"K{n:07d}" if kept else f"P{n:07d}",
            date_of_birth=date(2008, 1, 1) if kept else date(1990, 1, 1),
            expected_date_of_birth=None,
            case_type="cin",
            risk_level="low",
        )
        child.trigger_oversight(
            Provenance(when + timedelta(days=3), "TM1", "team_manager", f"bench-t-{n}"),
            trigger_id=f"T{n}",
            kind="drift_or_delay",
            detail=f"Drift on plan for child {n}: school moves, missed visits",
        )
        batch.append(child)
        if len(batch) == 500:
            app.save(*batch)
            batch = []
    if batch:
        app.save(*batch)


def _reference(conninfo: str, samples: int) -> float:
    """Records per second: one transaction per record that rewrites two rows by key and
    appends one, committed; psycopg alone."""
    with psycopg.connect(conninfo) as conn:
        conn.execute("CREATE TABLE bench_ref (id bigint PRIMARY KEY, state bytea)")
        conn.execute("CREATE TABLE bench_ref_log (id bigserial PRIMARY KEY, state bytea)")
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO bench_ref VALUES (%s, %s)",
                [(i, b"x" * 600) for i in range(2 * samples)],
            )
        conn.commit()
        started = time.perf_counter()
        for i in range(samples):
            conn.execute("UPDATE bench_ref SET state = %s WHERE id = %s", (b"t" * 200, 2 * i))
            conn.execute("UPDATE bench_ref SET state = %s WHERE id = %s", (b"t" * 200, 2 * i + 1))
            conn.execute("INSERT INTO bench_ref_log (state) VALUES (%s)", (b"p" * 400,))
            conn.commit()
        rate = samples / (time.perf_counter() - started)
        conn.execute("DROP TABLE bench_ref")
        conn.execute("DROP TABLE bench_ref_log")
        conn.commit()
    return rate


def _read_until(
    url: str, tokens: TokenSettings, token: str, stop: Any, out: Any, warm: Any
) -> None:
    """In a process of its own, as the API runs beside a purge in production: read
    through the GraphQL app until ``stop`` is set; send back latencies and failures."""
    database = DatabaseSettings.from_url(url)
    app = open_application(database)
    engine = read_engine(database)
    asgi = create_app(Service(app, engine, PackLibrary.load()), TokenVerifier(tokens))
    samples: list[float] = []
    failures: list[str] = []

    async def loop() -> None:
        transport = httpx.ASGITransport(app=asgi)
        headers = {"authorization": f"Bearer {token}"}
        child = """query($id: String!) { child(childId: $id, purpose: "benchmark") {
            childId state { attributes { __typename } } } }"""
        schedule = """query { purgeSchedule(first: 50) { entries { localId status } } }"""
        n = 0
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            while not stop.is_set():
                n += 1
                payload = (
                    {"query": schedule}
                    if n % 2
                    else {"query": child, "variables": {"id": f"K{RECORDS + n % KEPT:07d}"}}
                )
                started = time.perf_counter()
                response = await client.post("/graphql", json=payload, headers=headers)
                samples.append(time.perf_counter() - started)
                body = response.json()
                if response.status_code != 200 or body.get("errors"):
                    failures.append(str(body)[:300])
                if n == 20:
                    warm.set()

    asyncio.run(loop())
    out.put((samples, failures))
    app.close()
    engine.dispose()


def _reading(url: str, tokens: TokenSettings, token: str) -> tuple[Any, Any, Any]:
    context = multiprocessing.get_context("spawn")
    stop, warm, out = context.Event(), context.Event(), context.Queue()
    process = context.Process(target=_read_until, args=(url, tokens, token, stop, out, warm))
    process.start()
    warm.wait(120)
    return process, stop, out


def _stop_reading(process: Any, stop: Any, out: Any) -> tuple[list[float], list[str]]:
    stop.set()
    samples, failures = out.get(timeout=120)
    process.join(60)
    return samples, failures


def _latency(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "requests": len(samples),
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[round(0.95 * (len(ordered) - 1))] * 1000,
    }


def main() -> None:
    admin = os.environ.get("OVERSIGHT_TEST_POSTGRES_URL")
    if not admin:
        sys.exit("needs OVERSIGHT_TEST_POSTGRES_URL (make bench starts a server)")
    name = f"bench_purge_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin.rsplit("/", 1)[0] + "/" + name
    database = DatabaseSettings.from_url(url)
    upgrade(database)
    app = open_application(database)
    engine = read_engine(database)
    results: dict[str, Any] = {"records": RECORDS, "kept": KEPT}

    started = time.perf_counter()
    _seed(app)
    results["seed_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    for projection in all_projections():
        runner_for(database, app, projection, engine).catch_up()
    results["projections_before_seconds"] = time.perf_counter() - started

    keys = Path(tempfile.mkdtemp())
    private_key, jwks = development_keys(keys)
    tokens = TokenSettings(
        "https://bench/", "oversight-api", jwks, "development", max_lifetime_seconds=7200
    )  # a benchmark may outlast the default hour
    token = mint(tokens, private_key, staff_id="QA01", role=Role.QA_AUDITOR,
                 authority=AUTHORITY, lifetime_seconds=7200)  # fmt: skip

    reference = _reference(url, min(RECORDS, 5000))
    results["reference_records_per_s"] = reference

    reading = _reading(url, tokens, token)
    time.sleep(10)
    before_samples, before_failures = _stop_reading(*reading)

    reading = _reading(url, tokens, token)
    dpo = Actor("DPO01", Role.DATA_PROTECTION_OFFICER, AUTHORITY)
    started = time.perf_counter()
    # The purge use case: since ADR 0018 the run includes the projections' catch-up, the
    # compaction and the certificates; the catch-up and compaction timed below find
    # nothing left to do.
    ledger = Ledger(Path(tempfile.mkdtemp()) / "purge-ledger.jsonl")
    run = Purges(app, engine, ledger).run(
        authority_code=AUTHORITY, as_of=date.today(), dpo=dpo, dry_run=False
    )
    purge_seconds = time.perf_counter() - started
    during_samples, during_failures = _stop_reading(*reading)
    destroyed = len(run.destroyed)
    if destroyed != RECORDS:
        raise RuntimeError(f"destroyed {destroyed} of {RECORDS}: {run.outcomes[:3]}")

    started = time.perf_counter()
    for projection in all_projections():
        runner_for(database, app, projection, engine).catch_up()
    projections_seconds = time.perf_counter() - started
    started = time.perf_counter()
    compact(database, engine)
    compact_seconds = time.perf_counter() - started

    rate = destroyed / purge_seconds
    results.update(
        destroyed=destroyed,
        purge_seconds=purge_seconds,
        purge_records_per_s=rate,
        purge_ratio_to_reference=rate / reference,
        projections_after_seconds=projections_seconds,
        compact_seconds=compact_seconds,
        reads_before=_latency(before_samples),
        reads_during=_latency(during_samples),
        read_failures_before=len(before_failures),
        read_failures_during=len(during_failures),
        failure_examples=during_failures[:3],
    )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(f"purged {destroyed:,} records in {purge_seconds:,.1f} s = {rate:,.0f} records/s")
    print(
        f"raw per-record transaction (psycopg, fsync on): {reference:,.0f} records/s; "
        f"purge = {rate / reference:.2f} x raw"
    )
    print(
        f"projections caught up on the purges in {projections_seconds:,.1f} s; "
        f"compaction {compact_seconds:,.1f} s"
    )
    for label, samples, failures in (
        ("before the purge", before_samples, before_failures),
        ("during the purge", during_samples, during_failures),
    ):
        figures = _latency(samples)
        print(
            f"API reads {label}: {figures['requests']:,} requests, {len(failures)} failed, "
            f"p50 {figures['p50_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms"
        )
    app.close()
    engine.dispose()


if __name__ == "__main__":
    main()
