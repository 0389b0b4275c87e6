"""A subscription resumes from a payload's cursor with no gap and no repeat (issue 22
item 4, ADR 0029), on both backends.

The audit trail's: a real ``oversight serve`` under uvicorn streams a child's trail over
graphql-transport-ws; the server is SIGKILLed mid-stream; events are recorded while it is
down; a new server starts on the same store, and the client, subscribing again with the
last cursor it received, gets exactly the entries it had not had, in order, once.

Compliance changes' (in process): a second subscription from a change's cursor gets the
changes after it, and not that one again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2 as httpx
from starlette.testclient import TestClient
from websockets.sync.client import ClientConnection, connect

from domain import commands as c
from domain.provenance import Actor
from domain.vocabulary import Role
from graphql_api.auth import TokenSettings, development_keys, mint
from oversight.settings import DatabaseSettings
from projections.audit_trail import subject_trail
from tests.graphql_api.conftest import AUTHORITY, START, Api, _free_port, at

#: Long enough for a loaded machine never to reach: a bound against a hang, not a timing.
PATIENCE_SECONDS = 60

TRAIL = """subscription($after: String, $purpose: String!) {
  auditTrail(childId: "C1", after: $after, purpose: $purpose) {
    cursor node { position summary } } }"""


@contextmanager
def _serve(database: DatabaseSettings, directory: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``oversight serve`` with its projections in process, as an operator starts it."""
    port = _free_port()
    env = dict(
        os.environ,
        OVERSIGHT_DATABASE_URL=database.url,
        OVERSIGHT_ENV="development",
        OVERSIGHT_JWKS_FILE=str(directory / ".oversight" / "dev-jwks.json"),
        OVERSIGHT_RATE_LIMIT_PER_SECOND="0",
    )
    log_path = directory / f"server-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "oversight.cli", "serve", "--port", str(port), "--projections"],
            cwd=directory, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        process.port = port  # type: ignore[attr-defined]
        try:
            deadline = time.monotonic() + PATIENCE_SECONDS
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(log_path.read_text())
                time.sleep(0.1)
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(15)


def _token(directory: Path, staff_id: str, role: Role) -> str:
    """A token signed with the servers' development key (the same directory, one key)."""
    private_key, jwks = development_keys(directory / ".oversight")
    settings = TokenSettings(
        issuer="https://oversight.invalid/dev", audience="oversight-api", jwks_file=jwks,
        environment="development",
    )  # fmt: skip
    return mint(settings, private_key, staff_id=staff_id, role=role, authority=AUTHORITY)


@contextmanager
def _subscribe(
    process: subprocess.Popen[bytes], token: str, after: str | None, purpose: str
) -> Iterator[ClientConnection]:
    port = process.port  # type: ignore[attr-defined]
    with connect(
        f"ws://127.0.0.1:{port}/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        open_timeout=PATIENCE_SECONDS,
    ) as ws:
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        ws.send(json.dumps(init))
        assert json.loads(ws.recv(timeout=PATIENCE_SECONDS))["type"] == "connection_ack"
        variables = {"after": after, "purpose": purpose}
        subscribe = {"query": TRAIL, "variables": variables}
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
        yield ws


def _next_edge(ws: ClientConnection) -> dict[str, Any]:
    message = json.loads(ws.recv(timeout=PATIENCE_SECONDS))
    assert message["type"] == "next" and message["id"] == "1", message
    edge: dict[str, Any] = message["payload"]["data"]["auditTrail"]
    return edge


def _until(ws: ClientConnection, received: list[dict[str, Any]], words: str) -> None:
    """Receive edges until one's summary holds ``words``."""
    while not any(words in e["node"]["summary"] for e in received):
        received.append(_next_edge(ws))
        assert len(received) < 50, [e["node"]["summary"] for e in received]


def _change_risk(api: Api, key: str, level: str, day: int) -> None:
    manager = Actor("TM1", Role.TEAM_MANAGER, AUTHORITY)
    api.application.execute(
        c.ChangeRiskLevel(command_id=key, actor=manager, occurred_at=at(START, day),
                          child_id="C1", risk_level=level, rag="red")
    )  # fmt: skip


