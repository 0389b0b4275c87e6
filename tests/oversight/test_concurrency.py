"""Sixteen clients writing to the same child and the same worker at once (issue 8), on
SQLite and PostgreSQL: no update is lost, a lost race surfaces as a retryable
``ConcurrencyConflict``, and the final state is what a serial replay of the acknowledged
commands, in the order they were recorded, gives."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import orjson

from application.app import CommandResult, OversightApplication
from domain import commands as c
from domain.errors import ConcurrencyConflict
from domain.vocabulary import (
    Role,
)
from oversight.settings import DatabaseSettings
from oversight.wiring import open_application
from tests.helpers import (
    AUTHORITY,
    START,
    action,
    actor,
    common,
    setup_team,
)

CLIENTS = 16
EACH = 6


def _commands(client: int) -> list[c.Command]:
    when = START + timedelta(days=2, minutes=client)
    practitioner = actor("SW1", Role.PRACTITIONER)
    supervisor = actor("TM1", Role.SUPERVISOR)
    commands: list[c.Command] = []
    for n in range(EACH):
        commands.append(
            c.SetAction(
                **common(when, practitioner),
                child_id="C1",
                action=action(f"K{client}-{n}", START.date() + timedelta(days=40)),
            )
        )
        commands.append(
            c.ScheduleSupervisionSession(
                **common(when, supervisor),
                staff_id="SW1",
                session_id=f"K{client}-S{n}",
                supervisor_id="TM1",
                scheduled_for=when + timedelta(days=10 + n),
            )
        )
    return commands


def _streams(app: OversightApplication, *ids: Any) -> dict[Any, list[tuple[Any, ...]]]:
    """Each aggregate's events after its registration (made with random command ids)."""
    streams: dict[Any, list[tuple[Any, ...]]] = {}
    for aggregate_id in ids:
        rows = []
        for n in app.command_log.select_subject_notifications(aggregate_id)[1:]:
            state = orjson.loads(n.state)
            state.pop("timestamp")
            rows.append((n.originator_version, n.topic, state))
        streams[aggregate_id] = rows
    return streams


def test_sixteen_clients_on_one_child_and_one_worker_lose_nothing(
    database: DatabaseSettings, app: OversightApplication, other_app: OversightApplication
) -> None:
    setup_team(app)
    acknowledged: list[tuple[CommandResult, c.Command]] = []
    conflicts: list[ConcurrencyConflict] = []
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)

    def client(number: int) -> None:
        own = open_application(database)  # a client of its own: its own connections
        try:
            start.wait()
            for command in _commands(number):
                while True:
                    try:
                        result = own.execute(command)  # no retries: let races surface
                    except ConcurrencyConflict as conflict:
                        assert conflict.retryable
                        with lock:
                            conflicts.append(conflict)
                        continue  # retry, with the same idempotency key
                    with lock:
                        acknowledged.append((result, command))
                    break
        finally:
            own.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert not any(thread.is_alive() for thread in threads)

    assert len(acknowledged) == CLIENTS * EACH * 2
    assert conflicts, "the clients never raced: the test proves nothing"
    assert all(not result.replayed for result, _ in acknowledged)
    child = app.get_child(AUTHORITY, "C1")
    worker = app.get_worker(AUTHORITY, "SW1")
    assert set(child.actions) == {
        x.action["action_id"] for _, x in acknowledged if isinstance(x, c.SetAction)
    }
    assert set(worker.sessions) == {
        x.session_id for _, x in acknowledged if isinstance(x, c.ScheduleSupervisionSession)
    }

    # A serial replay of what was acknowledged, in the order it was recorded, writes
    # the same streams (bar the recording times).
    setup_team(other_app)
    for _, command in sorted(acknowledged, key=lambda pair: pair[0].position or 0):
        other_app.execute(command)
    assert _streams(other_app, child.id, worker.id) == _streams(app, child.id, worker.id)
