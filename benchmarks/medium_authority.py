"""The medium generated authority, end to end (issue 7, benchmarks 2 to 6).

On PostgreSQL (``make bench`` starts one, fsync on), in one run:

2. **Bulk import.** ``oversight demo generate --scale medium`` as a library call: the
   commands are generated first (timed apart: a real import reads them from files), then
   ``execute_batch`` decides each by the domain's rules and writes them in batches. The
   reference is a raw COPY of the very rows it stored, into a copy of the events table
   with the same indexes, in transactions of the same size, by psycopg alone.
3. **All projections together**, caught up from empty, one process per projection
   started at once (as production runs them, ADR 0014), against the raw
   notification-log read rate; beside it, one process catching each up in turn, and
   two floors: decoding every event once, and a raw COPY of the rows the projections
   hold.
4. **A child's point-in-time state** (``asOf`` and ``knownAt``) through the GraphQL app
   in process (server time, no network), with the bare read-model call beside it.
5. **The authority's compliance summary**, the same way.
6. **Peak memory** (VmHWM) of the projection process, and of the API served by
   ``oversight serve`` (uvicorn, a real socket) after it has answered the same requests.

Results go to ``benchmarks/results/medium_authority.json`` and a short table.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psycopg
from sqlalchemy import MetaData

from benchmarks.measure import raw_copy_rate, raw_read, summary, time_each
from domain.identifiers import child_id
from domain.policy.packs import PackLibrary
from domain.vocabulary import Role
from graphql_api.app import create_app
from graphql_api.auth import TokenSettings, TokenVerifier, development_keys, mint
from graphql_api.service import Service
from oversight.generate import DEFAULT_UNTIL, SCALES, AuthorityGenerator
from oversight.projecting import read_engine, runner_for
from oversight.schema import upgrade
from oversight.settings import DatabaseSettings
from oversight.wiring import open_application
from projections import compliance as compliance_model
from projections import history as history_model
from projections.engine import active_generation
from projections.registry import all_projections

SCALE = os.environ.get("BENCH_SCALE", "medium")
#: medium_authority.json, or medium_x2_authority.json for ``BENCH_SCALE=medium-x2``.
RESULTS = Path(__file__).resolve().parent / "results" / f"{SCALE.replace('-', '_')}_authority.json"
REQUESTS = int(os.environ.get("BENCH_API_REQUESTS", "300"))
AUTHORITY = "GEN-MEDIUM" if SCALE == "medium" else f"GEN-{SCALE.upper()}"
ISSUER, AUDIENCE = "https://bench.invalid/", "oversight-api"


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


# -- 2. bulk import ----------------------------------------------------------------------


def bulk_import(database: DatabaseSettings) -> dict[str, Any]:
    app = open_application(database)
    generator = AuthorityGenerator(
        SCALES[SCALE], seed=1, until=DEFAULT_UNTIL, authority_code=AUTHORITY
    )
    started = time.perf_counter()
    commands = list(generator.commands())
    generation = time.perf_counter() - started

    # Time the store's share of the import apart: the same call, timed.
    recorder = app.recorder
    store_seconds = 0.0
    transactions = 0
    original = recorder.insert_batch

    def timed_insert(*args: Any, **kwargs: Any) -> Any:
        nonlocal store_seconds, transactions
        began = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            store_seconds += time.perf_counter() - began
            transactions += 1

    recorder.insert_batch = timed_insert  # type: ignore[method-assign]
    started = time.perf_counter()
    report = app.execute_batch(commands, batch_size=2_000)
    elapsed = time.perf_counter() - started
    # A floor: the library's mapper encoding each event for the store (what every event
    # written pays after its rules), timed on the first 100,000 events stored, decoded.
    sample_events = [
        app.mapper.to_domain_event(notification)
        for notification in app.recorder.select_notifications(start=1, limit=100_000)
    ]
    began = time.perf_counter()
    for event in sample_events:
        app.mapper.to_stored_event(event)
    encode_rate = len(sample_events) / (time.perf_counter() - began)
    del sample_events
    app.close()
    # A floor: the one piece of Python every command pays before any rule runs, its
    # fingerprint (the idempotency receipt's), on a sample of 100,000.
    sample = commands[:100_000]
    began = time.perf_counter()
    for command in sample:
        command.fingerprint()
    fingerprint_rate = len(sample) / (time.perf_counter() - began)
    del commands, sample
    import_rate = report.events / elapsed

    # The reference: the same rows, COPY'd raw in transactions of the same size.
    with psycopg.connect(database.url) as conn:
        stored = conn.execute("SELECT count(*) FROM oversight_events").fetchone()
    per_transaction = max(1, int(stored[0] if stored else 0) // max(1, transactions))
    copy_rate = raw_copy_rate(database.url, per_transaction)
    return {
        "scale": SCALE,
        "children": generator.children,
        "workers": len(generator.staff),
        "commands": report.executed,
        "refused": len(report.refused),
        "events": report.events,
        "transactions": transactions,
        "command_generation_s": generation,
        "import_s": elapsed,
        "import_store_s": store_seconds,
        "import_events_per_s": import_rate,
        "raw_copy_events_per_s": copy_rate,
        "import_over_raw_copy": import_rate / copy_rate,
        "store_share_events_per_s": report.events / store_seconds,
        "store_share_over_raw_copy": report.events / store_seconds / copy_rate,
        "fingerprints_per_s": fingerprint_rate,
        # As events: each command's fingerprint spread over the events it writes.
        "fingerprint_only_over_raw_copy": (
            fingerprint_rate * report.events / report.executed / copy_rate
        ),
        "python_per_command_us": (elapsed - store_seconds) / report.executed * 1e6,
        "encodes_per_s": encode_rate,
        # What the import cannot skip with no rule at all: the store's share, encoding
        # each event, fingerprinting each command (per event, one after another).
        "floor_without_rules_over_raw_copy": (
            1
            / (
                store_seconds / report.events
                + 1 / encode_rate
                + report.executed / report.events / fingerprint_rate
            )
            / copy_rate
        ),
    }


# -- 3. the projections ---------------------------------------------------------------


def project(url: str, names: list[str]) -> None:
    """(Run as a child process.) Catch ``names`` up from empty, one after another, as
    ``oversight projections run --once --name ...`` does; print timings as JSON."""
    database = DatabaseSettings.from_url(url)
    app = open_application(database)
    engine = read_engine(database)
    figures: dict[str, Any] = {"started": time.time()}
    for projection in all_projections():
        if projection.name not in names:
            continue
        runner = runner_for(database, app, projection, engine)
        began = time.perf_counter()
        applied = runner.catch_up()
        figures[projection.name] = {"events": applied, "seconds": time.perf_counter() - began}
    figures["finished"] = time.time()
    figures["peak_rss_mib"] = _peak_rss_mib(os.getpid())
    print(json.dumps(figures))
    app.close()
    engine.dispose()


def floors(url: str) -> dict[str, Any]:
    """What any projection of this log must at least do, each as a rate against the raw
    read: decode every event once (the library's mapper), and write the rows the
    projections hold (raw COPY, by psycopg alone, into empty copies of their tables
    with the same indexes)."""
    database = DatabaseSettings.from_url(url)
    app = open_application(database)
    count, decode_rate = raw_read(app, decoding=True)
    app.close()
    tables: list[str] = []
    engine = read_engine(database)
    with engine.connect() as conn:
        for projection in all_projections():
            generation, _ = active_generation(conn, projection.name)
            tables += [t.name for t in projection.define_tables(MetaData(), generation).values()]
    engine.dispose()
    rows, seconds = 0, 0.0
    with psycopg.connect(url, autocommit=True) as conn:
        for table in tables:
            copy = f"{table}__copy"
            conn.execute(f'CREATE TABLE "{copy}" (LIKE "{table}" INCLUDING ALL)')
            buffer = bytearray()
            with conn.cursor().copy(f'COPY "{table}" TO STDOUT (FORMAT BINARY)') as out:
                for chunk in out:
                    buffer += chunk
            began = time.perf_counter()
            with (
                conn.transaction(),
                conn.cursor().copy(f'COPY "{copy}" FROM STDIN (FORMAT BINARY)') as into,
            ):
                into.write(bytes(buffer))
            seconds += time.perf_counter() - began
            rows += conn.execute(f'SELECT count(*) FROM "{copy}"').fetchone()[0]  # type: ignore[index]
            conn.execute(f'DROP TABLE "{copy}"')
    return {
        "decode_events_per_s": decode_rate,
        "read_model_rows": rows,
        "read_model_raw_copy_s": seconds,
        "read_model_raw_copy_events_per_s": count / seconds,
    }


def _run_projectors(url: str, groups: list[list[str]]) -> tuple[float, list[dict[str, Any]]]:
    """Start one process per group at once; wall seconds until the last is done."""
    began = time.perf_counter()
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "benchmarks.medium_authority", "project", url, *group],
            stdout=subprocess.PIPE,
            text=True,
        )
        for group in groups
    ]
    outputs = [child.communicate()[0] for child in children]
    wall = time.perf_counter() - began
    if any(child.returncode for child in children):
        raise RuntimeError("a projection process failed")
    return wall, [json.loads(out.strip().splitlines()[-1]) for out in outputs]


def projections(database: DatabaseSettings, events: int) -> dict[str, Any]:
    """All projections caught up from empty, together: one process per projection,
    started at once (the production topology, ADR 0014), on a copy of the store; and,
    for comparison with earlier runs, one process catching up each in turn."""
    names = [p.name for p in all_projections()]
    app = open_application(database)
    raw_read(app)  # the first read after the import comes from disk: warm up first
    raw_before = raw_read(app)[1]
    app.close()
    copy = f"{database.dbname}_together"
    admin = database.url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{database.dbname}"')
    together_url = database.url.rsplit("/", 1)[0] + "/" + copy
    wall, each = _run_projectors(together_url, [[n] for n in names])
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{copy}" WITH (FORCE)')
    sequence_wall, (in_turn,) = _run_projectors(database.url, [names])
    app = open_application(database)
    raw_after = raw_read(app)[1]
    app.close()
    raw = (raw_before + raw_after) / 2
    figures: dict[str, Any] = {
        "raw_read_events_per_s": raw_before,
        "raw_read_events_per_s_after": raw_after,
        "together_seconds": wall,
        "together_events_per_s": events / wall,
        "together_over_raw_read": events / wall / raw,
        "together_peak_rss_mib": {n: e["peak_rss_mib"] for n, e in zip(names, each, strict=True)},
        "in_turn_seconds": sequence_wall,
        "in_turn_events_per_s": events / sequence_wall,
        "in_turn_over_raw_read": events / sequence_wall / raw,
        "peak_rss_mib": in_turn["peak_rss_mib"],
    }
    for name, alone in zip(names, each, strict=True):
        item = in_turn[name]
        figures[name] = {
            "events": item["events"],
            "seconds_in_turn": item["seconds"],
            "over_raw_read_in_turn": item["events"] / item["seconds"] / raw,
            "seconds_together": alone[name]["seconds"],
        }
    figures["floors"] = f = floors(database.url)
    f["decode_over_raw_read"] = f["decode_events_per_s"] / raw
    f["read_model_raw_copy_over_raw_read"] = f["read_model_raw_copy_events_per_s"] / raw
    return figures


# -- 4 and 5: reads, in process; 6: the API's memory, served --------------------------------


def reads(database: DatabaseSettings, keys: Path) -> dict[str, Any]:
    app = open_application(database)
    engine = read_engine(database)
    private_key, jwks = development_keys(keys)
    # To mint; served: production. A benchmark may outlast the default hour.
    tokens = TokenSettings(ISSUER, AUDIENCE, jwks, "development", max_lifetime_seconds=7200)
    library = PackLibrary.load()
    service = Service(app, engine, library)
    asgi = create_app(service, TokenVerifier(tokens))
    manager = mint(tokens, private_key, staff_id="SM01", role=Role.SERVICE_MANAGER,
                   authority=AUTHORITY, lifetime_seconds=7200)  # fmt: skip
    with engine.connect() as conn:
        children = [
            row[0]
            for row in conn.exec_driver_sql(
                "SELECT local_id FROM compliance_subject WHERE authority_code = %(a)s "
                "AND subject_kind = 'child' ORDER BY local_id",
                {"a": AUTHORITY},
            )
        ]
    rng = random.Random(1)
    start = DEFAULT_UNTIL - timedelta(days=365 * SCALES[SCALE].years)
    picks = [rng.choice(children) for _ in range(REQUESTS)]
    now = datetime.now(UTC)
    moments = [
        (
            datetime.combine(
                start + timedelta(days=rng.randint(200, 1800)), datetime.min.time(), UTC
            ),
            now - timedelta(minutes=rng.randint(0, 30)),
        )
        for _ in range(REQUESTS)
    ]
    state_query = """query($id: String!, $asOf: DateTime, $knownAt: DateTime) {
      child(childId: $id, purpose: "benchmark") {
        state(asOf: $asOf, knownAt: $knownAt) {
          attributes { __typename } entries { id kind } events { kind position } } } }"""
    summary_query = """query($asOf: Date!) { complianceSummary(asOf: $asOf) {
      byRule { key fellDue onTime late missed dueSoon rate } byTeam { key fellDue rate } } }"""
    state_payloads = [
        {
            "query": state_query,
            "variables": {"id": c, "asOf": a.isoformat(), "knownAt": k.isoformat()},
        }
        for c, (a, k) in zip(picks, moments, strict=True)
    ]
    summary_payloads = [
        {"query": summary_query, "variables": {"asOf": DEFAULT_UNTIL.isoformat()}}
    ] * min(REQUESTS, 100)

    async def run(payloads: list[dict[str, Any]], client: Any) -> list[float]:
        headers = {
            "authorization": f"Bearer {manager}",
            "accept": "application/graphql-response+json",
        }
        samples = []
        for payload in payloads:
            began = time.perf_counter()
            response = await client.post("/graphql", json=payload, headers=headers)
            samples.append(time.perf_counter() - began)
            body = response.json()
            if response.status_code != 200 or body.get("errors"):
                raise RuntimeError(f"benchmark request failed: {body}")
        return samples

    async def in_process(payloads: list[dict[str, Any]]) -> list[float]:
        transport = httpx.ASGITransport(app=asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            return await run(payloads, client)

    def bare(c: str, a: datetime, k: datetime) -> Any:
        subject = child_id(AUTHORITY, c)
        return history_model.read(engine, subject, as_of=a, known_at=k)

    results: dict[str, Any] = {"children": len(children)}
    # The first read of each child (its rows not yet in PostgreSQL's buffers),
    # as a user moving between cases meets it: other children than the picks below,
    # after a few requests to start the pools.
    # Chosen afresh in every run (unseeded): a child read by an earlier run is no
    # longer a first read.
    picked = set(picks)
    fresh = [c for c in children if c not in picked]
    random.Random().shuffle(fresh)
    first_reads = [
        {
            "query": state_query,
            "variables": {"id": c, "asOf": a.isoformat(), "knownAt": k.isoformat()},
        }
        for c, (a, k) in zip(fresh[: REQUESTS + 5], moments * 2, strict=False)
    ]
    asyncio.run(in_process(first_reads[:5]))
    results["child_state_graphql_first_read"] = summary(asyncio.run(in_process(first_reads[5:])))
    results["child_state_bare_read"] = summary(
        time_each([lambda c=c, m=m: bare(c, *m) for c, m in zip(picks, moments, strict=True)])
    )
    results["child_state_graphql"] = summary(asyncio.run(in_process(state_payloads)))
    results["compliance_summary_direct"] = summary(
        time_each(
            [lambda: compliance_model.summary(engine, library, AUTHORITY, as_of=DEFAULT_UNTIL)]
            * len(summary_payloads)
        )
    )
    results["compliance_summary_graphql"] = summary(asyncio.run(in_process(summary_payloads)))
    app.close()
    engine.dispose()

    # 6. The API as deployed: `oversight serve`, the same requests over a socket.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(
        os.environ,
        OVERSIGHT_DATABASE_URL=database.url,
        OVERSIGHT_ENV="production",
        OVERSIGHT_JWKS_FILE=str(jwks),
        OVERSIGHT_JWT_ISSUER=ISSUER,
        OVERSIGHT_JWT_AUDIENCE=AUDIENCE,
        OVERSIGHT_JWT_MAX_LIFETIME_SECONDS="7200",
        # Measured as fast as it answers; the rate limit is not what this figure is of.
        OVERSIGHT_RATE_LIMIT_PER_SECOND="0",
    )
    oversight = str(Path(sys.executable).with_name("oversight"))
    server = subprocess.Popen(
        [oversight, "serve", "--no-projections", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)

        async def served(payloads: list[dict[str, Any]]) -> list[float]:
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                return await run(payloads, client)

        results["child_state_served"] = summary(asyncio.run(served(state_payloads)))
        results["compliance_summary_served"] = summary(asyncio.run(served(summary_payloads)))
        results["api_peak_rss_mib"] = _peak_rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results


def main() -> None:
    if len(sys.argv) >= 4 and sys.argv[1] == "project":
        project(sys.argv[2], sys.argv[3:])
        return
    admin = os.environ.get("OVERSIGHT_TEST_POSTGRES_URL")
    if not admin:
        sys.exit("needs OVERSIGHT_TEST_POSTGRES_URL (make bench starts a server)")
    name = f"bench_medium_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database = DatabaseSettings.from_url(admin.rsplit("/", 1)[0] + "/" + name)
    upgrade(database)
    results: dict[str, Any] = {"date": date.today().isoformat()}
    results["import"] = figures = bulk_import(database)
    print(
        f"2. bulk import, {SCALE} authority: {figures['events']:,} events "
        f"({figures['commands']:,} commands, {figures['children']:,} children, "
        f"{figures['workers']} workers, {figures['refused']} refused) in "
        f"{figures['import_s']:.1f}s = {figures['import_events_per_s']:,.0f} events/s; raw "
        f"COPY of the same rows {figures['raw_copy_events_per_s']:,.0f}/s; "
        f"import / COPY = {figures['import_over_raw_copy']:.3f} (target >= 0.2); the "
        f"store's share alone {figures['store_share_over_raw_copy']:.2f} x COPY; deciding "
        f"{figures['python_per_command_us']:.0f} us a command, of which fingerprinting alone "
        f"would run at {figures['fingerprint_only_over_raw_copy']:.2f} x COPY; the store's "
        f"share, encoding and fingerprints with no rule at all "
        f"{figures['floor_without_rules_over_raw_copy']:.2f} x COPY; commands "
        f"generated beforehand in {figures['command_generation_s']:.1f}s"
    )
    results["projections"] = p = projections(database, figures["events"])
    f = p["floors"]
    print(
        f"3. all projections from empty, together (a process each): "
        f"{p['together_events_per_s']:,.0f} events/s = {p['together_over_raw_read']:.3f} x "
        f"raw read ({p['raw_read_events_per_s']:,.0f}/s, "
        f"{p['raw_read_events_per_s_after']:,.0f}/s after; target >= 0.2); in turn, one "
        f"process: {p['in_turn_over_raw_read']:.3f} x ("
        + ", ".join(
            f"{x.name} {p[x.name]['over_raw_read_in_turn']:.2f} x" for x in all_projections()
        )
        + f"). Floors: decoding each event once {f['decode_over_raw_read']:.2f} x; raw "
        f"COPY of the {f['read_model_rows']:,} read-model rows "
        f"{f['read_model_raw_copy_over_raw_read']:.2f} x"
    )
    with tempfile.TemporaryDirectory() as keys:
        results["reads"] = r = reads(database, Path(keys))
    for label, key in (
        ("4. child state as of / known at, GraphQL in process", "child_state_graphql"),
        ("   the first read of each child", "child_state_graphql_first_read"),
        ("   the bare read-model call", "child_state_bare_read"),
        ("   served (oversight serve, loopback HTTP)", "child_state_served"),
        ("5. compliance summary, GraphQL in process", "compliance_summary_graphql"),
        ("   direct", "compliance_summary_direct"),
        ("   served", "compliance_summary_served"),
    ):
        item = r[key]
        print(f"{label:<55} p50 {item['p50_ms']:7.2f} ms  p95 {item['p95_ms']:7.2f} ms")
    print(
        f"6. peak memory: projection process {p['peak_rss_mib']:.0f} MiB, "
        f"API process {r['api_peak_rss_mib']:.0f} MiB"
    )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
