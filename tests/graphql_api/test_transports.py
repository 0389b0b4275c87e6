"""Transports that work as installed (issue 22 item 1, ADR 0027), on both backends.

- A subscription over graphql-transport-ws against the real server (``oversight serve``
  under uvicorn, on a loopback port): the handshake completes, and an event recorded by
  another request arrives on it.
- The IDE's page names no external URL, and every asset it names is served by the app.
- CORS: the configured origins only (none by default in production, localhost in
  development); a refused preflight is a typed FORBIDDEN.
- A 405 says what is allowed.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx2 as httpx
import pytest
from websockets.sync.client import connect

from domain.vocabulary import Role
from graphql_api.app import Cors, create_app
from graphql_api.auth import TokenSettings, TokenVerifier, development_keys, mint
from graphql_api.limits import Limits
from oversight.settings import (
    DEVELOPMENT_ORIGIN_PATTERN,
    CorsSettings,
    DatabaseSettings,
    SettingsError,
)
from tests.graphql_api.conftest import AUTHORITY, Api, _free_port

#: Long enough for a loaded machine never to reach: a bound against a hang, not a timing.
PATIENCE_SECONDS = 60

# -- the real server -------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    directory: Path

    def token(self, staff_id: str, role: Role) -> str:
        """A token signed with the server's own development key."""
        private_key, jwks = development_keys(self.directory / ".oversight")
        settings = TokenSettings(
            issuer="https://oversight.invalid/dev", audience="oversight-api",
            jwks_file=jwks, environment="development",
        )  # fmt: skip
        return mint(settings, private_key, staff_id=staff_id, role=role, authority=AUTHORITY)


@pytest.fixture
def server(api: Api, database: DatabaseSettings, tmp_path: Path) -> Iterator[Server]:
    """``oversight serve`` over the story's store, its projections in process (both
    backends), as an operator would start it."""
    port = _free_port()
    env = dict(
        os.environ,
        OVERSIGHT_DATABASE_URL=database.url,
        OVERSIGHT_ENV="development",
        OVERSIGHT_JWKS_FILE=str(tmp_path / ".oversight" / "dev-jwks.json"),
        OVERSIGHT_RATE_LIMIT_PER_SECOND="0",
    )
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "oversight.cli", "serve", "--port", str(port), "--projections"],
            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + PATIENCE_SECONDS
            while True:
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(log_path.read_text())
                time.sleep(0.1)
            yield Server(url, tmp_path)
        finally:
            process.terminate()
            process.wait(15)
    assert "Unsupported upgrade request" not in log_path.read_text()


TRAIL = """subscription {
  auditTrail(childId: "C1", purpose: "live review") { cursor node { summary } } }"""
CHANGE_RISK = """mutation { changeRiskLevel(idempotencyKey: "live-risk-1",
  input: {childId: "C1", riskLevel: "high", rag: "red"}) {
    __typename ... on CommandSuccess { position } } }"""


def test_a_subscription_over_the_installed_server_receives_another_requests_event(
    server: Server,
) -> None:
    ws_url = server.url.replace("http://", "ws://") + "/graphql"
    viewer = server.token("SM1", Role.SERVICE_MANAGER)
    with connect(
        ws_url,
        subprotocols=["graphql-transport-ws"],
        open_timeout=PATIENCE_SECONDS,  # type: ignore[list-item]
    ) as ws:
        assert ws.subprotocol == "graphql-transport-ws"
        ws.send(
            json.dumps(
                {"type": "connection_init", "payload": {"Authorization": f"Bearer {viewer}"}}
            )
        )
        assert json.loads(ws.recv(timeout=PATIENCE_SECONDS))["type"] == "connection_ack"
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": TRAIL}}))

        def next_summary() -> str:
            message = json.loads(ws.recv(timeout=PATIENCE_SECONDS))
            assert message["type"] == "next" and message["id"] == "1", message
            return str(message["payload"]["data"]["auditTrail"]["node"]["summary"])

        assert next_summary().startswith("Child C1 registered")
        # Another request, over HTTP, records an event on the child.
        manager = server.token("TM1", Role.TEAM_MANAGER)
        done = httpx.post(
            f"{server.url}/graphql",
            json={"query": CHANGE_RISK},
            headers={"authorization": f"Bearer {manager}"},
            timeout=PATIENCE_SECONDS,
        ).json()
        assert done["data"]["changeRiskLevel"]["__typename"] == "CommandSuccess", done
        summaries: list[str] = []
        while not any("high" in s.lower() for s in summaries):
            summaries.append(next_summary())
            assert len(summaries) < 20, summaries
        ws.send(json.dumps({"id": "1", "type": "complete"}))


# -- the IDE, offline ------------------------------------------------------------------------

_REFERENCES = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


def _get(app: Any, path: str, **headers: str) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            return await http.get(path, headers=headers)

    return asyncio.run(send())


def _request(app: Any, method: str, path: str, **headers: str) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            return await http.request(method, path, headers=headers)

    return asyncio.run(send())


