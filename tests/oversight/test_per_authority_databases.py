"""Per-authority databases (ADR 0014 step 1, ADR 0033): one API process and one runner
process over several databases, each authority routed to its own by
``OVERSIGHT_AUTHORITY_DATABASES``; nothing read or written crosses them.

On PostgreSQL the two databases are in two real clusters (the suite's, and one started
here the way ``scripts/with-postgres`` starts one); on SQLite, two files.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psycopg
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import generate_latest
from sqlalchemy import Engine, func, select, text
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from application import certificates as certs
from domain.vocabulary import Role
from graphql_api.app import create_app, metrics_registry
from graphql_api.auth import TokenSettings, TokenVerifier, development_keys, mint
from graphql_api.limits import Limits
from oversight.cli import main
from oversight.eventstore import POSTGRES_EVENTS_TABLE
from oversight.projecting import read_engine
from oversight.schema import upgrade
from oversight.settings import (
    AUTHORITY_DATABASES_VARIABLE,
    AuthorityDatabases,
    DatabaseSettings,
    Settings,
    SettingsError,
    UnroutedAuthority,
    redact_url,
)
from oversight.tenancy import Tenancy, routed_collector, routed_readiness
from projections.compliance import view
from tests.application.test_purge import AS_OF, _seed, _sentinel, _tables, assert_present
from tests.graphql_api.test_every_mutation import PROBLEMS
from tests.helpers import opened, setup_authority
from tests.pgcluster import new_cluster, remove

NORTH, SOUTH, WEST = "NORTH-LA", "SOUTH-LA", "WEST-LA"
PASSWORD = "s3cret-not-shown"  # trust authentication ignores it; status must not show it
DAY = "2026-03-02"


# -- the routing table -------------------------------------------------------------------------


def _table(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "authorities.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_the_routing_table_routes_each_authority_and_groups_shared_databases(
    tmp_path: Path,
) -> None:
    path = _table(
        tmp_path,
        "# which database holds which authority\n"
        "[authorities]\n"
        f'{NORTH} = "sqlite:///{tmp_path}/north.sqlite3"\n'
        f'{SOUTH} = "sqlite:///{tmp_path}/south.sqlite3"\n'
        f'"EAST-LA" = "sqlite:///{tmp_path}/north.sqlite3"\n',
    )
    routing = AuthorityDatabases.load(path)
    assert routing.database_of(NORTH).sqlite_path == f"{tmp_path}/north.sqlite3"
    assert [(d.database.sqlite_path, d.authorities) for d in routing.databases()] == [
        (f"{tmp_path}/north.sqlite3", (NORTH, "EAST-LA")),
        (f"{tmp_path}/south.sqlite3", (SOUTH,)),
    ]
    with pytest.raises(UnroutedAuthority, match=f"{WEST}.*{path}"):
        routing.database_of(WEST)
    env = {AUTHORITY_DATABASES_VARIABLE: str(path)}
    settings = Settings.from_env(env, authority=SOUTH)
    assert settings.routing == routing
    assert settings.database.sqlite_path == f"{tmp_path}/south.sqlite3"
    # Without an authority, the process's own store, as before the table existed.
    assert Settings.from_env(env).database.sqlite_path == "oversight.sqlite3"
    # And without the setting, exactly today's settings.
    assert Settings.from_env({}) == Settings(
        DatabaseSettings.from_url("sqlite:///oversight.sqlite3")
    )


@pytest.mark.parametrize(
    ("body", "line", "field", "reason"),
    [
        ("[authorities]\nNORTH-LA = 'mysql://x/y'\n", 2, "authorities.NORTH-LA", "scheme"),
        ("[authorities]\n\nnorth = 'sqlite:///n.sqlite3'\n", 3, "authorities.north", "code"),
        ("[authorities]\nNORTH-LA = 5\n", 2, "authorities.NORTH-LA", "database URL"),
        ("[authorities]\nNORTH-LA = 'postgresql://h'\n", 2, "authorities.NORTH-LA", "database"),
        ("[authorities]\nNORTH-LA = 'sqlite:///:memory:'\n", 2, "authorities.NORTH-LA", "file"),
        ("# none\n[authorities]\n", 2, "authorities", "at least one"),
        ("x = 1\n[authorities]\nA1 = 'sqlite:///a'\n", 1, "x", "unknown"),
        ("[routes]\nA1 = 'sqlite:///a'\n", 1, "routes", "unknown"),
        (
            "[authorities]\nA1 = 'sqlite:///a'\nB1 = 'postgresql://h/db'\n",
            1,
            "authorities",
            "same backend",
        ),
    ],
)
def test_a_malformed_routing_table_names_the_file_the_line_and_the_field(
    tmp_path: Path, body: str, line: int, field: str, reason: str
) -> None:
    path = _table(tmp_path, body)
    with pytest.raises(SettingsError) as refused:
        AuthorityDatabases.load(path)
    message = str(refused.value)
    assert message.startswith(f"{path}, line {line}, {field}: "), message
    assert reason in message, message


def test_unreadable_or_unparsable_routing_is_a_startup_error_naming_the_file(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "missing.toml"
    with pytest.raises(SettingsError, match=f"{AUTHORITY_DATABASES_VARIABLE}: .*{missing}"):
        Settings.from_env({AUTHORITY_DATABASES_VARIABLE: str(missing)})
    broken = _table(tmp_path, "[authorities]\nNORTH-LA = 'unclosed\n")
    with pytest.raises(SettingsError, match=rf"{broken}, line 2: not TOML"):
        AuthorityDatabases.load(broken)
    twice = _table(tmp_path, "[authorities]\nA1 = 'sqlite:///a'\n\nA1 = 'sqlite:///b'\n")
    with pytest.raises(SettingsError, match=rf"{twice}, line 4: not TOML"):
        AuthorityDatabases.load(twice)
    # A standby for reads is one database's: not with a routing table.
    good = _table(tmp_path, "[authorities]\nA1 = 'postgresql://h/a'\n")
    with pytest.raises(SettingsError, match="OVERSIGHT_READ_DATABASE_URL"):
        Settings.from_env(
            {
                AUTHORITY_DATABASES_VARIABLE: str(good),
                "OVERSIGHT_DATABASE_URL": "postgresql://h/a",
                "OVERSIGHT_READ_DATABASE_URL": "postgresql://standby/a",
            }
        )
    # The CLI says so, and nothing runs (exit 1: failed), naming file, line and field.
    bad = _table(tmp_path, "[authorities]\nNORTH-LA = 'mysql://x/y'\n")
    result = CliRunner().invoke(
        main, ["db", "upgrade"], env={AUTHORITY_DATABASES_VARIABLE: str(bad)}
    )
    assert result.exit_code == 1
    assert f"{bad}, line 2, authorities.NORTH-LA" in result.output


@given(
    user=st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True),
    password=st.from_regex(r"[A-Za-z0-9!$&()*+,;=._~-]{1,24}", fullmatch=True),
)
def test_a_shown_url_never_carries_its_password(user: str, password: str) -> None:
    url = f"postgresql://{user}:{password}@db.example:5432/oversight"
    shown = redact_url(url)
    assert shown == f"postgresql://{user}:***@db.example:5432/oversight"
    assert DatabaseSettings.from_url(url).redacted() == shown


@pytest.fixture(scope="module")
def token_settings(tmp_path_factory: pytest.TempPathFactory) -> tuple[TokenSettings, Path]:
    private_key, jwks = development_keys(tmp_path_factory.mktemp("keys"))
    tokens = TokenSettings(
        issuer="https://idp.test/", audience="oversight-api", jwks_file=jwks,
        environment="development",
    )  # fmt: skip
    return tokens, private_key


# -- two databases -----------------------------------------------------------------------------


@dataclass
class Stores:
    north: DatabaseSettings
    south: DatabaseSettings
    routing: Path

    def env(self, **extra: str) -> dict[str, str]:
        return {AUTHORITY_DATABASES_VARIABLE: str(self.routing), **extra}


def _with_password(url: str) -> str:
    """The URL with a password (trust authentication accepts any)."""
    scheme, _, rest = url.partition("://")
    user, _, host = rest.partition("@")
    return f"{scheme}://{user}:{PASSWORD}@{host}"


@pytest.fixture
def stores(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Stores]:
    """NORTH-LA's database and SOUTH-LA's: two SQLite files, or on PostgreSQL two
    databases in two clusters (the suite's, and a second one of this test's own)."""
    north: DatabaseSettings = request.getfixturevalue("database")
    if backend == "sqlite":
        south: DatabaseSettings = request.getfixturevalue("other_database")
        urls = (north.url, south.url)
        yield Stores(north, south, _routing(tmp_path, *urls))
        return
    cluster = new_cluster()
    try:
        with psycopg.connect(cluster.url, autocommit=True) as conn:
            conn.execute('CREATE DATABASE "oversight"')
        south = DatabaseSettings.from_url(cluster.url.rpartition("/")[0] + "/oversight")
        upgrade(south)
        urls = (_with_password(north.url), _with_password(south.url))
        yield Stores(north, south, _routing(tmp_path, *urls))
    finally:
        remove(cluster)


def _routing(tmp_path: Path, north: str, south: str) -> Path:
    return _table(tmp_path, f'[authorities]\n{NORTH} = "{north}"\n{SOUTH} = "{south}"\n')


def _events(database: DatabaseSettings) -> int:
    """Rows in the database's event table."""
    table = "stored_events" if database.backend == "sqlite" else POSTGRES_EVENTS_TABLE
    engine = read_engine(database)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def _authorities_projected(database: DatabaseSettings) -> set[str]:
    subject = view("compliance_subject")
    engine = read_engine(database)
    try:
        with engine.connect() as conn:
            codes = conn.execute(select(subject.c.authority_code).distinct()).scalars()
            return set(codes)
    finally:
        engine.dispose()


