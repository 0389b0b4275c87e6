"""The API under test: the real Starlette app over a migrated store (both backends),
reached through a real GraphQL client (gql over HTTPX's ASGI transport), with tokens
signed by a key made for the test."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2 as httpx
import jwt
import pytest
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from sqlalchemy import Engine
from starlette.applications import Starlette

from application.app import OversightApplication
from domain import commands as c
from domain.policy.packs import PackLibrary
from domain.provenance import Actor
from domain.vocabulary import Role
from graphql_api.app import create_app
from graphql_api.auth import TokenSettings, TokenVerifier, development_keys, mint
from graphql_api.limits import Limits
from graphql_api.service import Service
from oversight.settings import DatabaseSettings
from tests.projections.conftest import catch_up_all

AUTHORITY = "API-LA"
OTHER = "OTHER-LA"
START = date(2025, 6, 2)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture(scope="session")
def token_settings(tmp_path_factory: pytest.TempPathFactory) -> tuple[TokenSettings, Path]:
    directory = tmp_path_factory.mktemp("keys")
    private_key, jwks = development_keys(directory)
    settings = TokenSettings(
        issuer="https://idp.test/", audience="oversight-api", jwks_file=jwks,
        environment="development",
    )  # fmt: skip
    return settings, private_key


@dataclass
class Api:
    app: Starlette
    application: OversightApplication
    engine: Engine
    database: DatabaseSettings
    tokens: TokenSettings
    private_key: Path
    service: Service

    def token(
        self,
        staff_id: str,
        role: Role,
        authority: str = AUTHORITY,
        grants: tuple[str, ...] = (),
        grant_expires_at: datetime | None = None,
    ) -> str:
        return mint(
            self.tokens,
            self.private_key,
            staff_id=staff_id,
            role=role,
            authority=authority,
            grants=grants,
            grant_expires_at=grant_expires_at,
        )

    def with_limits(self, limits: Limits) -> Api:
        """The same service behind an app with other limits."""
        verifier = TokenVerifier(self.tokens)
        app = create_app(self.service, verifier, limits)
        return Api(app, self.application, self.engine, self.database, self.tokens,
                   self.private_key, self.service)  # fmt: skip

    def raw(self, body: Any, token: str | None = None, **headers: str) -> httpx.Response:
        """One HTTP request, for what a GraphQL client would not send."""

        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
                if token:
                    headers["authorization"] = f"Bearer {token}"
                if isinstance(body, (bytes, str)):
                    return await http.post("/graphql", content=body, headers=headers)
                return await http.post("/graphql", json=body, headers=headers)

        return asyncio.run(send())

    def query(
        self, document: str, token: str | None, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Through gql: raises ``TransportQueryError`` when the answer carries errors."""

        async def run() -> dict[str, Any]:
            headers = {"authorization": f"Bearer {token}"} if token else {}
            transport = HTTPXAsyncTransport(
                url="http://api/graphql",
                transport=httpx.ASGITransport(app=self.app),
                headers=headers,
            )
            async with Client(transport=transport) as session:
                request = GraphQLRequest(gql(document), variable_values=variables)
                result: dict[str, Any] = await session.execute(request)
                return result

        return asyncio.run(run())

    def error(
        self, document: str, token: str | None, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The first error of an answer that must fail."""
        with pytest.raises(TransportQueryError) as failed:
            self.query(document, token, variables)
        errors = failed.value.errors or []
        assert errors, failed.value
        first: dict[str, Any] = errors[0]
        return first

    def catch_up(self) -> None:
        catch_up_all(self.database, self.application, self.engine)


def _story(app: OversightApplication) -> None:
    """Two authorities. In API-LA: TM1 manages SW1 (Team A), TM2 manages SW2 (Team B);
    SM1 above both; C1 is allocated to SW1; C2 to SW2."""
    for code in (AUTHORITY, OTHER):
        admin = Actor("ADMIN", Role.ADMINISTRATOR, code)
        app.execute(
            c.RegisterAuthority(
                command_id=f"{code}-reg", actor=admin, occurred_at=at(date(2025, 1, 1)),
                authority_code=code, name=f"{code} Council", policy_pack="DUR",
            )
        )  # fmt: skip
    admin = Actor("ADMIN", Role.ADMINISTRATOR, AUTHORITY)
    staff = [
        ("SM1", "service_manager", "Leadership", None),
        ("TM1", "team_manager", "Team A", "SM1"),
        ("TM2", "team_manager", "Team B", "SM1"),
        ("SW1", "social_worker", "Team A", "TM1"),
        ("SW2", "social_worker", "Team B", "TM2"),
        ("SW3", "social_worker", "Team A", "TM1"),
    ]
    for staff_id, role, team, manager in staff:
        app.execute(
            c.RegisterWorker(
                command_id=f"reg-{staff_id}", actor=admin, occurred_at=at(START),
                staff_id=staff_id, display_name=f"Worker {staff_id}", role=role, team=team,
                line_manager_id=manager, employment_pattern="full_time", fte=Decimal(1),
                engagement="permanent", start_date=START, case_holding=role == "social_worker",
            )
        )  # fmt: skip
    for child, worker, team in (("C1", "SW1", "Team A"), ("C2", "SW2", "Team B")):
        app.execute(
            c.RegisterChild(
                command_id=f"reg-{child}", actor=admin, occurred_at=at(START),
                child_id=child, date_of_birth=date(2015, 5, 1), case_type="cin",
                risk_level="medium", rag="amber",
            )
        )  # fmt: skip
        app.execute(
            c.AllocateWorker(
                command_id=f"alloc-{child}", actor=admin, occurred_at=at(START, 11),
                child_id=child, worker_id=worker, reason="NEW", team=team,
            )
        )  # fmt: skip
    other = Actor("ADMIN", Role.ADMINISTRATOR, OTHER)
    app.execute(
        c.RegisterChild(
            command_id="reg-other-C1", actor=other, occurred_at=at(START), child_id="C1",
            date_of_birth=date(2016, 1, 1), case_type="cp", risk_level="high", rag="red",
        )
    )  # fmt: skip


@pytest.fixture
def api(
    database: DatabaseSettings,
    app: OversightApplication,
    engine: Engine,
    token_settings: tuple[TokenSettings, Path],
) -> Iterator[Api]:
    _story(app)
    tokens, private_key = token_settings
    service = Service(app, engine, PackLibrary.load())
    asgi = create_app(service, TokenVerifier(tokens), Limits(max_depth=8, max_aliases=10))
    built = Api(asgi, app, engine, database, tokens, private_key, service)
    built.catch_up()
    yield built


def forge(claims: dict[str, Any], key: Any, algorithm: str, headers: dict[str, Any]) -> str:
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


def claims(tokens: TokenSettings, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": tokens.issuer, "aud": tokens.audience, "sub": "SW1", "iat": now,
        "exp": now + 600, "role": "practitioner", "authority": AUTHORITY,
    }  # fmt: skip
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


Later = Callable[[int], datetime]


def later(days: int) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


# -- a live server on 127.0.0.1 ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def live_server(database: DatabaseSettings, tmp_path: Path) -> Iterator[str]:
    """``oversight serve`` in development mode on a free loopback port; its URL."""
    port = _free_port()
    env = dict(
        os.environ,
        OVERSIGHT_DATABASE_URL=database.url,
        OVERSIGHT_ENV="development",
        OVERSIGHT_JWKS_FILE=str(tmp_path / ".oversight" / "dev-jwks.json"),
        # The fuzzers send as fast as they can: the rate limit has its own test.
        OVERSIGHT_RATE_LIMIT_PER_SECOND="0",
    )
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "oversight.cli", "serve", "--port", str(port), "--no-projections"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError((tmp_path / "server.log").read_text())
            time.sleep(0.1)
        yield f"{url}/graphql"
    finally:
        server.terminate()
        server.wait(15)
        log.close()


@pytest.fixture
def live_token(live_server: str, tmp_path: Path) -> str:
    """A service manager's token signed with the live server's development key."""
    directory = tmp_path / ".oversight"
    private_key, jwks = development_keys(directory)
    settings = TokenSettings(
        issuer="https://oversight.invalid/dev", audience="oversight-api", jwks_file=jwks,
        environment="development",
    )  # fmt: skip
    return mint(settings, private_key, staff_id="SM1", role=Role.SERVICE_MANAGER,
                authority=AUTHORITY)  # fmt: skip
