"""Subscriptions over graphql-transport-ws (both stores): a subject's audit trail, live,
and compliance changes for a team; tokens in connection_init; authority isolation."""

from __future__ import annotations

import time
from typing import Any

from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from domain import commands as c
from domain.provenance import Actor
from domain.vocabulary import Role
from graphql_api.auth import mint
from graphql_api.schema import POLL_SECONDS
from tests.graphql_api.conftest import AUTHORITY, OTHER, START, Api, at

PROTOCOL = ["graphql-transport-ws"]
TRAIL = """subscription($child: String!) {
  auditTrail(childId: $child, purpose: "live review") { cursor node { summary actorId } } }"""


def _connect(ws: Any, token: str) -> None:
    ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    assert ws.receive_json()["type"] == "connection_ack"


def _next(ws: Any) -> dict[str, Any]:
    message: dict[str, Any] = ws.receive_json()
    assert message["type"] in ("next", "error"), message
    return message


def test_a_childs_audit_trail_live(api: Api) -> None:
    token = api.token("SW1", Role.PRACTITIONER)
    with TestClient(api.app) as client, client.websocket_connect("/graphql", PROTOCOL) as ws:
        _connect(ws, token)
        ws.send_json({"id": "1", "type": "subscribe",
                      "payload": {"query": TRAIL, "variables": {"child": "C1"}}})  # fmt: skip
        first = [_next(ws)["payload"]["data"]["auditTrail"]["node"]["summary"] for _ in range(2)]
        assert first[0].startswith("Child C1 registered")
        # A new event, once projected, arrives on the open subscription.
        admin = Actor("TM1", Role.TEAM_MANAGER, AUTHORITY)
        api.application.execute(
            c.ChangeRiskLevel(command_id="risk-1", actor=admin, occurred_at=at(START, 15),
                              child_id="C1", risk_level="high", rag="red")
        )  # fmt: skip
        api.catch_up()
        summaries: list[str] = []
        while not any("high" in s.lower() for s in summaries):
            summaries.append(_next(ws)["payload"]["data"]["auditTrail"]["node"]["summary"])
            assert len(summaries) < 10, summaries
        assert any("live review" in s for s in summaries), summaries  # the read, logged
        ws.send_json({"id": "1", "type": "complete"})


def test_subscriptions_are_authorised_and_isolated(api: Api) -> None:
    with TestClient(api.app) as client:
        with client.websocket_connect("/graphql", PROTOCOL) as ws:
            _connect(ws, api.token("SW2", Role.PRACTITIONER))  # Team B
            ws.send_json({"id": "1", "type": "subscribe",
                          "payload": {"query": TRAIL, "variables": {"child": "C1"}}})  # fmt: skip
            refused = _next(ws)
            errors = (
                refused["payload"] if refused["type"] == "error" else refused["payload"]["errors"]
            )
            # A child the caller may not read: as one that does not exist (issue 23).
            assert errors[0]["extensions"]["code"] == "NOT_FOUND"
        with client.websocket_connect("/graphql", PROTOCOL) as ws:
            _connect(ws, api.token("QA9", Role.QA_AUDITOR, authority=OTHER))
            ws.send_json({"id": "1", "type": "subscribe",
                          "payload": {"query": TRAIL, "variables": {"child": "C2"}}})  # fmt: skip
            hidden = _next(ws)
            errors = hidden["payload"] if hidden["type"] == "error" else hidden["payload"]["errors"]
            assert errors[0]["extensions"]["code"] == "NOT_FOUND"
        with client.websocket_connect("/graphql", PROTOCOL) as ws:
            ws.send_json({"type": "connection_init", "payload": {"Authorization": "Bearer junk"}})
            try:
                message = ws.receive_json()
            except WebSocketDisconnect as closed:
                assert closed.code == 4403
            else:
                raise AssertionError(f"a bad token must close the socket, got {message}")