def _cli(stores: Stores, *args: str, **env: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=stores.env(**env))
    return result.exit_code, result.output


class Caller:
    """GraphQL over HTTP to the ASGI app, as one principal of one authority."""

    def __init__(self, app: Any, tokens: TokenSettings, key: Path, authority: str) -> None:
        self.app, self.tokens, self.key, self.authority = app, tokens, key, authority

    def token(self, staff: str, role: Role) -> str:
        return mint(self.tokens, self.key, staff_id=staff, role=role, authority=self.authority)

    def post(self, staff: str, role: Role, document: str, variables: dict[str, Any]) -> Any:
        token = self.token(staff, role)

        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
                return await http.post(
                    "/graphql",
                    json={"query": document, "variables": variables},
                    headers={"authorization": f"Bearer {token}"},
                )

        return asyncio.run(send())

    def send(self, staff: str, role: Role, mutation: str, key: str, values: Any) -> None:
        kind = mutation[0].upper() + mutation[1:]
        document = (
            f"mutation($input: {kind}Input!, $key: String!, $at: DateTime) "
            f"{{ {mutation}(input: $input, idempotencyKey: $key, occurredAt: $at) "
            f"{{ {PROBLEMS} }} }}"
        )
        answer = self.post(
            staff, role, document, {"input": values, "key": key, "at": f"{DAY}T10:00:00Z"}
        ).json()
        assert answer["data"][mutation]["__typename"] == "CommandSuccess", answer

    def set_up(self, child: str) -> None:
        """An authority, a manager and a worker, and one child allocated to the worker."""
        self.send("ADMIN", Role.ADMINISTRATOR, "registerAuthority", "a",
                  {"authorityCode": self.authority, "name": "x", "policyPack": "DUR"})  # fmt: skip
        worker = {
            "displayName": "x", "role": "social_worker", "team": "Team N",
            "employmentPattern": "full_time", "fte": "1", "engagement": "permanent",
            "startDate": "2026-01-05", "caseHolding": True, "lineManagerId": None,
        }  # fmt: skip
        self.send("HR1", Role.HR, "registerWorker", "w1",
                  {**worker, "staffId": "TMX", "role": "team_manager"})  # fmt: skip
        self.send("HR1", Role.HR, "registerWorker", "w2", {**worker, "staffId": "SWX"})
        self.send("HR1", Role.HR, "changeLineManager", "lm",
                  {"staffId": "SWX", "lineManagerId": "TMX"})  # fmt: skip
        self.send("TMX", Role.TEAM_MANAGER, "registerChild", "c1",
                  {"childId": child, "dateOfBirth": "2016-04-01", "caseType": "cin",
                   "riskLevel": "low"})  # fmt: skip
        allocation = {"childId": child, "workerId": "SWX", "reason": "NEW", "team": "Team N"}
        self.send("TMX", Role.TEAM_MANAGER, "allocateWorker", "al", allocation)


