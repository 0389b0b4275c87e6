"""Request latency with one database against two routed databases (ADR 0033).

Two authorities, each with a manager, a worker and one child. Arrangement one: both in
one database, served as today (``create_app`` over one service). Arrangement two: each
in its own database, served by one process through the routing table
(``oversight.tenancy``). The same loop in each: ``BENCH_REQUESTS`` reads of a child's
record over the ASGI app (token verified, routed, authorised, the read written to the
child's access log, the answer), alternating the two authorities' managers, after a
warm-up, in ten rounds alternating the arrangements. Reported:
p50 and p95 in milliseconds and requests per second, per arrangement.

SQLite (temporary files) always; PostgreSQL too when ``OVERSIGHT_TEST_POSTGRES_URL`` is
set (``scripts/with-postgres``: two databases of one cluster).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psycopg

from domain.policy.packs import PackLibrary
from domain.vocabulary import Role
from graphql_api.app import create_app
from graphql_api.auth import TokenSettings, TokenVerifier, development_keys, mint
from graphql_api.limits import Limits
from graphql_api.service import Service
from oversight.projecting import read_engine
from oversight.schema import upgrade
from oversight.settings import AuthorityDatabases, DatabaseSettings
from oversight.tenancy import Tenancy
from oversight.wiring import open_application

AUTHORITIES = ("NORTH-LA", "SOUTH-LA")
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "400"))
ROUNDS = 10
CHILD = """query($id: String!) { child(childId: $id, purpose: "bench") { childId } }"""
MUTATION = (
    "mutation($input: {kind}Input!, $key: String!) "
    '{{ {name}(input: $input, idempotencyKey: $key, occurredAt: "2026-03-02T10:00:00Z") '
    "{{ __typename }} }}"
)


class Client:
    def __init__(self, app: Any, tokens: TokenSettings, key: Path) -> None:
        self.app, self.tokens, self.key = app, tokens, key
        self.transport = httpx.ASGITransport(app=app)

    def token(self, authority: str, staff: str, role: Role) -> str:
        return mint(self.tokens, self.key, staff_id=staff, role=role, authority=authority)

    async def post(self, http: httpx.AsyncClient, token: str, query: str, values: Any) -> Any:
        answer = await http.post(
            "/graphql",
            json={"query": query, "variables": values},
            headers={"authorization": f"Bearer {token}"},
        )
        return answer.json()

    async def set_up(self, http: httpx.AsyncClient, authority: str) -> None:
        async def send(staff: str, role: Role, name: str, values: dict[str, Any]) -> None:
            kind = name[0].upper() + name[1:]
            query = MUTATION.format(kind=kind, name=name)
            token = self.token(authority, staff, role)
            answer = await self.post(http, token, query, {"input": values, "key": uuid.uuid4().hex})
            assert answer["data"][name]["__typename"] == "CommandSuccess", answer

        worker = {
            "displayName": "x", "role": "social_worker", "team": "Team N",
            "employmentPattern": "full_time", "fte": "1", "engagement": "permanent",
            "startDate": "2026-01-05", "caseHolding": True, "lineManagerId": None,
        }  # fmt: skip
        await send("ADMIN", Role.ADMINISTRATOR, "registerAuthority",
                   {"authorityCode": authority, "name": "x", "policyPack": "DUR"})  # fmt: skip
        await send("HR1", Role.HR, "registerWorker",
                   {**worker, "staffId": "TMX", "role": "team_manager"})  # fmt: skip
        await send("HR1", Role.HR, "registerWorker", {**worker, "staffId": "SWX"})
        await send("HR1", Role.HR, "changeLineManager", {"staffId": "SWX", "lineManagerId": "TMX"})
        await send("TMX", Role.TEAM_MANAGER, "registerChild",
                   {"childId": "C1", "dateOfBirth": "2016-04-01", "caseType": "cin",
                    "riskLevel": "low"})  # fmt: skip
        allocation = {"childId": "C1", "workerId": "SWX", "reason": "NEW", "team": "Team N"}
        await send("TMX", Role.TEAM_MANAGER, "allocateWorker", allocation)

    async def prepare(self) -> list[str]:
        """Both authorities set up; a manager's token of each."""
        async with httpx.AsyncClient(transport=self.transport, base_url="http://api") as http:
            for authority in AUTHORITIES:
                await self.set_up(http, authority)
        return [self.token(a, "TMX", Role.TEAM_MANAGER) for a in AUTHORITIES]

    async def loop(self, tokens: list[str], count: int) -> list[float]:
        async with httpx.AsyncClient(transport=self.transport, base_url="http://api") as http:
            timings = []
            for number in range(count):
                started = time.perf_counter()
                answer = await self.post(http, tokens[number % 2], CHILD, {"id": "C1"})
                timings.append((time.perf_counter() - started) * 1000)
                assert answer["data"]["child"]["childId"] == "C1", answer
            return timings