def test_the_ide_is_served_from_the_package_with_no_external_url(api: Api) -> None:
    app = create_app(api.service, TokenVerifier(api.tokens), Limits(ide=True))
    page = _get(app, "/graphql", accept="text/html")
    assert page.status_code == 200 and "GraphiQL" in page.text
    assert not re.search(r"(?:https?:)?//[A-Za-z0-9]", _without_comments(page.text)), page.text
    references = [r for r in _REFERENCES.findall(page.text) if not r.startswith("data:")]
    assert len(references) >= 4, references  # react, react-dom, graphiql and its css
    for reference in references:
        asset = _get(app, urlsplit(urljoin("http://api/graphql", reference)).path)
        assert asset.status_code == 200, reference
        assert len(asset.content) > 1_000, reference
        assert not re.search(r"//(?:unpkg|cdn|fonts\.g)", asset.text[:10_000]), reference


def test_the_ide_is_not_served_where_it_is_off(api: Api) -> None:
    app = create_app(api.service, TokenVerifier(api.tokens), Limits(ide=False))
    assert _get(app, "/ide/graphiql.min.js").status_code == 404
    assert "GraphiQL" not in _get(app, "/graphql", accept="text/html").text


def _without_comments(html: str) -> str:
    html = re.sub(r"<!--.*?-->", "", html, flags=re.S)
    return re.sub(r"^\s*//.*$", "", html, flags=re.M)


def test_the_ide_assets_are_package_data() -> None:
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert "static/graphiql/*" in pyproject and "static/ide.html" in pyproject


# -- CORS and 405 ------------------------------------------------------------------------------

PREFLIGHT = {"access-control-request-method": "POST",
             "access-control-request-headers": "authorization, content-type"}  # fmt: skip


def _app(api: Api, cors: Cors) -> Any:
    return create_app(api.service, TokenVerifier(api.tokens), Limits(), cors=cors)


def test_a_preflight_from_an_allowed_origin_is_allowed(api: Api) -> None:
    app = _app(api, Cors(origins=("https://oversight.example",)))
    allowed = _request(app, "OPTIONS", "/graphql", origin="https://oversight.example", **PREFLIGHT)
    assert allowed.status_code == 200, allowed.text
    assert allowed.headers["access-control-allow-origin"] == "https://oversight.example"
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    # And the answer itself carries it, refusals too (a browser reads the 401).
    refused = _request(app, "GET", "/graphql", origin="https://oversight.example",
                       authorization="Bearer nonsense")  # fmt: skip
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == "https://oversight.example"


@pytest.mark.parametrize(
    ("cors", "origin"),
    [
        (Cors(), "http://localhost:3000"),  # production's default: none
        (Cors(origins=("https://oversight.example",)), "https://evil.example"),
        (Cors(origins=("https://oversight.example",)), "http://oversight.example"),
        (Cors(origin_pattern=DEVELOPMENT_ORIGIN_PATTERN), "http://localhost.evil.example"),
        (Cors(origin_pattern=DEVELOPMENT_ORIGIN_PATTERN), "https://example.org"),
    ],
)
def test_a_preflight_from_another_origin_is_refused_typed(
    api: Api, cors: Cors, origin: str
) -> None:
    refused = _request(_app(api, cors), "OPTIONS", "/graphql", origin=origin, **PREFLIGHT)
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers
    error = refused.json()["errors"][0]
    assert error["extensions"] == {"code": "FORBIDDEN", "classification": "BAD_REQUEST",
                                   "rule": "CORS"}  # fmt: skip


@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://127.0.0.1:8080",
                                    "http://localhost"])  # fmt: skip
def test_development_allows_localhost_on_any_port(api: Api, origin: str) -> None:
    app = _app(api, Cors(origin_pattern=DEVELOPMENT_ORIGIN_PATTERN))
    allowed = _request(app, "OPTIONS", "/graphql", origin=origin, **PREFLIGHT)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == origin


def test_cors_settings_from_the_environment() -> None:
    assert CorsSettings.from_env({}) == CorsSettings()
    assert CorsSettings.from_env({"OVERSIGHT_ENV": "production"}) == CorsSettings()
    assert CorsSettings.from_env({"OVERSIGHT_ENV": "development"}) == CorsSettings(
        origin_pattern=DEVELOPMENT_ORIGIN_PATTERN
    )
    given = CorsSettings.from_env(
        {"OVERSIGHT_CORS_ORIGINS": "https://a.example, https://b.example:8443/",
         "OVERSIGHT_ENV": "development"}
    )  # fmt: skip
    assert given == CorsSettings(origins=("https://a.example", "https://b.example:8443"))
    for bad in ("*", "a.example", "https://a.example/path", "ftp://a.example", "https://"):
        with pytest.raises(SettingsError, match="OVERSIGHT_CORS_ORIGINS"):
            CorsSettings.from_env({"OVERSIGHT_CORS_ORIGINS": bad})


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [("PUT", "/graphql", {"GET", "HEAD", "POST"}), ("DELETE", "/graphql", {"GET", "HEAD", "POST"}),
     ("OPTIONS", "/graphql", {"GET", "HEAD", "POST"}), ("POST", "/healthz", {"GET", "HEAD"})],
)  # fmt: skip
def test_a_405_says_what_is_allowed(api: Api, method: str, path: str, allowed: set[str]) -> None:
    response = _request(_app(api, Cors()), method, path)
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["allow"].split(",")} == allowed
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_an_unknown_path_is_not_found_typed(api: Api) -> None:
    response = _get(_app(api, Cors()), "/nothing-here")
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