CHILD = """query($id: String!) { child(childId: $id, purpose: "tenancy check") { childId } }"""


def test_one_api_routes_every_caller_to_their_authoritys_database_only(
    stores: Stores, token_settings: tuple[TokenSettings, Path]
) -> None:
    tokens, key = token_settings
    tenancy = Tenancy.open(AuthorityDatabases.load(stores.routing))
    try:
        # One stack per database, shared by nothing else, made once.
        assert len(tenancy.stacks) == 2
        assert tenancy.service_for(NORTH) is tenancy.service_for(NORTH)
        assert tenancy.service_for(NORTH) is not tenancy.service_for(SOUTH)
        assert tenancy.service_for(WEST) is None
        app = create_app(
            tenancy.stacks[0].service, TokenVerifier(tokens), Limits(), routing=tenancy
        )
        north, south = (Caller(app, tokens, key, code) for code in (NORTH, SOUTH))
        assert _events(stores.north) == 0 and _events(stores.south) == 0

        # NORTH-LA's commands land in its database, none in SOUTH-LA's.
        north.set_up("CN1")
        north_events = _events(stores.north)
        assert north_events > 0 and _events(stores.south) == 0
        south.set_up("CS1")
        south_events = _events(stores.south)
        assert south_events > 0 and _events(stores.north) == north_events

        # SOUTH-LA's manager asks for NORTH-LA's child: not found, and nothing logged in
        # either database (no access log opened in SOUTH-LA's about it).
        refused = south.post("TMX", Role.TEAM_MANAGER, CHILD, {"id": "CN1"}).json()
        assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND", refused
        assert _events(stores.south) == south_events
        assert _events(stores.north) == north_events
        # NORTH-LA's own manager reads it, and the read is logged in NORTH-LA's only.
        found = north.post("TMX", Role.TEAM_MANAGER, CHILD, {"id": "CN1"}).json()
        assert found["data"]["child"]["childId"] == "CN1", found
        assert _events(stores.north) > north_events
        assert _events(stores.south) == south_events

        # A token of an authority no database here holds: refused before GraphQL.
        west = Caller(app, tokens, key, WEST).post("TMX", Role.TEAM_MANAGER, CHILD, {"id": "CN1"})
        assert west.status_code == 403
        extensions = west.json()["errors"][0]["extensions"]
        assert (extensions["code"], extensions["rule"]) == ("FORBIDDEN", "TENANCY")
    finally:
        tenancy.close()

    # One runner process catches up both databases; each computes its own authority.
    code, output = _cli(stores, "projections", "run", "--once")
    assert code == 0, output
    assert _authorities_projected(stores.north) == {NORTH}
    assert _authorities_projected(stores.south) == {SOUTH}
    # The CLI reads each authority's compliance from its database, and only there.
    for authority, child, other in ((NORTH, "CN1", "CS1"), (SOUTH, "CS1", "CN1")):
        shown = ("compliance", "show", "--authority", authority, "--format", "json")
        code, output = _cli(stores, *shown, "--child", child, "--as-of", DAY)
        assert code == 0, output
        code, output = _cli(stores, *shown, "--child", other, "--as-of", DAY)
        assert code == 3, output

    # `projections status` shows each database, with its authorities, no password.
    code, output = _cli(stores, "projections", "status", "--format", "json")
    assert code == 0, output
    rows = json.loads(output)
    assert {(r["database"], tuple(r["authorities"])) for r in rows} == {
        (stores.north.redacted() if stores.north.backend == "sqlite" else _shown(stores, 0),
         (NORTH,)),
        (stores.south.redacted() if stores.south.backend == "sqlite" else _shown(stores, 1),
         (SOUTH,)),
    }  # fmt: skip
    assert all(r["lag_events"] == 0 for r in rows), rows
    code, table = _cli(stores, "projections", "status")
    assert code == 0 and f"({NORTH})" in table and f"({SOUTH})" in table, table
    assert PASSWORD not in output + table