def test_compliance_changes_for_a_team(api: Api) -> None:
    token = api.token("TM1", Role.TEAM_MANAGER)
    query = """subscription { complianceChanges(team: "Team A", asOf: "2025-12-01") {
        cursor node { localId subjectKind overdue dueSoon throughPosition } } }"""
    with TestClient(api.app) as client, client.websocket_connect("/graphql", PROTOCOL) as ws:
        _connect(ws, token)
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": query}})
        manager = Actor("TM1", Role.TEAM_MANAGER, AUTHORITY)
        api.application.execute(
            c.HoldSupervisionSession(
                command_id="s-1", actor=manager, occurred_at=at(START + (START - START), 16),
                staff_id="SW1", session_id="S1", supervisor_id="TM1", duration_minutes=90,
                functions_covered=["management"], wellbeing_discussed=True,
                equality_and_diversity_discussed=True, case_discussions=[],
            )
        )  # fmt: skip
        api.catch_up()
        change = _next(ws)["payload"]["data"]["complianceChanges"]["node"]
        assert change["localId"] == "SW1" and change["subjectKind"] == "WORKER"
        assert int(change["throughPosition"]) > 0
        ws.send_json({"id": "1", "type": "complete"})
    other_team = query.replace("Team A", "Team B")
    with TestClient(api.app) as client, client.websocket_connect("/graphql", PROTOCOL) as ws:
        _connect(ws, token)
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": other_team}})
        refused = _next(ws)
        errors = refused["payload"] if refused["type"] == "error" else refused["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "FORBIDDEN"


def test_team_compliance_changes_never_cross_authorities(api: Api) -> None:
    """OTHER-LA's auditor watching "Team A" sees nothing of API-LA's Team A."""
    theirs = api.token("QA9", Role.QA_AUDITOR, authority=OTHER)
    query = """subscription { complianceChanges(team: "Team A") { node { localId } } }"""
    with TestClient(api.app) as client, client.websocket_connect("/graphql", PROTOCOL) as ws:
        _connect(ws, theirs)
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": query}})
        manager = Actor("TM1", Role.TEAM_MANAGER, AUTHORITY)
        api.application.execute(
            c.HoldSupervisionSession(
                command_id="s-x", actor=manager, occurred_at=at(START, 16), staff_id="SW1",
                session_id="SX", supervisor_id="TM1", duration_minutes=90,
                functions_covered=["management"], wellbeing_discussed=True,
                equality_and_diversity_discussed=True, case_discussions=[],
            )
        )  # fmt: skip
        api.catch_up()
        time.sleep(3 * POLL_SECONDS)  # several polls: a leak would have been sent by now
        ws.send_json({"id": "1", "type": "complete"})
        ws.send_json({"type": "ping"})
        message = ws.receive_json()
        assert message["type"] == "pong", message  # nothing of API-LA arrived before it


def test_a_live_trail_ends_when_its_reader_may_no_longer_read_the_record(api: Api) -> None:
    """Opened while C1 was SW1's; once C1 is reallocated to another team, nothing more is
    sent (not even the entry that moved it): the view ends as a new read would, NOT_FOUND."""
    admin = Actor("ADMIN", Role.ADMINISTRATOR, AUTHORITY)
    team_b = Actor("TM2", Role.TEAM_MANAGER, AUTHORITY)
    with TestClient(api.app) as client, client.websocket_connect("/graphql", PROTOCOL) as ws:
        _connect(ws, api.token("SW1", Role.PRACTITIONER))
        ws.send_json({"id": "1", "type": "subscribe",
                      "payload": {"query": TRAIL, "variables": {"child": "C1"}}})  # fmt: skip
        assert _next(ws)["payload"]["data"]["auditTrail"]["node"]["summary"].startswith(
            "Child C1 registered"
        )
        api.application.execute(
            c.AllocateWorker(command_id="move", actor=admin, occurred_at=at(START, 20),
                             child_id="C1", worker_id="SW2", reason="ORGRST", team="Team B")
        )  # fmt: skip
        api.application.execute(
            c.TriggerOversight(command_id="after-move", actor=team_b, occurred_at=at(START, 21),
                               child_id="C1", trigger_id="T-AFTER", kind="significant_incident",
                               detail="WORDS AFTER THE MOVE", incident_dates=[START])
        )  # fmt: skip
        api.catch_up()
        received: list[dict[str, Any]] = []
        while not received or received[-1]["type"] != "complete":
            received.append(ws.receive_json())
            assert len(received) < 50, received
        sent = str(received)
        assert "WORDS AFTER THE MOVE" not in sent and "Allocated to SW2" not in sent
        ended = received[-2]  # the refusal, then the server completes the subscription
        assert ended["payload"]["data"] is None, ended
        assert ended["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND", ended


def test_a_live_view_ends_when_its_token_expires(api: Api) -> None:
    """A subscription lasts as long as the token it was opened with: then one
    UNAUTHENTICATED error, and the server completes it (resume with a new token and the
    last cursor)."""
    short = mint(api.tokens, api.private_key, staff_id="SW1", role=Role.PRACTITIONER,
                 authority=AUTHORITY, lifetime_seconds=2)  # fmt: skip
    with TestClient(api.app) as client, client.websocket_connect("/graphql", PROTOCOL) as ws:
        _connect(ws, short)
        ws.send_json({"id": "1", "type": "subscribe",
                      "payload": {"query": TRAIL, "variables": {"child": "C1"}}})  # fmt: skip
        received: list[dict[str, Any]] = []
        while not received or received[-1]["type"] != "complete":
            received.append(ws.receive_json())
            assert len(received) < 100, received
        assert received[0]["payload"]["data"]["auditTrail"]["node"]["summary"].startswith(
            "Child C1 registered"
        )
        ended = received[-2]
        assert ended["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", ended