def test_the_audit_trail_resumes_on_a_new_server_after_a_kill(
    api: Api, database: DatabaseSettings, tmp_path: Path
) -> None:
    token = _token(tmp_path, "SM1", Role.SERVICE_MANAGER)
    first: list[dict[str, Any]] = []
    with _serve(database, tmp_path) as server, _subscribe(server, token, None, "live") as ws:
        _change_risk(api, "risk-high", "high", 15)
        _until(ws, first, "Risk level changed to high")
        # The server dies with the socket open: no close, no goodbye.
        server.send_signal(signal.SIGKILL)
        server.wait(PATIENCE_SECONDS)
    assert server.returncode == -signal.SIGKILL
    last = first[-1]["cursor"]
    # Recorded while no server runs: the client has missed these.
    _change_risk(api, "risk-low", "low", 16)
    _change_risk(api, "risk-medium", "medium", 17)
    second: list[dict[str, Any]] = []
    with _serve(database, tmp_path) as server, _subscribe(server, token, last, "resumed") as ws:
        _until(ws, second, "Risk level changed to medium")
        _until(ws, second, "purpose: resumed")  # opening it again was a logged read
    received = [int(e["node"]["position"]) for e in first + second]
    trail = subject_trail(
        api.engine, authority_code=AUTHORITY, subject_kind="child", local_id="C1", first=500
    ).entries
    # Exactly the trail, in order, once: nothing the kill lost, nothing sent twice.
    assert received == [e.position for e in trail if e.position <= received[-1]]
    assert len(set(received)) == len(received)
    missed = [e["node"]["summary"] for e in second]
    assert any("changed to low" in s for s in missed) and any("to medium" in s for s in missed)
    assert not any("changed to high" in s for s in missed)


def test_a_cursor_of_another_list_is_refused_before_the_record_is_opened(api: Api) -> None:
    token = api.token("SM1", Role.SERVICE_MANAGER)
    trail = api.query(
        """{ child(childId: "C1") { auditTrail(first: 1, kinds: [ALLOCATION]) {
            pageInfo { endCursor } } } }""",
        token,
    )["child"]["auditTrail"]["pageInfo"]["endCursor"]
    assert trail is not None
    query = """subscription($after: String) { auditTrail(childId: "C1", after: $after) {
        cursor } }"""
    with (
        TestClient(api.app) as client,
        client.websocket_connect("/graphql", ["graphql-transport-ws"]) as ws,
    ):
        ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json({"id": "1", "type": "subscribe",
                      "payload": {"query": query, "variables": {"after": trail}}})  # fmt: skip
        refused = ws.receive_json()
        errors = refused["payload"] if refused["type"] == "error" else refused["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert errors[0]["extensions"]["field"] == "after"


CHANGES = """subscription($after: String) {
  complianceChanges(team: "Team A", asOf: "2025-12-01", after: $after) {
    cursor node { localId throughPosition } } }"""


def _hold_session(api: Api, session: str, day: int) -> None:
    manager = Actor("TM1", Role.TEAM_MANAGER, AUTHORITY)
    api.application.execute(
        c.HoldSupervisionSession(
            command_id=f"s-{session}", actor=manager, occurred_at=at(START, day),
            staff_id="SW1", session_id=session, supervisor_id="TM1", duration_minutes=90,
            functions_covered=["management"], wellbeing_discussed=True,
            equality_and_diversity_discussed=True, case_discussions=[],
        )
    )  # fmt: skip
    api.catch_up()


def _changes(api: Api, token: str, after: str | None, wanted: int) -> list[dict[str, Any]]:
    with (
        TestClient(api.app) as client,
        client.websocket_connect("/graphql", ["graphql-transport-ws"]) as ws,
    ):
        ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json({"id": "1", "type": "subscribe",
                      "payload": {"query": CHANGES, "variables": {"after": after}}})  # fmt: skip
        if after is None:
            _hold_session(api, "S1", 16)  # after the subscription began: a change
        found = []
        for _ in range(wanted):
            message = ws.receive_json()
            assert message["type"] == "next", message
            found.append(message["payload"]["data"]["complianceChanges"])
        ws.send_json({"id": "1", "type": "complete"})
        return found


def test_compliance_changes_resume_from_a_changes_cursor(api: Api) -> None:
    token = api.token("TM1", Role.TEAM_MANAGER)
    (seen,) = _changes(api, token, None, 1)
    assert seen["node"]["localId"] == "SW1"
    _hold_session(api, "S2", 17)  # while no one watches
    (resumed,) = _changes(api, token, seen["cursor"], 1)
    assert resumed["node"]["localId"] == "SW1"
    assert int(resumed["node"]["throughPosition"]) > int(seen["node"]["throughPosition"])
    # Another team's cursor is not this one's.
    other = CHANGES.replace("Team A", "Team B")
    with (
        TestClient(api.app) as client,
        client.websocket_connect("/graphql", ["graphql-transport-ws"]) as ws,
    ):
        manager = api.token("SM1", Role.SERVICE_MANAGER)
        ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {manager}"}})
        assert ws.receive_json()["type"] == "connection_ack"
        variables = {"after": seen["cursor"]}
        ws.send_json({"id": "1", "type": "subscribe",
                      "payload": {"query": other, "variables": variables}})  # fmt: skip
        refused = ws.receive_json()
        errors = refused["payload"] if refused["type"] == "error" else refused["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