def _shown(stores: Stores, index: int) -> str:
    routed = AuthorityDatabases.load(stores.routing).databases()[index]
    assert PASSWORD in routed.database.url
    return routed.database.redacted()


def test_the_cli_uses_the_authoritys_database_and_refuses_one_not_routed(
    stores: Stores,
) -> None:
    # `db upgrade` migrates every routed database.
    code, output = _cli(stores, "db", "upgrade")
    assert code == 0, output
    assert f"({NORTH})" in output and f"({SOUTH})" in output and PASSWORD not in output
    # An authority not in the table: not found (exit 3), named, and nothing opened.
    code, output = _cli(stores, "compliance", "show", "--authority", WEST, "--child", "C1")
    assert code == 3, output
    assert WEST in output and str(stores.routing) in output
    code, output = _cli(stores, "retention", "schedule", "--authority", WEST)
    assert code == 3 and WEST in output, output
    code, output = _cli(stores, "authority", "register", WEST, "--name", "W", "--pack", "DUR")
    assert code == 3 and WEST in output, output
    assert _events(stores.north) == 0 and _events(stores.south) == 0
    # Registering an authority writes to its own database only.
    code, output = _cli(stores, "authority", "register", SOUTH, "--name", "S", "--pack", "DUR")
    assert code == 0, output
    assert _events(stores.south) > 0 and _events(stores.north) == 0


