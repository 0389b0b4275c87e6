"""Where a point-in-time child history request spends its time (issue 18, session 10).

The demo authorities are seeded and projected into a fresh database: PostgreSQL when
``OVERSIGHT_TEST_POSTGRES_URL`` names a server (``scripts/with-postgres`` starts one;
``OVERSIGHT_PG_FSYNC=on`` for production durability), else a temporary SQLite file. Then
``BENCH_ROUNDS`` rounds (default 4) of ``BENCH_API_REQUESTS`` random children and days
(default 150) each time, in turn, every part of the request, so that load on the machine
falls on all of them alike:

- ``bare_read``: ``projections.history.read`` alone (one query of the child's rows);
- ``authorise``: ``Service._open`` (the relationship table: the child's row, its
  managers' chain and the caller's team);
- ``log``: ``Service.log_read`` (the read written on the child's access log, committed);
- ``graphql``: the whole request through the ASGI app in process (no network).

Also counted, per request: statements on the read models' engine, connections checked
out of its pool, and calls into the event store's recorder. Prints p50/p95 per part and
round; ``BENCH_JSON`` names a file for the figures.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psycopg
from sqlalchemy import Engine, create_engine, event, select

from application import access
from application.relationships import subject_relationship
from benchmarks.measure import summary
from domain.access import AccessLog
from domain.authorization import Operation
from domain.identifiers import child_id
from domain.policy.packs import PackLibrary
from domain.vocabulary import Role
from graphql_api.app import create_app
from graphql_api.auth import TokenSettings, TokenVerifier, development_keys, mint
from graphql_api.service import Named, Service, SubjectRelations
from oversight.generate import demo
from oversight.projecting import read_engine, runner_for
from oversight.schema import upgrade
from oversight.settings import DatabaseSettings
from oversight.wiring import open_application
from projections import history as history_model
from projections.registry import all_projections

REQUESTS = int(os.environ.get("BENCH_API_REQUESTS", "150"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "4"))
UNTIL = date(2026, 10, 31)
PARTS = ("bare_read", "authorise", "log", "graphql")


class Before(Service):
    """The request as session 9 left it, for alternating rounds: the subject's row and
    chain, then the caller's team, each on a connection of its own."""

    def _open(self, principal: Any, named: Named) -> SubjectRelations:
        found, purged = self._find(principal.authority_code, named.kind, named.local_id)
        team = self.team_of(principal)
        if found is not None and self._may(principal, Operation.READ, found, team):
            return found
        raise self._hide(principal, named, purged, team)


def _appendable_before(app: Any, subject: Any) -> Any:
    """Session 9's access-log read: its opening, then its last event's version."""
    log_id = AccessLog.create_id(subject.id)
    opening = app.opening_of(log_id)
    if not isinstance(opening, AccessLog):
        return None
    last = next(iter(app.events.get(log_id, desc=True, limit=1)))
    opening.version = last.originator_version
    return opening


def _database() -> DatabaseSettings:
    admin = os.environ.get("OVERSIGHT_TEST_POSTGRES_URL")
    if not admin:
        path = Path(tempfile.mkdtemp()) / "history.sqlite3"
        return DatabaseSettings.from_url(f"sqlite:///{path}")
    name = f"bench_history_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return DatabaseSettings.from_url(admin.rsplit("/", 1)[0] + "/" + name)


@contextmanager
def _counting(engine: Engine, recorder: Any) -> Iterator[Counter[str]]:
    """Statements, pool checkouts and recorder calls made meanwhile."""
    counts: Counter[str] = Counter()

    def statement(*_: Any) -> None:
        counts["read statements"] += 1

    def checkout(*_: Any) -> None:
        counts["read checkouts"] += 1

    names = [
        n
        for n in dir(type(recorder))
        if n.startswith(("select_", "insert_", "max_notification_id"))
        and callable(getattr(recorder, n))
    ]

    def counted(method: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            counts["store calls"] += 1
            return method(*args, **kwargs)

        return call

    for n in names:
        setattr(recorder, n, counted(getattr(recorder, n)))
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine.pool, "checkout", checkout)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine.pool, "checkout", checkout)
        for n in names:
            delattr(recorder, n)


