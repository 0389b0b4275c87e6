"""Idempotency as clients expect it (issue 22 item 2, ADR 0027), on both backends: a
retry with the same key and input replays whatever default valid time was filled in;
the same instant in another offset is the same input; a different input is CONFLICT,
naming the key; receipts written before (the fingerprint's first form) still match
their retries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import application.app as application_app
from application.receipts import fingerprint, same_command
from domain import commands as c
from domain.provenance import Actor
from domain.vocabulary import Role
from tests.graphql_api.conftest import Api
from tests.helpers import topics

RESULT = """__typename
  ... on CommandSuccess { idempotencyKey position replayed }
  ... on ConflictProblem { message retryable reusedIdempotencyKey }
  ... on ValidationProblem { message field rule }"""
HOLD = """mutation($key: String!, $minutes: Int!, $at: DateTime) {
  holdSupervisionSession(idempotencyKey: $key, occurredAt: $at,
    input: {staffId: "SW1", sessionId: "S1", supervisorId: "TM1", durationMinutes: $minutes,
            functionsCovered: ["management", "support"], wellbeingDiscussed: true,
            equalityAndDiversityDiscussed: true, caseDiscussions: []}) { RESULT }
}""".replace("RESULT", RESULT)


def _hold(api: Api, key: str, minutes: int = 90, at: str | None = None) -> dict[str, Any]:
    token = api.token("TM1", Role.TEAM_MANAGER)
    variables: dict[str, Any] = {"key": key, "minutes": minutes, "at": at}
    result: dict[str, Any] = api.query(HOLD, token, variables)["holdSupervisionSession"]
    return result


def test_a_retry_without_occurred_at_replays_the_first_result(api: Api) -> None:
    first = _hold(api, "no-time")
    assert first["__typename"] == "CommandSuccess" and not first["replayed"]
    written = len(topics(api.application))
    again = _hold(api, "no-time")
    assert again == {**first, "replayed": True}
    assert len(topics(api.application)) == written  # nothing written again


def test_the_same_instant_in_another_offset_is_the_same_input(api: Api) -> None:
    first = _hold(api, "offsets", at="2026-03-02T10:00:00Z")
    assert first["__typename"] == "CommandSuccess"
    for same in ("2026-03-02T11:00:00+01:00", "2026-03-02T05:00:00-05:00"):
        again = _hold(api, "offsets", at=same)
        assert again == {**first, "replayed": True}, same


def test_a_retry_without_occurred_at_replays_one_that_gave_it(api: Api) -> None:
    first = _hold(api, "given-then-not", at="2026-03-02T10:00:00+00:00")
    assert _hold(api, "given-then-not") == {**first, "replayed": True}


def test_the_same_key_for_another_input_is_a_conflict_naming_the_key(api: Api) -> None:
    assert _hold(api, "reused")["__typename"] == "CommandSuccess"
    written = len(topics(api.application))
    reused = _hold(api, "reused", minutes=75)
    assert reused["__typename"] == "ConflictProblem"
    assert reused["reusedIdempotencyKey"] == "reused" and reused["retryable"] is False
    assert "'reused'" in reused["message"] and "idempotency key" in reused["message"]
    assert "command_id" not in reused["message"]
    assert len(topics(api.application)) == written


def test_the_same_key_at_another_instant_is_a_conflict(api: Api) -> None:
    assert _hold(api, "moved", at="2026-03-02T10:00:00Z")["__typename"] == "CommandSuccess"
    moved = _hold(api, "moved", at="2026-03-02T10:00:00+01:00")  # an hour earlier
    assert moved["__typename"] == "ConflictProblem" and moved["reusedIdempotencyKey"] == "moved"


def test_a_receipt_of_the_first_form_still_matches_its_retry(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A receipt written by the code before ADR 0027 holds ``Command.fingerprint()``: a
    retry of that command as it was sent (offset and all) replays; another input is
    still a conflict."""
    with monkeypatch.context() as before:
        before.setattr(
            application_app, "fingerprint_of", lambda command, **_: command.fingerprint()
        )
        first = _hold(api, "old-receipt", at="2026-03-02T11:00:00+01:00")
    assert first["__typename"] == "CommandSuccess"
    receipt = api.application.command_log.select_command_receipt("API-LA", "old-receipt")
    assert receipt is not None and not receipt.fingerprint.startswith("2:")
    again = _hold(api, "old-receipt", at="2026-03-02T11:00:00+01:00")
    assert again == {**first, "replayed": True}
    other = _hold(api, "old-receipt", minutes=60, at="2026-03-02T11:00:00+01:00")
    assert other["__typename"] == "ConflictProblem"


# -- the fingerprint itself ------------------------------------------------------------------

_ACTOR = Actor("TM1", Role.TEAM_MANAGER, "API-LA")


def _session(occurred_at: datetime, minutes: int = 90) -> c.Command:
    return c.HoldSupervisionSession(
        command_id="k", actor=_ACTOR, occurred_at=occurred_at, staff_id="SW1",
        session_id="S1", supervisor_id="TM1", duration_minutes=minutes,
        functions_covered=["management"], wellbeing_discussed=True,
        equality_and_diversity_discussed=True, case_discussions=[],
    )  # fmt: skip


_instants = st.datetimes(
    min_value=datetime(2000, 1, 2), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
)
_offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@given(_instants, _offsets, _instants)
def test_fingerprints_compare_instants_as_instants(
    when: datetime, offset: timezone, other: datetime
) -> None:
    utc = fingerprint(_session(when))
    shifted = fingerprint(_session(when.astimezone(offset)))
    assert shifted == utc
    command = _session(when.astimezone(offset))
    assert same_command(command, shifted, utc)
    # A defaulted valid time matches any: the caller did not ask for one.
    defaulted = fingerprint(_session(other), occurred_at_given=False)
    assert same_command(_session(other), defaulted, utc)
    assert same_command(command, shifted, defaulted)
    # Given on both sides, another instant is another input.
    assert same_command(_session(other), fingerprint(_session(other)), utc) == (other == when)
    # Another input is never the same command, whatever the valid times.
    longer = _session(when, minutes=91)
    assert not same_command(longer, fingerprint(longer, occurred_at_given=False), utc)


def test_the_first_form_is_matched_as_it_was_given() -> None:
    command = _session(datetime(2026, 3, 2, 11, tzinfo=timezone(timedelta(hours=1))))
    legacy = command.fingerprint()
    assert same_command(command, fingerprint(command), legacy)
    assert not same_command(
        _session(command.occurred_at, minutes=75),
        fingerprint(_session(command.occurred_at, minutes=75)),
        legacy,
    )
    assert fingerprint(_session(datetime(2026, 3, 2, 10, tzinfo=UTC))).startswith("2:")
