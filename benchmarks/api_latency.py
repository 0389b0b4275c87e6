"""GraphQL latency beside the same reads made directly, in the same run (issue 5).

On PostgreSQL (``make bench`` starts one, fsync on): the five demo authorities are
seeded and projected; then, in one process, for each workload the direct call (the
read-model functions the resolver itself calls) and the GraphQL request (through the
ASGI app in process: every middleware, authentication, parsing, validation,
authorization, the access log, serialization; no network) are each timed over the same inputs:

1. a child's point-in-time state and history (``asOf`` and ``knownAt``);
2. an authority's compliance summary.

Reported: requests per second, p50 and p95 in milliseconds, and GraphQL p95 ÷ direct
p95 (target ≤ 1.6, issue 18). Each GraphQL request is handed to the ASGI app as a server
hands it (``measure.asgi_post``); the child's state is also sent by httpx's in-process
client, as until session 15, whose own work (about 0.4 ms a request) the direct path
does not pay. "Direct" runs the same SQL as the request: for a child's record that
includes authorising the read and writing its access-log event (a command, fsync
included), which every such read must do; the bare read is shown beside it.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psycopg

from benchmarks.measure import asgi_post, summary, time_each
from domain.identifiers import child_id
from domain.policy.packs import PackLibrary
from domain.vocabulary import Role
from graphql_api.app import create_app
from graphql_api.auth import TokenSettings, TokenVerifier, development_keys, mint
from graphql_api.service import Service
from oversight.generate import demo
from oversight.projecting import read_engine, runner_for
from oversight.schema import upgrade
from oversight.settings import DatabaseSettings
from oversight.wiring import open_application
from projections import compliance as compliance_model
from projections import history as history_model
from projections.registry import all_projections

RESULTS = Path(__file__).resolve().parent / "results" / "api_latency.json"
REQUESTS = int(os.environ.get("BENCH_API_REQUESTS", "300"))
UNTIL = date(2026, 10, 31)


def main() -> None:
    admin = os.environ.get("OVERSIGHT_TEST_POSTGRES_URL")
    if not admin:
        sys.exit("needs OVERSIGHT_TEST_POSTGRES_URL (make bench starts a server)")
    name = f"bench_api_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database = DatabaseSettings.from_url(admin.rsplit("/", 1)[0] + "/" + name)
    upgrade(database)
    app = open_application(database)
    demo.seed(app, seed=7, until=UNTIL)
    engine = read_engine(database)
    for projection in all_projections():
        runner_for(database, app, projection, engine).catch_up()
    keys = Path(tempfile.mkdtemp())
    private_key, jwks = development_keys(keys)
    tokens = TokenSettings(
        "https://bench/", "oversight-api", jwks, "development", max_lifetime_seconds=7200
    )  # a benchmark may outlast the default hour
    library = PackLibrary.load()
    service = Service(app, engine, library)
    asgi = create_app(service, TokenVerifier(tokens))
    manager = mint(tokens, private_key, staff_id="SM01", role=Role.SERVICE_MANAGER,
                   authority="DEMO", lifetime_seconds=7200)  # fmt: skip
    children = [f"C{n:04d}" for n in range(1, 301)]
    known_at = datetime.now(UTC)
    as_of = datetime.combine(UNTIL - timedelta(days=200), datetime.min.time(), UTC)
    state_query = """query($id: String!, $asOf: DateTime, $knownAt: DateTime) {
      child(childId: $id, purpose: "benchmark") {
        state(asOf: $asOf, knownAt: $knownAt) {
          attributes { __typename } entries { id kind } events { kind position } } } }"""
    summary_query = """query($asOf: Date!) { complianceSummary(asOf: $asOf) {
      byRule { key fellDue onTime late missed dueSoon rate } byTeam { key fellDue rate } } }"""

    async def run_graphql(payloads: list[dict[str, Any]]) -> list[float]:
        """Each request handed to the ASGI app as a server hands it (``asgi_post``)."""
        headers = [
            (b"authorization", f"Bearer {manager}".encode()),
            (b"accept", b"application/graphql-response+json"),
            (b"content-type", b"application/json"),
        ]
        samples = []
        for payload in payloads:
            body = json.dumps(payload).encode()
            started = time.perf_counter()
            status, answer = await asgi_post(asgi, "/graphql", body, headers)
            samples.append(time.perf_counter() - started)
            parsed = json.loads(answer)
            if status != 200 or parsed.get("errors"):
                raise RuntimeError(f"benchmark request failed: {parsed}")
        return samples

    async def run_httpx(payloads: list[dict[str, Any]]) -> list[float]:
        """The same requests sent by httpx's in-process transport (a client's own work
        included, as this benchmark timed them until session 15)."""
        transport = httpx.ASGITransport(app=asgi)
        headers = {
            "authorization": f"Bearer {manager}",
            "accept": "application/graphql-response+json",
        }
        samples = []
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for payload in payloads:
                started = time.perf_counter()
                response = await client.post("/graphql", json=payload, headers=headers)
                samples.append(time.perf_counter() - started)
                body = response.json()
                if response.status_code != 200 or body.get("errors"):
                    raise RuntimeError(f"benchmark request failed: {body}")
        return samples

    picks = [children[i % len(children)] for i in range(REQUESTS)]
    variables = {"asOf": as_of.isoformat(), "knownAt": known_at.isoformat()}
    results: dict[str, Any] = {"requests": REQUESTS}
    # 1. a child's point-in-time state. "Direct" is the same SQL the request runs
    # (authorise, write the access-log event, read the state and history) without
    # GraphQL; the bare read is shown beside it.
    principal = TokenVerifier(tokens).verify(manager)

    def bare_read(c: str) -> Any:
        subject = child_id("DEMO", c)
        return history_model.read(engine, subject, as_of=as_of, known_at=known_at)

    def same_work(c: str) -> Any:
        service.open_child(principal, c, what="child record", purpose="benchmark")
        return bare_read(c)

    bare = time_each([functools.partial(bare_read, c) for c in picks])
    direct_state = time_each([functools.partial(same_work, c) for c in picks])
    state_payloads = [{"query": state_query, "variables": {"id": c, **variables}} for c in picks]
    graphql_state = asyncio.run(run_graphql(state_payloads))
    httpx_state = asyncio.run(run_httpx(state_payloads))
    results["child_state"] = {
        "direct": summary(direct_state),
        "bare_read": summary(bare),
        "graphql": summary(graphql_state),
        "graphql_by_httpx": summary(httpx_state),
    }
    # 2. the authority's compliance summary
    day = UNTIL
    direct_summary = time_each(
        [lambda: compliance_model.summary(engine, library, "DEMO", as_of=day)] * REQUESTS
    )
    graphql_summary = asyncio.run(
        run_graphql([{"query": summary_query, "variables": {"asOf": day.isoformat()}}] * REQUESTS)
    )
    results["compliance_summary"] = {
        "direct": summary(direct_summary),
        "graphql": summary(graphql_summary),
    }
    for workload in ("child_state", "compliance_summary"):
        figures = results[workload]
        figures["graphql_p95_over_direct_p95"] = (
            figures["graphql"]["p95_ms"] / figures["direct"]["p95_ms"]
        )
    results["child_state"]["graphql_by_httpx_p95_over_direct_p95"] = (
        results["child_state"]["graphql_by_httpx"]["p95_ms"]
        / results["child_state"]["direct"]["p95_ms"]
    )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(f"{REQUESTS} requests per workload, PostgreSQL, in process (no network)")
    print(f"{'workload':<22} {'path':<26} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for workload in ("child_state", "compliance_summary"):
        for path, figures in results[workload].items():
            if isinstance(figures, dict):
                print(
                    f"{workload:<22} {path:<26} {figures['requests_per_s']:>8.1f} "
                    f"{figures['p50_ms']:>8.2f} {figures['p95_ms']:>8.2f}"
                )
        ratio = results[workload]["graphql_p95_over_direct_p95"]
        print(f"{workload:<22} GraphQL p95 / direct p95 = {ratio:.2f} (target <= 1.6)")
    by_httpx = results["child_state"]["graphql_by_httpx_p95_over_direct_p95"]
    print(f"{'child_state':<22} by httpx: p95 / direct p95 = {by_httpx:.2f}")
    app.close()
    engine.dispose()


if __name__ == "__main__":
    main()