def test_a_purge_in_one_authoritys_database_touches_nothing_in_the_other(
    stores: Stores, tmp_path: Path
) -> None:
    sentinels = {NORTH: _sentinel(), SOUTH: _sentinel()}
    for database, authority in ((stores.north, NORTH), (stores.south, SOUTH)):
        with opened(database) as app:
            setup_authority(app, authority)
            _seed(app, authority, "SW1", sentinels[authority])
    code, output = _cli(stores, "projections", "run", "--once")
    assert code == 0, output
    south_events = _events(stores.south)
    ledger = tmp_path / "ledger.jsonl"
    code, output = _cli(
        stores, "retention", "purge", "--authority", NORTH, "--as-of", AS_OF.isoformat(),
        "--authorised-by", "DPO1", OVERSIGHT_PURGE_LEDGER=str(ledger),
    )  # fmt: skip
    assert code == 0, output
    assert f"destroyed: {NORTH} worker SW1 personal_supervision" in output
    assert SOUTH not in output
    north_engine, south_engine = read_engine(stores.north), read_engine(stores.south)
    try:
        assert sentinels[NORTH] not in _tables(north_engine)
        assert len(certs.certificates(north_engine)) == 1
        # SOUTH-LA's record, due on the same day, is all there: events, read models, files.
        assert_present(sentinels[SOUTH], stores.south, south_engine)
        assert certs.certificates(south_engine) == []
        assert _events(stores.south) == south_events
        with south_engine.connect() as conn:
            subject = view("compliance_subject")
            assert conn.execute(select(func.count()).select_from(subject)).scalar_one() > 0
    finally:
        north_engine.dispose()
        south_engine.dispose()


def test_a_purge_of_every_authority_purges_each_routed_database_in_its_own(
    stores: Stores, tmp_path: Path
) -> None:
    """``retention purge`` without --authority (a scheduled run) purges every routed
    database, each authority's records in its own database, so none is left past its
    retention because it is not in OVERSIGHT_DATABASE_URL."""
    sentinels = {NORTH: _sentinel(), SOUTH: _sentinel()}
    for database, authority in ((stores.north, NORTH), (stores.south, SOUTH)):
        with opened(database) as app:
            setup_authority(app, authority)
            _seed(app, authority, "SW1", sentinels[authority])
    code, output = _cli(stores, "projections", "run", "--once")
    assert code == 0, output
    code, output = _cli(
        stores, "retention", "purge", "--as-of", AS_OF.isoformat(), "--authorised-by", "DPO1",
        OVERSIGHT_PURGE_LEDGER=str(tmp_path / "ledger.jsonl"),
    )  # fmt: skip
    assert code == 0, output
    for authority in (NORTH, SOUTH):
        assert f"destroyed: {authority} worker SW1 personal_supervision" in output
    for database in (stores.north, stores.south):
        engine = read_engine(database)
        try:
            assert not any(sentinel in _tables(engine) for sentinel in sentinels.values())
            found = certs.certificates(engine)
            assert len(found) == 1, found  # its own authority's record, certified there
        finally:
            engine.dispose()