def summary(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 2),
        "per_second": round(len(ordered) / (sum(ordered) / 1000), 1),
    }


def one_database(database: DatabaseSettings, tokens: TokenSettings, key: Path) -> Any:
    """Today's arrangement: one service over one database; and what closes it."""
    application = open_application(database)
    engine = read_engine(database)
    service = Service(application, engine, PackLibrary.load())
    app = create_app(service, TokenVerifier(tokens), Limits(rate_per_second=None))

    def close() -> None:
        application.close()
        engine.dispose()

    return Client(app, tokens, key), close


def routed(
    databases: tuple[DatabaseSettings, DatabaseSettings], tokens: TokenSettings, key: Path
) -> Any:
    """Each authority in its own database, one process routing between them."""
    work = Path(tempfile.mkdtemp())
    table = work / "authorities.toml"
    table.write_text(
        "[authorities]\n"
        + "".join(f'{a} = "{d.url}"\n' for a, d in zip(AUTHORITIES, databases, strict=True)),
        encoding="utf-8",
    )
    tenancy = Tenancy.open(AuthorityDatabases.load(table))
    app = create_app(
        tenancy.stacks[0].service,
        TokenVerifier(tokens),
        Limits(rate_per_second=None),
        routing=tenancy,
    )
    return Client(app, tokens, key), tenancy.close


def fresh(backend: str, work: Path) -> DatabaseSettings:
    if backend == "sqlite":
        database = DatabaseSettings.from_url(f"sqlite:///{work / uuid.uuid4().hex}.sqlite3")
    else:
        admin = os.environ["OVERSIGHT_TEST_POSTGRES_URL"]
        name = f"bench_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        database = DatabaseSettings.from_url(f"{admin.rpartition('/')[0]}/{name}")
    upgrade(database)
    return database


def main() -> None:
    work = Path(tempfile.mkdtemp())
    os.environ.setdefault("OVERSIGHT_PURGE_LEDGER", str(work / "ledger.jsonl"))
    key, jwks = development_keys(work / "keys")
    tokens = TokenSettings(
        issuer="https://idp.bench/", audience="oversight-api", jwks_file=jwks,
        environment="development",
    )  # fmt: skip
    backends = ["sqlite"] + (
        ["postgresql"] if os.environ.get("OVERSIGHT_TEST_POSTGRES_URL") else []
    )
    results: dict[str, Any] = {"requests": REQUESTS}
    for backend in backends:
        arrangements = {
            "one_database": one_database(fresh(backend, work), tokens, key),
            "two_routed": routed((fresh(backend, work), fresh(backend, work)), tokens, key),
        }
        timings: dict[str, list[float]] = {name: [] for name in arrangements}
        prepared = {
            name: asyncio.run(client.prepare()) for name, (client, _) in arrangements.items()
        }
        for name, (client, _) in arrangements.items():  # warm: caches, pools, plans
            asyncio.run(client.loop(prepared[name], 20))
        # Ten rounds, alternating the arrangements, so the machine's noise falls on both.
        for _ in range(ROUNDS):
            for name, (client, _) in arrangements.items():
                timings[name] += asyncio.run(client.loop(prepared[name], REQUESTS // ROUNDS))
        results[backend] = {name: summary(each) for name, each in timings.items()}
        for _, close in arrangements.values():
            close()
    json.dump(results, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
