"""A record's state is read while its read is written to the access log, and answered
only once the log entry is committed (ADR 0035, issue 18): the same answer as reading
after the log, and nothing of the record when the log cannot be written."""

from __future__ import annotations

import time
from typing import Any

import pytest

import graphql_api.queries as queries
import graphql_api.types.records as records
from domain.events import AccessLogOpened, RecordAccessed
from domain.vocabulary import Role
from tests.graphql_api.conftest import Api
from tests.helpers import topics

STATE = """attributes { __typename } entries { id kind }
  events { kind position occurredAt recordedAt }"""
BY_VARIABLES = (
    "query($id: String!, $asOf: DateTime, $knownAt: DateTime) { child(childId: $id, "
    'purpose: "review") { childId team state(asOf: $asOf, knownAt: $knownAt) { STATE } } }'
).replace("STATE", STATE)
WORKER = (
    'query($id: String!, $asOf: DateTime) { worker(staffId: $id, purpose: "review") { '
    "staffId state(asOf: $asOf) { STATE } } }"
).replace("STATE", STATE)


def _literal(as_of: str | None, known_at: str | None) -> str:
    given = ", ".join(
        f'{name}: "{value}"'
        for name, value in (("asOf", as_of), ("knownAt", known_at))
        if value is not None
    )
    arguments = f"({given})" if given else ""
    return (
        f'query {{ child(childId: "C1", purpose: "review") {{ childId team '
        f"state{arguments} {{ {STATE} }} }} }}"
    )


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often the state field read for itself, and how often one was read beside."""
    counts = {"field": 0, "beside": 0}
    own, beside = records._state, queries.fetch_state

    async def field(*args: Any) -> Any:
        counts["field"] += 1
        return await own(*args)

    def read(*args: Any) -> Any:
        counts["beside"] += 1
        return beside(*args)

    monkeypatch.setattr(records, "_state", field)
    monkeypatch.setattr(queries, "fetch_state", read)
    return counts


@pytest.mark.parametrize(
    ("as_of", "known_at"),
    [
        (None, None),
        ("2025-09-01T00:00:00+00:00", None),
        ("2026-03-01T12:00:00+01:00", "2030-01-01T00:00:00+00:00"),
        (None, "2025-01-01T00:00:00+00:00"),  # known at an instant before the record
    ],
)
def test_a_state_read_beside_its_log_is_the_state_read_after_it(
    api: Api, reads: dict[str, int], as_of: str | None, known_at: str | None
) -> None:
    manager = api.token("SM1", Role.SERVICE_MANAGER)
    beside = api.query(BY_VARIABLES, manager, {"id": "C1", "asOf": as_of, "knownAt": known_at})
    # Given as variables, the one state asked for is read beside the log.
    assert reads == {"field": 0, "beside": 1}
    after = api.query(_literal(as_of, known_at), manager)
    # Given in the document, the field reads it itself, after the log; left out, it is
    # read beside the log again.
    given = as_of is not None or known_at is not None
    assert reads == ({"field": 1, "beside": 1} if given else {"field": 0, "beside": 2})
    assert beside == after
    assert beside["child"]["state"]["events"] or known_at == "2025-01-01T00:00:00+00:00"


def test_two_states_of_one_record_are_each_read_by_their_field(
    api: Api, reads: dict[str, int]
) -> None:
    manager = api.token("SM1", Role.SERVICE_MANAGER)
    document = (
        'query($a: DateTime, $b: DateTime) { child(childId: "C1", purpose: "review") { '
        "early: state(asOf: $a) { STATE } late: state(asOf: $b) { STATE } } }"
    ).replace("STATE", STATE)
    a, b = "2025-06-02T10:30:00+00:00", "2030-01-01T00:00:00+00:00"
    both = api.query(document, manager, {"a": a, "b": b})["child"]
    assert reads == {"field": 2, "beside": 0}
    single = api.query(BY_VARIABLES, manager, {"id": "C1", "asOf": b})["child"]["state"]
    assert both["late"] == single
    assert len(both["early"]["events"]) < len(both["late"]["events"])


def test_a_workers_file_is_read_beside_its_log_too(api: Api, reads: dict[str, int]) -> None:
    manager = api.token("SM1", Role.SERVICE_MANAGER)
    found = api.query(WORKER, manager, {"id": "SW1", "asOf": "2030-01-01T00:00:00+00:00"})
    assert reads == {"field": 0, "beside": 1}
    assert found["worker"]["staffId"] == "SW1" and found["worker"]["state"]["events"]


def test_nothing_of_a_record_is_answered_when_its_read_cannot_be_logged(
    api: Api, reads: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The state was read (beside), the log failed after it: the answer holds no part of
    the record (neither its state nor the relationship fields), and the error says why."""
    manager = api.token("SM1", Role.SERVICE_MANAGER)
    before = len(topics(api.application))

    def failing(*_: Any, **__: Any) -> None:
        time.sleep(0.05)  # the read beside it finishes first
        raise OSError("the event store is unreachable")

    monkeypatch.setattr(api.service, "log_read", failing)
    response = api.raw(
        {"query": BY_VARIABLES, "variables": {"id": "C1", "asOf": None}},
        manager,
        accept="application/graphql-response+json",
    )
    body = response.json()
    assert reads == {"field": 0, "beside": 1}  # read, and then withheld
    assert body.get("data") in (None, {"child": None}), body
    assert body["errors"] and body["errors"][0]["path"] == ["child"], body
    assert "C1" not in response.text and "Team A" not in response.text
    assert topics(api.application)[before:] == []
    # The same request, the log working again: answered, and logged.
    monkeypatch.undo()
    found = api.query(BY_VARIABLES, manager, {"id": "C1"})
    assert found["child"]["team"] == "Team A"
    assert topics(api.application)[before:] == [
        AccessLogOpened.__name__,  # C1's first logged read opens its log
        RecordAccessed.__name__,
    ]


def test_nothing_is_fetched_for_a_caller_who_may_not_read_the_record(
    api: Api, reads: dict[str, int]
) -> None:
    """Authorisation comes first (ADR 0036): a practitioner asking for another team's
    child gets the answer a missing child gets, and no state is fetched or logged."""
    before = len(topics(api.application))
    stranger = api.token("SW2", Role.PRACTITIONER)
    error = api.error(BY_VARIABLES, stranger, {"id": "C1"})
    assert error["path"] == ["child"]
    assert reads == {"field": 0, "beside": 0}
    assert topics(api.application)[before:] == []
    # The practitioner the child is allocated to: fetched beside the log, and logged.
    own = api.query(BY_VARIABLES, api.token("SW1", Role.PRACTITIONER), {"id": "C1"})
    assert own["child"]["childId"] == "C1" and reads == {"field": 0, "beside": 1}