def main() -> None:
    given = os.environ.get("BENCH_DATABASE_URL")
    authority = os.environ.get("BENCH_AUTHORITY", "DEMO")
    started = time.perf_counter()
    if given:  # already generated and projected (``oversight demo generate``)
        database = DatabaseSettings.from_url(given)
        app = open_application(database)
        engine = read_engine(database)
    else:
        database = _database()
        upgrade(database)
        app = open_application(database)
        demo.seed(app, seed=7, until=UNTIL)
        engine = read_engine(database)
        for projection in all_projections():
            runner_for(database, app, projection, engine).catch_up()
    events = app.recorder.max_notification_id()
    with engine.connect() as conn:
        children = sorted(
            str(row[0])
            for row in conn.execute(
                select(subject_relationship.c.local_id).where(
                    subject_relationship.c.authority_code == authority,
                    subject_relationship.c.subject_kind == "child",
                    subject_relationship.c.purged.is_(False),
                )
            )
        )
    print(f"{database.backend}: {events} events, {len(children)} children of {authority}, "
          f"ready in {time.perf_counter() - started:.0f} s")  # fmt: skip
    keys = Path(tempfile.mkdtemp())
    private_key, jwks = development_keys(keys)
    tokens = TokenSettings(
        "https://bench/", "oversight-api", jwks, "development", max_lifetime_seconds=7200
    )
    library = PackLibrary.load()
    # Session 9's read engine pinged every connection it lent (``pool_pre_ping``).
    engine_before = (
        create_engine(engine.url, pool_pre_ping=True, pool_size=5, max_overflow=5,
                      connect_args={"options": "-c timezone=UTC"})
        if database.backend == "postgresql"
        else engine
    )  # fmt: skip
    verifier = TokenVerifier(tokens)
    variants = {
        "before": (Before(app, engine_before, library), engine_before, _appendable_before),
        "after": (Service(app, engine, library), engine, access._appendable),
    }
    asgis = {name: create_app(v[0], verifier) for name, v in variants.items()}
    token = mint(tokens, private_key, staff_id="SM01", role=Role.SERVICE_MANAGER,
                 authority=authority, lifetime_seconds=7200)  # fmt: skip
    principal = verifier.verify(token)
    query = """query($id: String!, $asOf: DateTime, $knownAt: DateTime) {
      child(childId: $id, purpose: "benchmark") {
        state(asOf: $asOf, knownAt: $knownAt) {
          attributes { __typename } entries { id kind } events { kind position } } } }"""
    rng = random.Random(18)
    last = UNTIL if not given else date.fromisoformat(os.environ.get("BENCH_UNTIL", "2026-11-01"))
    first = last - timedelta(days=700)

    def pick() -> tuple[str, datetime]:
        day = first + timedelta(days=rng.randrange(700))
        return rng.choice(children), datetime.combine(day, clock_time(), UTC)

    known_at = datetime.now(UTC)

    async def graphql(asgi: Any, picks: list[tuple[str, datetime]]) -> list[float]:
        transport = httpx.ASGITransport(app=asgi)
        headers = {"authorization": f"Bearer {token}",
                   "accept": "application/graphql-response+json"}  # fmt: skip
        samples = []
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for local, as_of in picks:
                variables = {"id": local, "asOf": as_of.isoformat(),
                             "knownAt": known_at.isoformat()}  # fmt: skip
                payload = {"query": query, "variables": variables}
                began = time.perf_counter()
                response = await client.post("/graphql", json=payload, headers=headers)
                samples.append(time.perf_counter() - began)
                body = response.json()
                if response.status_code != 200 or body.get("errors"):
                    raise RuntimeError(f"benchmark request failed: {body}")
        return samples

    def timed(
        call: Callable[[str, datetime], None], picks: list[tuple[str, datetime]]
    ) -> list[float]:
        samples = []
        for local, as_of in picks:
            began = time.perf_counter()
            call(local, as_of)
            samples.append(time.perf_counter() - began)
        return samples

    def parts(name: str) -> dict[str, Callable[[list[tuple[str, datetime]]], list[float]]]:
        service, read_engine_, _ = variants[name]

        def bare(local: str, as_of: datetime) -> None:
            history_model.read(
                read_engine_, child_id(authority, local), as_of=as_of, known_at=known_at
            )

        def authorise(local: str, _: datetime) -> None:
            service._open(principal, Named("child", local, "child_id"))

        def log(local: str, _: datetime) -> None:
            service.log_read(principal, child_id=local, what="child record", purpose="benchmark")

        return {
            "bare_read": lambda picks: timed(bare, picks),
            "authorise": lambda picks: timed(authorise, picks),
            "log": lambda picks: timed(log, picks),
            "graphql": lambda picks: asyncio.run(graphql(asgis[name], picks)),
        }

    def using(name: str) -> None:
        access._appendable = variants[name][2]

    # Round trips of one request of each part (after warming up).
    work: dict[str, dict[str, dict[str, int]]] = {}
    warm = [pick() for _ in range(20)]
    for name in variants:
        using(name)
        work[name] = {}
        for part, run in parts(name).items():
            run(warm)
            with _counting(variants[name][1], app.recorder) as counts:
                run(warm[:1])
            work[name][part] = dict(counts)
    print("work per request:", json.dumps(work))
    rounds: list[dict[str, dict[str, dict[str, float]]]] = []
    for round_ in range(ROUNDS):
        picks = [pick() for _ in range(REQUESTS)]
        figures: dict[str, dict[str, dict[str, float]]] = {}
        order = list(variants) if round_ % 2 == 0 else list(reversed(variants))
        for name in order:
            using(name)
            figures[name] = {part: summary(run(picks)) for part, run in parts(name).items()}
            print(f"round {round_ + 1} {name:<6}: " + "  ".join(
                f"{p} {figures[name][p]['p50_ms']:.2f}/{figures[name][p]['p95_ms']:.2f}"
                for p in PARTS))  # fmt: skip
        rounds.append(figures)
    result = {"backend": database.backend, "events": events, "requests": REQUESTS,
              "work": work, "rounds": rounds}  # fmt: skip
    if os.environ.get("BENCH_JSON"):
        Path(os.environ["BENCH_JSON"]).write_text(json.dumps(result, indent=2))
    using("after")
    engine_before.dispose()
    app.close()
    engine.dispose()


if __name__ == "__main__":
    main()