def test_the_stacks_are_made_once_and_reused_by_every_request(
    stores: Stores, token_settings: tuple[TokenSettings, Path]
) -> None:
    """Engines and applications are the stacks', made at start: requests reuse them."""
    tokens, key = token_settings
    tenancy = Tenancy.open(AuthorityDatabases.load(stores.routing))
    try:
        engines = [stack.engine for stack in tenancy.stacks]
        app = create_app(
            tenancy.stacks[0].service, TokenVerifier(tokens), Limits(), routing=tenancy
        )
        caller = Caller(app, tokens, key, SOUTH)
        for _ in range(3):
            answer = caller.post("TMX", Role.TEAM_MANAGER, CHILD, {"id": "CX"}).json()
            assert answer["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert [stack.engine for stack in tenancy.stacks] == engines
        assert all(isinstance(engine, Engine) for engine in engines)
        assert tenancy.service_for(SOUTH) is tenancy.stacks[1].service
        # /readyz checks each database; /metrics reads each, labelled by database.
        assert routed_readiness(tenancy, max_lag=1_000)() == {}
        scraped = generate_latest(metrics_registry([routed_collector(tenancy)])).decode()
        for code in (NORTH, SOUTH):
            assert (
                f'oversight_projection_lag_events{{database="{code}",projection="compliance"}}'
                in scraped
            ), scraped
        assert scraped.count("# TYPE oversight_projection_lag_events gauge") == 1
    finally:
        tenancy.close()


TRAIL = """subscription($child: String!) {
  auditTrail(childId: $child, purpose: "live review") { cursor node { summary } } }"""


def _subscribe(client: TestClient, token: str, child: str) -> dict[str, Any]:
    """The first message of an audit-trail subscription, the token in connection_init."""
    with client.websocket_connect("/graphql", ["graphql-transport-ws"]) as ws:
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        ws.send_json(init)
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json({"id": "1", "type": "subscribe",
                      "payload": {"query": TRAIL, "variables": {"child": child}}})  # fmt: skip
        first: dict[str, Any] = ws.receive_json()
        ws.send_json({"id": "1", "type": "complete"})
        return first


def test_subscriptions_are_served_from_the_callers_database_only(
    stores: Stores, token_settings: tuple[TokenSettings, Path]
) -> None:
    tokens, key = token_settings
    tenancy = Tenancy.open(AuthorityDatabases.load(stores.routing))
    try:
        app = create_app(
            tenancy.stacks[0].service, TokenVerifier(tokens), Limits(), routing=tenancy
        )
        north, south = (Caller(app, tokens, key, code) for code in (NORTH, SOUTH))
        north.set_up("CN1")
        south.set_up("CS1")
        code, output = _cli(stores, "projections", "run", "--once")
        assert code == 0, output
        before = (_events(stores.north), _events(stores.south))
        with TestClient(app) as client:
            mine = _subscribe(client, north.token("TMX", Role.TEAM_MANAGER), "CN1")
            assert mine["type"] == "next", mine
            node = mine["payload"]["data"]["auditTrail"]["node"]
            assert node["summary"].startswith("Child CN1 registered"), mine
            # SOUTH-LA's manager: NORTH-LA's child is not found, and nothing is logged.
            theirs = _subscribe(client, south.token("TMX", Role.TEAM_MANAGER), "CN1")
            errors = theirs["payload"] if theirs["type"] == "error" else theirs["payload"]["errors"]
            assert errors[0]["extensions"]["code"] == "NOT_FOUND", theirs
            # A token of an authority no database here holds: the socket is closed.
            west = Caller(app, tokens, key, WEST).token("TMX", Role.TEAM_MANAGER)
            with client.websocket_connect("/graphql", ["graphql-transport-ws"]) as ws:
                ws.send_json(
                    {"type": "connection_init", "payload": {"Authorization": f"Bearer {west}"}}
                )
                with pytest.raises(WebSocketDisconnect) as closed:
                    ws.receive_json()
                assert closed.value.code == 4403
            # Its token in the upgrade's header: closed before the socket is accepted.
            with (
                pytest.raises(WebSocketDisconnect) as closed,
                client.websocket_connect(
                    "/graphql",
                    ["graphql-transport-ws"],
                    headers={"authorization": f"Bearer {west}"},
                ),
            ):
                pass
            assert closed.value.code == 4403
            # Only NORTH-LA's read was logged, in NORTH-LA's database.
            assert _events(stores.north) > before[0]
            assert _events(stores.south) == before[1]
            # SOUTH-LA's manager's own child: served from SOUTH-LA's database (not the
            # first, that answers callers without a token), and logged there only.
            north_events = _events(stores.north)
            own = _subscribe(client, south.token("TMX", Role.TEAM_MANAGER), "CS1")
            assert own["type"] == "next", own
            node = own["payload"]["data"]["auditTrail"]["node"]
            assert node["summary"].startswith("Child CS1 registered"), own
            assert _events(stores.south) > before[1]
            assert _events(stores.north) == north_events
    finally:
        tenancy.close()
